/**
 * History older than the Messages API shows: the emulator hides records past each account's
 * retention window exactly as Twilio does, and keeps them in Bulk Export day files. The
 * snapshot reads the API for its window and the day files for everything older:
 *
 * - without Bulk Export (`--no-export`) a STOP older than 400 days is missing and the
 *   coverage names the span that was not read;
 * - with it, the pair is on the list with that STOP as its evidence, and the coverage says
 *   which windows came from which source;
 * - an account whose owner cut the window to 30 days while the tool assumes 400: the API's
 *   oldest record gives it away, and the days in between come from Bulk Export;
 * - the day files' signed URLs never see a Twilio credential (the storage would refuse one).
 */

import { beforeAll, describe, expect, it } from 'vitest';

import { isoSeconds } from '../../src/clock.js';
import type { DownloadLogEntry } from '../../src/emulator/exports/storage.js';
import { withDb } from '../../src/db/open.js';
import { exportOptOuts, type OptOutExport } from '../../src/optouts/export.js';
import { takeSnapshot } from '../../src/optouts/snapshot.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  fixedClock,
  MIGRATIONS_DIR,
  readOnly,
  snapshotInto,
  TEST_RUNNER,
  withLedger,
} from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const ago = (days: number) => new Date(NOW - days * DAY).toISOString();

const LOCAL = '+14155550140';
const OLD_STOP = '+12025550601'; // STOP 600 days ago, never took back
const OLD_THEN_START = '+12025550602'; // STOP 700 days ago, START 650 days ago
const RECENT_STOP = '+12025550603'; // STOP 20 days ago
const MID_STOP = '+12025550604'; // STOP 100 days ago: inside 400 days, outside 30

