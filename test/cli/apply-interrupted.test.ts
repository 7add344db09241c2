/**
 * Ctrl-C during `apply` in a terminal, with its progress bar drawn: the process still ends at
 * once (exit 130, the journal as a kill leaves it), but it gives the terminal its cursor back
 * (the bar hides it) and says what it leaves and what to run next; that command finishes the
 * run without a write sent twice. The terminal is a real pty (util-linux `script`), and the
 * Ctrl-C is typed into it. Built CLI, emulator over HTTP.
 */

import { spawn } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { requestLog } from '../support/emulator.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { BIN, pollUntil, releaseHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550101', '+14155550102', '+14155550103'];
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

describe('apply interrupted with Ctrl-C in a terminal', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('shows the cursor again, says how to continue, and continues without a write sent twice', async () => {
    const { env, dir, cli } = ws;
    await planOneCustomer(ws, NUMBERS);

    // The subaccount is created (the bar is drawn), the next write held.
    await env.control('POST', '/__emulator/faults', {
      hold_after: 1,
      hold_methods: ['POST', 'DELETE'],
    });
    const command = `exec '${process.execPath}' '${BIN}' apply a.plan.json --db a.db --rate 1000 --concurrency 1`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: dir.path,
      env: {
        PATH: process.env['PATH'],
        TERM: 'xterm',
        SUBMIGRATE_API_URL: env.url,
        TWILIO_ACCOUNT_SID: env.parentSid,
        TWILIO_AUTH_TOKEN: env.parentToken,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    const done = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    await pollUntil('the bar to be drawn and a write held', async () => {
      if (child.exitCode !== null) throw new Error(`apply ended: ${screen}`);
      const health = await env.control<{ held_requests: number }>('GET', '/__emulator/health');
      return health.held_requests > 0 && screen.includes('steps') ? true : undefined;
    });
    child.stdin.write('\x03');
    expect(await done).toBe(130);
    await releaseHeld(env);

    expect(screen).toContain(HIDE_CURSOR);
    expect(screen.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(screen.lastIndexOf(HIDE_CURSOR));
    expect(screen).toContain(
      'apply: stopped by SIGINT. Every step sent so far is in the journal: `submigrate apply a.plan.json --db a.db` continues the run',
    );
    expect(screen).not.toContain(env.parentToken);

    const again = await cli(['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^apply run 1 \(continued\)/m);
    const writes = (await requestLog(env))
      .filter((r) => r.method !== 'GET')
      .map((r) => `${r.method} ${r.path}`);
    expect(new Set(writes).size, writes.join('\n')).toBe(writes.length);
  }, 90_000);
});
