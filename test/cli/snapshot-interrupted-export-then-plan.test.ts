/**
 * `snapshot` stopped with Ctrl-C while it waits for Twilio's Bulk Export job (its notice says
 * stopping is safe and the job is taken up again), then `plan` (whose refresh abandons the
 * stopped run), then `snapshot` again: the job the first run created is taken up, not a second
 * one created (a write to Twilio sent twice, and hours of waiting started over). Built CLI,
 * emulator over HTTP.
 */

import { beforeAll, describe, expect, it } from 'vitest';

import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import { requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, pollUntil, ROOT, startCli } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('snapshot interrupted while waiting on Bulk Export, then plan, then snapshot', () => {
  const ws = useCliWorkspace(undefined, {
    now: () => NOW,
    load: (state) => loadOwlie(state, { seed: 3, messages: 2_000, now: NOW, historyDays: 500 }),
  });

  beforeAll(async () => {
    // Twilio takes an hour to make the job's files.
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
  });

  const jobsCreated = async () =>
    (await requestLog(ws.env)).filter(
      (r) => r.method === 'POST' && r.path.endsWith('/Exports/Messages/Jobs'),
    ).length;

  /** `snapshot` until it says it waits for a job, then Ctrl-C. */
  const snapshotUntilWaiting = async (db: string) => {
    const run = startCli(['snapshot', '--db', db], cliEnv(ws.env), ws.dir.path);
    let stderr = '';
    run.child.stderr?.on('data', (chunk: string) => (stderr += chunk));
    await pollUntil('the snapshot to wait for a Bulk Export job', () => {
      if (run.child.exitCode !== null) throw new Error('the snapshot ended before waiting');
      return stderr.includes("waiting for Twilio's Bulk Export job") ? true : undefined;
    });
    run.child.kill('SIGINT');
    return { ...(await run.done), stderr };
  };

  it('takes up the job the interrupted run created', async () => {
    const db = ws.dir.file('s.db');
    const first = await snapshotUntilWaiting(db);
    expect(first.signal).toBe('SIGINT');
    expect(first.stderr).toMatch(/Stopping now is safe: the same snapshot run again/);
    expect(await jobsCreated()).toBe(1);

    const planned = await ws.cli([
      'plan',
      '--mapping',
      `${ROOT}plans/owlie-customers.csv`,
      '--db',
      db,
      '--out',
      ws.dir.file('p.plan.json'),
    ]);
    expect(planned.code, planned.stderr).toBe(0);

    const again = await snapshotUntilWaiting(db);
    expect(again.signal).toBe('SIGINT');
    expect(await jobsCreated()).toBe(1);
  }, 120_000);
});