describe('snapshot: the Messages API window and Bulk Export', () => {
  const ws = useCliWorkspace(undefined, NOW);
  let oldStopSid: string;

  beforeAll(async () => {
    await ws.env.seed({
      numbers: [{ phone_number: LOCAL }],
      messages: [
        { from: OLD_STOP, to: LOCAL, body: 'STOP', direction: 'inbound', date_sent: ago(600) },
        {
          from: OLD_THEN_START,
          to: LOCAL,
          body: 'STOP',
          direction: 'inbound',
          date_sent: ago(700),
        },
        {
          from: OLD_THEN_START,
          to: LOCAL,
          body: 'START',
          direction: 'inbound',
          date_sent: ago(650),
        },
        { from: MID_STOP, to: LOCAL, body: 'stop', direction: 'inbound', date_sent: ago(100) },
        { from: RECENT_STOP, to: LOCAL, body: 'Stop', direction: 'inbound', date_sent: ago(20) },
        // Traffic right after the API's boundary: its oldest record is where it should be.
        {
          from: LOCAL,
          to: '+12025550701',
          body: 'hi',
          direction: 'outbound-api',
          date_sent: ago(399.9),
        },
        ...Array.from({ length: 30 }, (_, i) => ({
          from: LOCAL,
          to: '+12025550700',
          body: `reminder ${i}`,
          direction: 'outbound-api' as const,
          date_sent: ago(900 - i * 30),
        })),
      ],
    });
    oldStopSid = ws.env.emulator.state.messages
      .between(ws.env.parentSid, 0, NOW)
      .find((m) => m.from === OLD_STOP)!.sid;
  });

  const recipients = (result: OptOutExport) => result.optouts.map((row) => row.recipient).sort();
  const downloads = () => ws.env.control<DownloadLogEntry[]>('GET', '/__emulator/downloads');

  it('the emulator hides what is older than 400 days from the Messages API', async () => {
    const page = await ws.env.port().readMessagesPage(ws.env.parentSid, {
      filter: {},
      pageSize: 1000,
    });
    expect(page.messages.some((m) => m.sid === oldStopSid)).toBe(false);
    expect(page.lastDateSent!.getTime()).toBeGreaterThanOrEqual(NOW - 400 * DAY);
  });

  it('--no-export: the old STOP is missing, and the coverage names the span not read', async () => {
    const dbPath = ws.dir.file('no-export.db');
    const result = await snapshotInto(dbPath, ws.env.port(), fixedClock(NOW), { useExport: false });
    expect(result.exportDays).toBe(0);
    const exported = await withLedger(dbPath, (db) => exportOptOuts(db));
    expect(recipients(exported)).toEqual([MID_STOP, RECENT_STOP].sort());
    const created = ws.env.emulator.state.account(ws.env.parentSid)!.dateCreated;
    expect(exported.coverage.windows).toEqual([
      {
        account_sid: ws.env.parentSid,
        source: 'api',
        start: isoSeconds(new Date(NOW - 400 * DAY)),
        end: isoSeconds(new Date(NOW)),
      },
    ]);
    expect(exported.coverage.not_read).toEqual([
      {
        account_sid: ws.env.parentSid,
        start: isoSeconds(new Date(created)),
        end: isoSeconds(new Date(NOW - 400 * DAY)),
      },
    ]);
    expect(await downloads()).toEqual([]);
  });

  it('with Bulk Export: the STOP from 600 days ago is on the list with its evidence, nothing unread', async () => {
    await ws.env.control('DELETE', '/__emulator/downloads');
    const dbPath = ws.dir.file('export.db');
    const result = await snapshotInto(dbPath, ws.env.port(), fixedClock(NOW));
    const exported = await withLedger(dbPath, (db) => exportOptOuts(db));
    expect(recipients(exported)).toEqual([OLD_STOP, MID_STOP, RECENT_STOP].sort());
    const old = exported.optouts.find((row) => row.recipient === OLD_STOP)!;
    expect(old.stop_message_sid).toBe(oldStopSid);
    expect(old.opted_out_at).toBe(isoSeconds(new Date(ago(600))));
    expect(exported.coverage.not_read).toEqual([]);
    expect(exported.coverage.windows.map((w) => [w.source, w.start, w.end])).toEqual([
      [
        'export',
        isoSeconds(new Date(ws.env.emulator.state.account(ws.env.parentSid)!.dateCreated)),
        isoSeconds(new Date(NOW - 400 * DAY)),
      ],
      ['api', isoSeconds(new Date(NOW - 400 * DAY)), isoSeconds(new Date(NOW))],
    ]);
    // One file per day with messages before the boundary, each read once, none refused.
    const log = await downloads();
    const olderDays = new Set(
      ws.env.emulator.state.messages
        .between(ws.env.parentSid, 0, NOW - 399 * DAY)
        .map((m) => new Date(m.dateSent).toISOString().slice(0, 10)),
    );
    expect(log.map((d) => d.status)).toEqual(log.map(() => 200));
    expect(log.map((d) => d.path.slice(-18, -8)).sort()).toEqual([...olderDays].sort());
    // The boundary day's file also holds what the API read after the boundary: counted once,
    // as the API's. Every message of the account, once.
    expect(result.exportMessagesRead).toBe(
      ws.env.emulator.state.messages
        .between(ws.env.parentSid, 0, NOW)
        .filter((m) => m.dateSent < NOW - 400 * DAY).length,
    );
    expect(result.messagesRead).toBe(
      ws.env.emulator.state.messages.between(ws.env.parentSid, 0, NOW).length,
    );
  });

  it('a window shorter than assumed (30 days) shows in the API’s oldest record: the days between come from Bulk Export', async () => {
    await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 30 });
    try {
      const dbPath = ws.dir.file('short-window.db');
      const result = await snapshotInto(dbPath, ws.env.port(), fixedClock(NOW));
      const exported = await withLedger(dbPath, (db) => exportOptOuts(db));
      // MID_STOP (100 days ago) is invisible to this API, and still on the list.
      expect(recipients(exported)).toEqual([OLD_STOP, MID_STOP, RECENT_STOP].sort());
      expect(exported.coverage.not_read).toEqual([]);
      const api = exported.coverage.windows.find((w) => w.source === 'api')!;
      // The API's window is said to start where its records do (no later than 30 days back).
      expect(Date.parse(api.start)).toBeGreaterThanOrEqual(NOW - 30 * DAY);
      expect(result.exportDays).toBeGreaterThan(360);
      const days = readOnly(dbPath, (db) =>
        db
          .prepare("SELECT day FROM snapshot_export_days WHERE status = 'done' ORDER BY day")
          .pluck()
          .all(),
      ) as string[];
      expect(days).toContain(ago(100).slice(0, 10));
    } finally {
      await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 400 });
    }
  });

  it('a window a run without Bulk Export took on trust (as plan reads) is checked by the next snapshot, which reads what the API hid', async () => {
    await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 30 });
    try {
      const dbPath = ws.dir.file('short-window-no-export.db');
      await snapshotInto(dbPath, ws.env.port(), fixedClock(NOW), { useExport: false });
      const first = await withLedger(dbPath, (db) => exportOptOuts(db));
      // The API hid MID_STOP (100 days back); the window assumed stands for now.
      expect(recipients(first)).not.toContain(MID_STOP);
      // A plain snapshot after it checks that window and reads the days the API hid (a review
      // found it trusting the window, and the STOP lost for good).
      await snapshotInto(dbPath, ws.env.port(), fixedClock(NOW));
      const after = await withLedger(dbPath, (db) => exportOptOuts(db));
      expect(recipients(after)).toEqual([OLD_STOP, MID_STOP, RECENT_STOP].sort());
      expect(after.coverage.not_read).toEqual([]);
      // The API is said to have shown what it showed (30 days), not the 400 taken on trust.
      const api = after.coverage.windows.find((w) => w.source === 'api')!;
      expect(Date.parse(api.start)).toBeGreaterThanOrEqual(NOW - 31 * DAY);
    } finally {
      await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 400 });
    }
  });

  it('never sends a Twilio credential to a day file’s URL', async () => {
    const log = await downloads();
    expect(log.length).toBeGreaterThan(0);
    expect(log.filter((d) => d.reason === 'authorization header')).toEqual([]);
    expect(log.filter((d) => d.status !== 200)).toEqual([]);
  });

  it('an explicit window read from both sources, stopped while its export job runs, is resumed', async () => {
    const dbPath = ws.dir.file('explicit-resume.db');
    const input = {
      accounts: [],
      since: new Date(ago(800)),
      until: new Date(ago(10)),
      partitions: 4,
    };
    const notices: string[] = [];
    const take = (sleep: (ms: number) => Promise<void>) =>
      withDb({ path: dbPath, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(NOW) }, (db) =>
        takeSnapshot(input, {
          twilio: ws.env.port(),
          db,
          clock: fixedClock(NOW),
          runner: TEST_RUNNER,
          sleep,
          onNotice: (text) => notices.push(text),
        }),
      );
    // A job that takes an hour: the first run is stopped at its first wait.
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
    try {
      await expect(
        take(() => Promise.reject(new Error('stopped while waiting for the export job'))),
      ).rejects.toThrow('stopped while waiting');
    } finally {
      await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 0 });
    }
    const [jobSid] = readOnly(dbPath, (db) =>
      db.prepare('SELECT job_sid FROM snapshot_export_jobs').pluck().all(),
    ) as string[];
    // The person waiting was told what for, for how long, and that stopping is safe.
    expect(notices).toEqual([
      expect.stringMatching(
        new RegExp(
          `^waiting for Twilio's Bulk Export job ${jobSid} to make \\d+ day file\\(s\\) of ${ws.env.parentSid}; ` +
            `Twilio expects it done by ${isoSeconds(new Date(NOW + 3600_000))}; ` +
            `the run waits until ${isoSeconds(new Date(NOW + DAY))} at most \\(--export-wait 1440 minutes\\)\\. Stopping now is safe`,
        ),
      ),
    ]);
    notices.length = 0;
    // Someone deletes that job meanwhile (Twilio then answers 404 for it); the same window is
    // asked for again: the run is taken up, and a new job makes the files.
    await ws.env.parent.bulkexports.v1.exports.jobs(jobSid!).remove();
    const result = await take((ms) => new Promise((done) => setTimeout(done, Math.min(ms, 10))));
    expect(result.resumed).toBe(true);
    const exported = await withLedger(dbPath, (db) => exportOptOuts(db));
    expect(exported.optouts.map((row) => row.recipient)).toContain(OLD_STOP);
    expect(exported.coverage.windows.map((w) => [w.source, w.start])).toEqual([
      ['export', isoSeconds(new Date(ago(800)))],
      ['api', isoSeconds(new Date(NOW - 400 * DAY))],
    ]);
  });

  it('resumed more than six days after its job was created, a run makes a new job (the files are gone by then)', async () => {
    const dbPath = ws.dir.file('late-resume.db');
    const input = {
      accounts: [],
      since: new Date(ago(800)),
      until: new Date(ago(10)),
      partitions: 2,
    };
    const take = (at: number, sleep: (ms: number) => Promise<void>) =>
      withDb({ path: dbPath, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(at) }, (db) =>
        takeSnapshot(input, {
          twilio: ws.env.port(),
          db,
          clock: fixedClock(at),
          runner: TEST_RUNNER,
          sleep,
        }),
      );
    // The first run's job never completes on the emulator's frozen clock; the run is stopped.
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
    try {
      await expect(take(NOW, () => Promise.reject(new Error('stopped')))).rejects.toThrow(
        'stopped',
      );
    } finally {
      await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 0 });
    }
    // Eight days later: that job is not waited on again; a new one makes the files.
    const result = await take(
      NOW + 8 * DAY,
      (ms) => new Promise((done) => setTimeout(done, Math.min(ms, 10))),
    );
    expect(result.resumed).toBe(true);
    const jobs = readOnly(dbPath, (db) =>
      db.prepare('SELECT job_sid FROM snapshot_export_jobs').pluck().all(),
    ) as string[];
    expect(jobs).toHaveLength(2);
    const exported = await withLedger(dbPath, (db) => exportOptOuts(db));
    expect(exported.optouts.map((row) => row.recipient)).toContain(OLD_STOP);
  });

  it('--retention-days outside Twilio’s 7–400 is refused before anything is asked', async () => {
    await expect(
      snapshotInto(ws.dir.file('bad.db'), ws.env.port(), fixedClock(NOW), { retentionDays: 5 }),
    ).rejects.toThrow(/--retention-days must be a whole number from 7 to 400/);
  });
});
