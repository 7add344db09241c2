/**
 * Slow (about 20 s): the built CLI reading three years of Owlie history, most of it from Bulk
 * Export day files (the Messages API shows 400 days), killed with SIGKILL during the export
 * phase and run again. Needs `npm run build` (`npm test` builds first).
 *
 * - the resumed run takes up the job the killed one created (no second job) and reads only
 *   the days not yet recorded: no finished day is downloaded twice;
 * - it ends with a ledger identical to an uninterrupted run's.
 */

import { existsSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { DownloadLogEntry } from '../../src/emulator/exports/storage.js';
import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import { clearRequestLog, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  cliEnv,
  ledgerDump,
  pollUntil,
  readOnly,
  runCli,
  startCli,
  type RunningCli,
} from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const MESSAGES = 30_000;
const HISTORY_DAYS = 1095;
/** Slows each Twilio request (a day's redirect among them) so the kill lands mid-export. */
const LATENCY_MS = 25;

const doneDays = (dbPath: string): string[] =>
  !existsSync(dbPath)
    ? []
    : readOnly(dbPath, (db) => {
        try {
          return db
            .prepare("SELECT day FROM snapshot_export_days WHERE status = 'done' ORDER BY day")
            .pluck()
            .all() as string[];
        } catch {
          return []; // not created yet
        }
      });
const dayOfPath = (path: string) => /(\d{4}-\d{2}-\d{2})\.json\.gz$/.exec(path)![1]!;

describe('snapshot killed while reading Bulk Export days (built CLI)', () => {
  const ws = useCliWorkspace(undefined, {
    now: () => NOW,
    load: (state) =>
      loadOwlie(state, { seed: 9, messages: MESSAGES, now: NOW, historyDays: HISTORY_DAYS }),
  });
  const running: RunningCli[] = [];

  beforeAll(async () => {
    await ws.env.control('POST', '/__emulator/faults', { latency_ms: LATENCY_MS });
  });
  afterAll(async () => {
    for (const cli of running) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await Promise.all(running.map((cli) => cli.done));
  });

  const downloads = () => ws.env.control<DownloadLogEntry[]>('GET', '/__emulator/downloads');

  it('resumes without reading a finished day again, and ends with the uninterrupted ledger', async () => {
    const wholeDb = ws.dir.file('whole.db');
    const whole = await runCli(['snapshot', '--db', wholeDb, '--json'], cliEnv(ws.env));
    expect(whole.stderr).toBe('');
    expect(whole.code).toBe(0);
    const wholeResult = JSON.parse(whole.stdout) as { exportDays: number };
    expect(wholeResult.exportDays).toBeGreaterThan(600);

    await ws.env.control('DELETE', '/__emulator/downloads');
    await clearRequestLog(ws.env);
    const dbPath = ws.dir.file('killed.db');
    const first = startCli(['snapshot', '--db', dbPath], cliEnv(ws.env));
    running.push(first);
    await pollUntil(
      'some export days to be recorded',
      () => {
        if (first.child.exitCode !== null) throw new Error('the snapshot ended before the kill');
        return doneDays(dbPath).length >= 40 ? true : undefined;
      },
      { intervalMs: 10 },
    );
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const atKill = doneDays(dbPath);
    expect(atKill.length).toBeLessThan(wholeResult.exportDays);
    const jobsBefore = (await requestLog(ws.env)).filter(
      (r) => r.method === 'POST' && r.path.endsWith('/Exports/Messages/Jobs'),
    ).length;
    expect(jobsBefore).toBe(1);

    await ws.env.control('DELETE', '/__emulator/downloads');
    await clearRequestLog(ws.env);
    const again = await runCli(['snapshot', '--db', dbPath], cliEnv(ws.env));
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^snapshot run 1 \(resumed\)/);

    // The job the killed run created was taken up: none created again.
    const log = await requestLog(ws.env);
    expect(log.filter((r) => r.method === 'POST')).toEqual([]);
    // No day recorded before the kill was downloaded again; every other one was, once.
    const after = (await downloads()).filter((d) => d.status === 200).map((d) => dayOfPath(d.path));
    const finished = new Set(atKill);
    expect(after.filter((day) => finished.has(day))).toEqual([]);
    expect(new Set(after).size).toBe(after.length);
    expect(doneDays(dbPath)).toEqual(doneDays(wholeDb));
    expect(ledgerDump(dbPath).events).toEqual(ledgerDump(wholeDb).events);
  });

  it('says on stderr what it waits for while Twilio makes the export files', async () => {
    // A job that takes an hour (on the emulator's frozen clock, it never finishes): the run
    // says which job it waits for, until when, and that stopping is safe; then it is stopped.
    await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 3600 });
    try {
      const cli = startCli(['snapshot', '--db', ws.dir.file('waiting.db')], cliEnv(ws.env));
      running.push(cli);
      let stderr = '';
      cli.child.stderr?.on('data', (chunk: string) => (stderr += chunk));
      await pollUntil('the notice on stderr', () => (stderr.includes('\n') ? true : undefined), {
        intervalMs: 10,
      });
      cli.child.kill('SIGKILL');
      await cli.done;
      expect(stderr).toMatch(
        new RegExp(
          `^snapshot: waiting for Twilio's Bulk Export job JS[0-9a-f]{32} to make \\d+ day file\\(s\\) of ${ws.env.parentSid}; ` +
            `Twilio expects it done by ${new Date(NOW + 3_600_000).toISOString().slice(0, 19)}Z; ` +
            // A day from when the run began to read Bulk Export, by the CLI's own clock.
            'the run waits until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ at most \\(--export-wait 1440 minutes\\)\\. ' +
            'Stopping now is safe: the same snapshot run again within 6 days takes the job up where it is\\.\\n$',
        ),
      );
    } finally {
      await ws.env.control('POST', '/__emulator/settings', { export_job_seconds: 0 });
    }
  });
});
