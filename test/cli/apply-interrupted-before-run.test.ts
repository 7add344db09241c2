/**
 * Ctrl-C during `apply` while it still checks the plan against the live account (its reads),
 * before its run began: it said every step sent was in the journal, that the same command
 * "continues the run" and that `status` shows where it stopped, of a run that was never begun
 * (status showed no run). It now says it had sent only reads and changed nothing; the same
 * command then applies the plan, and the lock the stopped apply left is not reported as a
 * take-over of the run. Built CLI, emulator over HTTP.
 */

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

import { describe, expect, it } from 'vitest';

import { requestLog } from '../support/emulator.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550161', '+14155550162'];

describe('apply stopped before its run began', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('says it sent only reads, not that a run is to be continued', async () => {
    const { env, cli } = ws;
    await planOneCustomer(ws, NUMBERS);
    await env.control('DELETE', '/__emulator/requests');

    // Its second read of the account (the drift check) held: no run begun yet.
    const apply = await startApplyHeldAtWrite(env, ws.dir.path, 'a.plan.json', 'a.db', 1, ['GET']);
    apply.child.kill('SIGINT');
    const stopped = await apply.done;
    await releaseHeld(env);

    expect(stopped.signal).toBe('SIGINT');
    expect(stopped.stderr).toBe(
      'apply: stopped by SIGINT before it began its run, while it checked the plan against the live account: it had sent Twilio only reads, so nothing was changed there, and the journal is as it was. `submigrate apply a.plan.json --db a.db` runs it again.\n',
    );
    expect((await requestLog(env)).filter((r) => r.method !== 'GET')).toEqual([]);
    const status = await cli(['status', '--db', 'a.db']);
    expect(status.stdout).toMatch(/^No apply run yet\./);

    const again = await cli(['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^apply run 1:/m);
    // It took over the lock the stopped apply left, which held it for no run: not a take-over
    // of this run, as the report said of it.
    expect(again.stderr).toContain(
      `note: took over the lock of pid ${apply.child.pid} on ${hostname()}, which is no longer running: it had begun no run (stopped while it checked its plan), so nothing of this run was its\n`,
    );
    const page = readFileSync(ws.dir.file('reports/1/report.html'), 'utf8');
    expect(page).toContain(
      'An earlier apply, stopped before it began any run, had left the database locked; this run took the lock over (that apply did nothing of this run).',
    );
    expect(page).not.toContain('The run was taken over from an earlier apply');
  }, 90_000);
});
