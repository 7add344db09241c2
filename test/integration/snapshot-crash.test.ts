/**
 * Slow (about 20 s): the built CLI against 200,000 messages with 20 ms of emulator latency
 * (the Messages API path alone, `--no-export`: the export path has its own crash test),
 * killed with SIGKILL mid-way and run again. Needs `npm run build` (`npm test` builds first).
 *
 * - the kill point is the test's, not the machine's: the emulator answers exactly 20 pages
 *   of history and holds every request after them; once those 20 pages are committed, the
 *   process is killed;
 * - the resumed run goes on from the last recorded page and ends with a ledger identical to
 *   an uninterrupted run's, and an export equal to the emulator's own opt-out store;
 * - a second snapshot while the first is alive in another process is refused (exit 4).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import { exportOptOuts } from '../../src/optouts/export.js';
import { clearRequestLog, emulatorOptOuts, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  cliEnv,
  countMessageRequests,
  ledgerDump,
  pollUntil,
  runCli,
  sliceProgress,
  startCli,
  type RunningCli,
  type SliceProgress,
  withLedger,
} from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const MESSAGES = 200_000;
const LATENCY_MS = 20;

const messagesRecorded = (p: SliceProgress) => p.slices.reduce((n, s) => n + s.messages_read, 0);

describe('snapshot killed mid-way (built CLI, 200,000 messages)', () => {
  const ws = useCliWorkspace(undefined, {
    now: () => NOW,
    load: (state) => loadOwlie(state, { seed: 3, messages: MESSAGES, now: NOW }),
  });
  const running: RunningCli[] = [];
  const timings: Record<string, number> = {};
  const counts: Record<string, number> = {};

  beforeAll(async () => {
    await ws.env.control('POST', '/__emulator/faults', { latency_ms: LATENCY_MS });
  });
  afterAll(async () => {
    console.log(
      `crash test timings (ms): ${JSON.stringify(timings)}; messages: ${JSON.stringify(counts)}`,
    );
    for (const cli of running) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await Promise.all(running.map((cli) => cli.done));
  });

  it('resumes after SIGKILL and ends with the ledger of an uninterrupted run', async () => {
    await clearRequestLog(ws.env);
    let started = Date.now();
    const whole = await runCli(
      ['snapshot', '--no-export', '--db', ws.dir.file('whole.db'), '--json'],
      cliEnv(ws.env),
    );
    timings['uninterrupted'] = Date.now() - started;
    expect(whole.stderr).toBe('');
    expect(whole.code).toBe(0);
    const wholeResult = JSON.parse(whole.stdout) as { messagesRead: number; resumed: boolean };
    expect(wholeResult.resumed).toBe(false);
    // Each message once, though slices share their boundary seconds.
    expect(wholeResult.messagesRead).toBe(MESSAGES);

    // Everything but the slices' pages (the account, numbers, services and their members) is
    // asked for with the first wave of pages and is the same on a fresh database: let that
    // through, and exactly PAGES pages.
    const log = await requestLog(ws.env);
    const pages = countMessageRequests(log);
    const setup = log.length - pages.firstPages - pages.nextPages;
    const PAGES = 20;
    await clearRequestLog(ws.env);
    await ws.env.control('POST', '/__emulator/faults', {
      hold_after: setup + PAGES,
      hold_methods: ['GET'],
    });

    const dbPath = ws.dir.file('killed.db');
    started = Date.now();
    const first = startCli(['snapshot', '--no-export', '--db', dbPath], cliEnv(ws.env));
    running.push(first);
    await pollUntil(
      'the 20 answered pages to be committed, and the next request held',
      async () => {
        if (first.child.exitCode !== null) throw new Error('the snapshot ended before the kill');
        const progress = sliceProgress(dbPath);
        const pagesRecorded = progress?.slices.reduce((n, s) => n + s.pages_read, 0) ?? 0;
        const { held_requests: held } = await ws.env.control<{ held_requests: number }>(
          'GET',
          '/__emulator/health',
        );
        return pagesRecorded === PAGES && held > 0 ? progress : undefined;
      },
    );
    first.child.kill('SIGKILL');
    const killed = await first.done;
    timings['until killed'] = Date.now() - started;
    expect(killed.signal).toBe('SIGKILL');
    await ws.env.control('POST', '/__emulator/faults', { hold_after: 0, hold_methods: [] });

    const atKill = sliceProgress(dbPath)!;
    expect(atKill.runs).toEqual([{ id: 1, status: 'running', pid: first.child.pid }]);
    expect(atKill.slices.reduce((n, s) => n + s.pages_read, 0)).toBe(PAGES);
    const done = atKill.slices.filter((s) => s.status === 'done').length;
    expect(done).toBeLessThan(atKill.slices.length);
    const recordedBeforeKill = messagesRecorded(atKill);
    counts['recorded before kill'] = recordedBeforeKill;
    counts['slices done at kill'] = done;
    counts['slices'] = atKill.slices.length;
    expect(recordedBeforeKill).toBeLessThan(wholeResult.messagesRead);

    started = Date.now();
    const againCli = startCli(['snapshot', '--no-export', '--db', dbPath], cliEnv(ws.env));
    const again = await againCli.done;
    timings['resumed run'] = Date.now() - started;
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const summary = /^snapshot run 1 \(resumed\): ([\d,]+) messages read/.exec(again.stdout);
    expect(summary, again.stdout).not.toBeNull();
    // It went on from the last recorded page: nothing committed was read again, and what the
    // killed process read but had not committed is counted once, by the resumed one.
    const readAgain = Number(summary![1]!.replace(/,/g, ''));
    counts['read by the resumed run'] = readAgain;
    expect(recordedBeforeKill + readAgain).toBe(MESSAGES);

    const final = sliceProgress(dbPath)!;
    // The same run, taken over by the process that finished it.
    expect(final.runs).toEqual([{ id: 1, status: 'completed', pid: againCli.child.pid }]);
    expect(final.slices.every((s) => s.status === 'done')).toBe(true);
    expect(messagesRecorded(final)).toBe(recordedBeforeKill + readAgain);

    const resumed = ledgerDump(dbPath);
    const uninterrupted = ledgerDump(ws.dir.file('whole.db'));
    expect(resumed.events.length).toBeGreaterThan(10_000);
    expect(resumed.numbers.length).toBeGreaterThan(100);
    expect(resumed).toEqual(uninterrupted);

    // And against Twilio's own state, not only against another run of the tool.
    const exported = await withLedger(dbPath, exportOptOuts);
    expect(exported.optouts.map((row) => row.stop_message_sid).sort()).toEqual(
      (await emulatorOptOuts(ws.env)).map((o) => o.message_sid).sort(),
    );
  });

  it('refuses a second snapshot while the first is alive in another process (exit 4)', async () => {
    // Slower answers keep the first run busy for seconds after it records itself.
    await ws.env.control('POST', '/__emulator/faults', { latency_ms: 100 });
    try {
      const dbPath = ws.dir.file('busy.db');
      const first = startCli(['snapshot', '--no-export', '--db', dbPath], cliEnv(ws.env));
      running.push(first);
      await pollUntil('the first run to be recorded', () => {
        if (first.child.exitCode !== null) throw new Error('the first snapshot ended early');
        const progress = sliceProgress(dbPath);
        return progress !== null && progress.runs.length > 0 ? progress : undefined;
      });
      const started = Date.now();
      const second = await runCli(['snapshot', '--no-export', '--db', dbPath], cliEnv(ws.env));
      timings['refusal'] = Date.now() - started;
      // Only meaningful if the first was still running when the second looked.
      expect(first.child.exitCode).toBeNull();
      expect(second.code).toBe(4);
      expect(second.stdout).toBe('');
      expect(second.stderr).toBe(
        `refused: snapshot run 1 is still in progress (pid ${first.child.pid}); wait for it or stop it first\n`,
      );
      first.child.kill('SIGKILL');
      await first.done;
      expect(sliceProgress(dbPath)?.runs).toEqual([
        { id: 1, status: 'running', pid: first.child.pid },
      ]);
    } finally {
      await ws.env.control('POST', '/__emulator/faults', { latency_ms: LATENCY_MS });
    }
  });
});
