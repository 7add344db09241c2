/**
 * Bulk Export days Twilio marks as never to be made in their job (`Failed`, `ErrorDuringRun`,
 * `RunningToBeDeleted`, `DeletedByUserRequest`): the snapshot asks for such a day again at
 * once, in a new job, rather than wait on it until `--export-wait` runs out. A day that fails
 * in every job the run may make for its account (three) stops the run with exit 1, naming the
 * account and the day; nothing counts it as read, and a run killed and resumed meanwhile never
 * does either. The emulator fails the days (`POST /__emulator/export-failures`); its clock and
 * the in-process runs' are one injected clock that the runs' waits move on.
 */

import { existsSync } from 'node:fs';

import { afterAll, describe, expect, it } from 'vitest';

import { withDb } from '../../src/db/open.js';
import { dayOf } from '../../src/emulator/exports/day-files.js';
import { UserError } from '../../src/errors.js';
import { exportOptOuts } from '../../src/optouts/export.js';
import { takeSnapshot } from '../../src/optouts/snapshot.js';
import type { ExportJobStatus, TwilioPort } from '../../src/twilio/port.js';
import { requestLog } from '../support/emulator.js';
import { useCliWorkspaceEach } from '../support/migration.js';
import {
  cliEnv,
  MIGRATIONS_DIR,
  pollUntil,
  readOnly,
  runCli,
  startCli,
  TEST_RUNNER,
  withLedger,
  type RunningCli,
} from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const LOCAL = '+14155550190';
const OLD_STOP = '+12025550691'; // STOP 600 days ago: only Bulk Export has it
const STOP_DAY = dayOf(NOW - 600 * DAY);

/**
 * The port with its Bulk Export answers changed where Twilio's may read as the emulator's do
 * not: a job's answer on creation (`created`), and each answer on a job Twilio still knows
 * (`fetched`).
 */
function answering(
  port: TwilioPort,
  change: {
    created?: (job: ExportJobStatus) => ExportJobStatus;
    fetched?: (job: ExportJobStatus) => ExportJobStatus;
  },
): TwilioPort {
  const { created = (job) => job, fetched = (job) => job } = change;
  return {
    ...port,
    createExportJob: async (...args) => created(await port.createExportJob(...args)),
    fetchExportJob: async (...args) => {
      const job = await port.fetchExportJob(...args);
      return job === null ? null : fetched(job);
    },
  };
}

/** A snapshot through `twilio` on a clock only its waits move on (`--export-wait` if given). */
function snapshotThrough(
  dbPath: string,
  twilio: TwilioPort,
  time: { now: () => number; wait: (ms: number) => void },
  exportWaitMinutes?: number,
) {
  const clock = { now: () => new Date(time.now()) };
  return withDb({ path: dbPath, migrationsDir: MIGRATIONS_DIR, clock }, (db) =>
    takeSnapshot(
      { accounts: [], since: null, until: null, partitions: 2, exportWaitMinutes },
      { twilio, db, clock, runner: TEST_RUNNER, sleep: async (ms) => time.wait(ms) },
    ),
  );
}

