/**
 * A Bulk Export job Twilio does not finish: the snapshot waits `--export-wait` minutes in all
 * (default a day), then stops with an error naming the job, the account and the days, exit 1.
 * Nothing it did not read counts as read (the run is not completed: no coverage, no list), and
 * the same snapshot run again takes the job up once Twilio has made the files, rather than ask
 * for them again. The emulator's job takes an hour; its clock and the run's are one injected
 * clock that the run's waits move on, so no test waits on the real one.
 */

import { describe, expect, it } from 'vitest';

import { withDb } from '../../src/db/open.js';
import { UserError } from '../../src/errors.js';
import { exportOptOuts } from '../../src/optouts/export.js';
import { takeSnapshot, type SnapshotInput } from '../../src/optouts/snapshot.js';
import { requestLog } from '../support/emulator.js';
import { useCliWorkspaceEach } from '../support/migration.js';
import {
  fixedClock,
  MIGRATIONS_DIR,
  readOnly,
  TEST_RUNNER,
  withLedger,
} from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const LOCAL = '+14155550180';
const OLD_STOP = '+12025550681'; // STOP 600 days ago: only Bulk Export has it

describe('snapshot: a Bulk Export job that does not finish', () => {
  let now = NOW;
  // A fresh emulator for each test: one test's job and files are not the other's.
  const ws = useCliWorkspaceEach(
    {
      numbers: [{ phone_number: LOCAL }],
      messages: [
        // The oldest record the API shows is at the start of its window: it shows 400 days.
        {
          from: LOCAL,
          to: '+12025550682',
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

  const jobsCreated = async () =>
    (await requestLog(ws.env)).filter(
      (r) => r.method === 'POST' && r.path.endsWith('/Exports/Messages/Jobs'),
    ).length;

  /** A snapshot on the shared clock; each wait moves it on, up to `giveUpAfter` in all. */
  const take = (dbPath: string, input: Partial<SnapshotInput>, notices: string[]) => {
    const started = now;
    const clock = { now: () => new Date(now) };
    return withDb({ path: dbPath, migrationsDir: MIGRATIONS_DIR, clock }, (db) =>
      takeSnapshot(
        { accounts: [], since: null, until: null, partitions: 2, ...input },
        {
          twilio: ws.env.port(),
          db,
          clock,
          runner: TEST_RUNNER,
          onNotice: (text) => notices.push(text),
          sleep: (ms) => {
            now += ms;
            // Without a limit the run would poll until Twilio is done: an hour here.
            return now - started > 3 * 60 * MINUTE
              ? Promise.reject(new Error('still waiting for the job after 3 hours'))
              : Promise.resolve();
          },
        },
      ),
    );
  };

  it('stops after --export-wait with an error, claims no coverage, and takes the job up when run again', async () => {
    now = NOW;
    // Twilio takes an hour to make this job's files.
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
    const dbPath = ws.dir.file('wait.db');
    const notices: string[] = [];
    const started = now;
    const error = await take(dbPath, { exportWaitMinutes: 30 }, notices).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    const [jobSid] = readOnly(dbPath, (db) =>
      db.prepare('SELECT job_sid FROM snapshot_export_jobs').pluck().all(),
    ) as string[];
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Twilio's Bulk Export job ${jobSid} has not made \\d+ day file\\(s\\) \\(\\d{4}-\\d\\d-\\d\\d … \\d{4}-\\d\\d-\\d\\d\\) of ${ws.env.parentSid} after the snapshot waited 30 minutes for its jobs \\(--export-wait\\): those days are not read`,
      ),
    );
    // It waited the limit, to the minute, and said so when it began.
    expect(now - started).toBe(30 * MINUTE);
    expect(notices).toEqual([
      expect.stringContaining(
        `at most (--export-wait 30 minutes). Stopping now is safe: the same snapshot run again`,
      ),
    ]);
    // Nothing counts as read: the run is not completed, so there is no list to vouch for.
    expect(
      readOnly(dbPath, (db) => db.prepare('SELECT status FROM snapshot_runs').pluck().all()),
    ).toEqual(['running']);
    await expect(withLedger(dbPath, (db) => exportOptOuts(db))).rejects.toThrow(
      /holds no completed snapshot/,
    );

    // Two hours on, Twilio has made the files: the same snapshot takes the job up.
    now += 120 * MINUTE;
    const result = await take(dbPath, {}, []);
    expect(result.resumed).toBe(true);
    expect(await jobsCreated()).toBe(1);
    const exported = await withLedger(dbPath, (db) => exportOptOuts(db));
    expect(exported.optouts.map((row) => row.recipient)).toEqual([OLD_STOP]);
    expect(exported.coverage.not_read).toEqual([]);
  });

  it('a job Twilio gives no estimate for is asked about less and less often, not four times a second', async () => {
    now = NOW;
    // An hour to make the files, and Twilio's answers say nothing of when (or were late on it).
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
    const port = ws.env.port();
    const noEstimate = <T extends { estimatedCompletion: Date | null }>(job: T): T => ({
      ...job,
      estimatedCompletion: null,
    });
    const twilio: typeof port = Object.assign(Object.create(port) as typeof port, {
      createExportJob: async (...args: Parameters<typeof port.createExportJob>) =>
        noEstimate(await port.createExportJob(...args)),
      fetchExportJob: async (...args: Parameters<typeof port.fetchExportJob>) => {
        const job = await port.fetchExportJob(...args);
        return job === null ? null : noEstimate(job);
      },
    });
    const waits: number[] = [];
    await withDb(
      {
        path: ws.dir.file('no-estimate.db'),
        migrationsDir: MIGRATIONS_DIR,
        clock: { now: () => new Date(now) },
      },
      (db) =>
        takeSnapshot(
          { accounts: [], since: null, until: null, partitions: 2 },
          {
            twilio,
            db,
            clock: { now: () => new Date(now) },
            runner: TEST_RUNNER,
            sleep: (ms) => {
              waits.push(ms);
              now += ms;
              return Promise.resolve();
            },
          },
        ),
    );
    // The first wait is short (a job may be quick), each next one longer, up to ten seconds.
    expect(waits.slice(0, 4)).toEqual([250, 500, 1000, 2000]);
    expect(Math.max(...waits)).toBe(10_000);
    for (let i = 1; i < waits.length; i += 1)
      expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1]!);
    // An hour of waiting took some 360 polls (at 250 ms each it would have been 14,400).
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3600_000);
    expect(waits.length).toBeLessThan(3600 / 10 + 10);
  });

  it('jobs that vanish: after three, an error that names the days (not a bug report)', async () => {
    now = NOW;
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
    const jobs = ws.env.parent.bulkexports.v1.exports('Messages').exportCustomJobs;
    const error = await withDb(
      { path: ws.dir.file('vanish.db'), migrationsDir: MIGRATIONS_DIR, clock: fixedClock(NOW) },
      (db) =>
        takeSnapshot(
          { accounts: [], since: null, until: null, partitions: 2 },
          {
            twilio: ws.env.port(),
            db,
            clock: fixedClock(NOW),
            runner: TEST_RUNNER,
            // Someone deletes every job while the run waits for it (Twilio then answers 404).
            sleep: async () => {
              for (const job of await jobs.list()) {
                await ws.env.parent.bulkexports.v1.exports.jobs(job.jobSid).remove();
              }
            },
          },
        ),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(
      /^Bulk Export did not make the files of AC\w+ for \d+ day file\(s\) \(\d{4}-\d\d-\d\d … \d{4}-\d\d-\d\d\) after 3 jobs/,
    );
    expect(await jobsCreated()).toBe(3);
  });

  it('the CLI: --export-wait 0 stops at the first wait, exit 1, and optouts has no list', async () => {
    now = NOW;
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
    const db = ws.dir.file('cli.db');
    const run = await ws.cli(['snapshot', '--export-wait', '0', '--db', db]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: Twilio's Bulk Export job JS\w+ has not made \d+ day file\(s\) \(.*\) of AC\w+ after the snapshot waited 0 minutes for its jobs \(--export-wait\)/m,
    );
    const optouts = await ws.cli(['optouts', '--db', db]);
    expect(optouts.code).toBe(1);
    expect(optouts.stderr).toMatch(/holds no completed snapshot/);

    const refused = await ws.cli(['snapshot', '--export-wait', '-5', '--db', db]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--export-wait must be a number of minutes, 0 or more, got -5/);
  });
});