describe('snapshot: Bulk Export days Twilio marks failed', () => {
  let now = NOW;
  const ws = useCliWorkspaceEach(
    {
      numbers: [{ phone_number: LOCAL }],
      messages: [
        {
          from: LOCAL,
          to: '+12025550692',
          body: 'Your code is 1234',
          direction: 'outbound-api',
          date_sent: new Date(NOW - 399.9 * DAY).toISOString(),
        },
        {
          from: OLD_STOP,
          to: LOCAL,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 600 * DAY).toISOString(),
        },
      ],
    },
    { now: () => now },
  );
  const running: RunningCli[] = [];
  afterAll(async () => {
    for (const cli of running) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await Promise.all(running.map((cli) => cli.done));
  });

  const jobs = () => ws.env.emulator.state.exports.jobsOf(ws.env.parentSid);
  const jobsCreated = async () =>
    (await requestLog(ws.env)).filter(
      (r) => r.method === 'POST' && r.path.endsWith('/Exports/Messages/Jobs'),
    ).length;
  const dayStatus = (dbPath: string, day: string) =>
    readOnly(dbPath, (db) =>
      db.prepare('SELECT status FROM snapshot_export_days WHERE day = ?').pluck().get(day),
    );
  const runStatus = (dbPath: string) =>
    readOnly(dbPath, (db) => db.prepare('SELECT status FROM snapshot_runs').pluck().all());

  /** A snapshot on the shared clock; each wait moves it on (and fails the test past a day). */
  const take = (dbPath: string) => {
    const started = now;
    const clock = { now: () => new Date(now) };
    return withDb({ path: dbPath, migrationsDir: MIGRATIONS_DIR, clock }, (db) =>
      takeSnapshot(
        { accounts: [], since: null, until: null, partitions: 2 },
        {
          twilio: ws.env.port(),
          db,
          clock,
          runner: TEST_RUNNER,
          sleep: (ms) => {
            now += ms;
            return now - started > 1440 * MINUTE
              ? Promise.reject(new Error('still waiting after the whole --export-wait'))
              : Promise.resolve();
          },
        },
      ),
    );
  };

  for (const status of ['Failed', 'ErrorDuringRun', 'RunningToBeDeleted', 'DeletedByUserRequest']) {
    it(`a day marked ${status} is asked for again at once in a new job, read, and the run completes`, async () => {
      now = NOW;
      // Twilio takes an hour per job, and fails the day the STOP is on in the first.
      await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
      await ws.env.control('POST', '/__emulator/export-failures', {
        days: [STOP_DAY],
        status,
        jobs: 1,
      });
      const dbPath = ws.dir.file('again.db');
      const started = now;
      const result = await take(dbPath);
      expect(result.resumed).toBe(false);
      // The first job's hour, then the second's: not the day of --export-wait.
      expect(now - started).toBeLessThanOrEqual(2 * 60 * MINUTE + 10_000);
      const [first, second, ...more] = jobs();
      expect(more).toEqual([]);
      // The first job asked for every day Bulk Export has to give, the STOP's the oldest.
      expect(first!.startDay).toBe(STOP_DAY);
      expect(first!.endDay > STOP_DAY).toBe(true);
      // The second job asks for the failed day alone: the first made the others.
      expect([second!.startDay, second!.endDay]).toEqual([STOP_DAY, STOP_DAY]);
      expect(await jobsCreated()).toBe(2);
      expect(dayStatus(dbPath, STOP_DAY)).toBe('done');
      const exported = await withLedger(dbPath, (db) => exportOptOuts(db));
      expect(exported.optouts.map((row) => row.recipient)).toEqual([OLD_STOP]);
      expect(exported.coverage.not_read).toEqual([]);
    });
  }

  it('a job whose creation answer lists none of its days is polled, not asked for again at once', async () => {
    now = NOW;
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
    // Twilio's definition does not say the creation answer lists the job's days (its example's
    // `details` is `[{}]`): the port's answer stripped of them, as such an answer would read.
    const twilio = answering(ws.env.port(), {
      created: (job) => ({
        ...job,
        completedDays: [],
        emptyDays: [],
        pendingDays: [],
        failedDays: [],
      }),
    });
    const dbPath = ws.dir.file('unlisted.db');
    await snapshotThrough(dbPath, twilio, {
      now: () => now,
      wait: (ms) => void (now += ms),
    });
    expect(jobs()).toHaveLength(1);
    expect(dayStatus(dbPath, STOP_DAY)).toBe('done');
  });

  it('a day that fails in every job: after three, an error naming the account and the day, not after --export-wait', async () => {
    now = NOW;
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
    await ws.env.control('POST', '/__emulator/export-failures', { days: [STOP_DAY] });
    const dbPath = ws.dir.file('fails.db');
    const started = now;
    const error = await take(dbPath).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    const made = jobs().map((job) => job.sid);
    expect(made).toHaveLength(3);
    expect((error as Error).message).toBe(
      `Bulk Export did not make the files of ${ws.env.parentSid} for 1 day file(s) (${STOP_DAY} … ${STOP_DAY}) after 3 jobs, ` +
        `Twilio marking them failed (the last time: ${STOP_DAY} Failed in ${made[2]}): ` +
        'those days are not read, and no coverage counts them as read. Run the same snapshot again to ask Twilio anew.',
    );
    // Three jobs of an hour each, no more.
    expect(now - started).toBeLessThanOrEqual(3 * 60 * MINUTE + 10_000);
    // The other days were read; the failed one is not, and the run is not completed.
    expect(dayStatus(dbPath, STOP_DAY)).toBe('pending');
    expect(
      readOnly(dbPath, (db) =>
        db.prepare("SELECT count(*) FROM snapshot_export_days WHERE status = 'done'").pluck().get(),
      ),
    ).toBeGreaterThan(100);
    expect(runStatus(dbPath)).toEqual(['running']);
    await expect(withLedger(dbPath, (db) => exportOptOuts(db))).rejects.toThrow(
      /holds no completed snapshot/,
    );
  });

  it('the CLI: a day that fails every time ends in exit 1 naming it, and optouts has no list', async () => {
    now = NOW;
    await ws.env.control('POST', '/__emulator/export-failures', {
      days: [STOP_DAY],
      status: 'ErrorDuringRun',
    });
    const db = ws.dir.file('cli.db');
    const run = await runCli(['snapshot', '--db', db], cliEnv(ws.env));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: Bulk Export did not make the files of ${ws.env.parentSid} for 1 day file\\(s\\) \\(${STOP_DAY} … ${STOP_DAY}\\) after 3 jobs, Twilio marking them failed \\(the last time: ${STOP_DAY} ErrorDuringRun in JS[0-9a-f]{32}\\)`,
        'm',
      ),
    );
    expect(await jobsCreated()).toBe(3);
    const optouts = await runCli(['optouts', '--db', db], cliEnv(ws.env));
    expect(optouts.code).toBe(1);
    expect(optouts.stderr).toMatch(/holds no completed snapshot/);
  });

  it('killed after a day failed and was asked for again: the day is not counted read; resumed, the new job is taken up and read', async () => {
    now = NOW;
    // A job takes a second of the emulator's clock, which stands still until the test moves
    // it: the run polls (Twilio's estimate already past by the CLI's clock) until it does.
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 1 });
    await ws.env.control('POST', '/__emulator/export-failures', { days: [STOP_DAY], jobs: 1 });
    const dbPath = ws.dir.file('killed.db');
    const first = startCli(['snapshot', '--db', dbPath], cliEnv(ws.env));
    running.push(first);
    const alive = () => {
      if (first.child.exitCode !== null) throw new Error('the snapshot ended before the kill');
    };
    await pollUntil('the first job', () => (alive(), jobs().length === 1 ? true : undefined));
    // The first job completes, the STOP's day failed in it: the run asks for it again.
    now += 1000;
    await pollUntil('the second job', () => (alive(), jobs().length === 2 ? true : undefined));
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    expect(existsSync(dbPath)).toBe(true);
    expect(dayStatus(dbPath, STOP_DAY)).toBe('pending');
    expect(runStatus(dbPath)).toEqual(['running']);
    const optouts = await runCli(['optouts', '--db', dbPath], cliEnv(ws.env));
    expect(optouts.code).toBe(1);
    expect(optouts.stderr).toMatch(/holds no completed snapshot/);

    // The second job completes: the resumed run takes it up (no third job) and reads the day.
    now += 1000;
    const again = await runCli(['snapshot', '--db', dbPath], cliEnv(ws.env));
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^snapshot run 1 \(resumed\)/);
    expect(jobs()).toHaveLength(2);
    expect(dayStatus(dbPath, STOP_DAY)).toBe('done');
    const exported = await withLedger(dbPath, (db) => exportOptOuts(db));
    expect(exported.optouts.map((row) => row.recipient)).toEqual([OLD_STOP]);
    expect(exported.coverage.not_read).toEqual([]);
  });
});

describe('snapshot: --export-wait runs out with the days in more than one job', () => {
  let now = NOW;
  const ws = useCliWorkspaceEach(
    {
      numbers: [{ phone_number: LOCAL }],
      messages: [
        {
          from: OLD_STOP,
          to: LOCAL,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 600 * DAY).toISOString(),
        },
      ],
    },
    { now: () => now },
  );

  it('the error names every job still making a day left, not the newest alone', async () => {
    now = NOW;
    // Jobs that take a day; the STOP's day fails in the first.
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 86_400 });
    await ws.env.control('POST', '/__emulator/export-failures', { days: [STOP_DAY], jobs: 1 });
    // Twilio marks a day of a job Failed while its other days still run (each day has its own
    // status in `details`); the emulator shows a failure only once the job completes: the
    // port's answer shows the first job's failed day as Twilio would, before then.
    let first: string | null = null;
    const twilio = answering(ws.env.port(), {
      created: (job) => {
        first ??= job.jobSid;
        return job;
      },
      fetched: (job) =>
        job.jobSid !== first || !job.pendingDays.includes(STOP_DAY)
          ? job
          : {
              ...job,
              pendingDays: job.pendingDays.filter((day) => day !== STOP_DAY),
              failedDays: [{ day: STOP_DAY, status: 'Failed' }],
            },
    });
    const dbPath = ws.dir.file('two-jobs.db');
    const error = await snapshotThrough(
      dbPath,
      twilio,
      { now: () => now, wait: (ms) => void (now += ms) },
      60,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    const [one, two, ...more] = ws.env.emulator.state.exports.jobsOf(ws.env.parentSid);
    expect(more).toEqual([]);
    // The second job makes the STOP's day alone; the first, every other day left.
    expect([two!.startDay, two!.endDay]).toEqual([STOP_DAY, STOP_DAY]);
    expect(one!.endDay > STOP_DAY).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/after the snapshot waited 60 minutes for its jobs \(--export-wait\)/);
    // Each job with the days it is making: the newest (the failed day asked for again) first.
    const left = Number(/ not made (\d+) day file/.exec(message)?.[1]);
    expect(message).toContain(
      `Twilio's Bulk Export jobs ${two!.sid} (1 of them), ${one!.sid} (${left - 1} of them) have not made ${left} day file(s) (${STOP_DAY} … `,
    );
  });
});
