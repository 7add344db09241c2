/**
 * A transfer sent by an apply that was killed reaches Twilio late: after the next apply read
 * the live state (the number still where it was) and sent the transfer again. Twilio carries
 * out the first; the second finds the number gone from the account in its path and answers
 * 404. That answer means the write is already so, or that someone else moved the number: the
 * step is settled from the live state, as a write whose answer was lost is, and adopts the
 * number in its subaccount — not failed, which would leave the next apply refusing the plan
 * over a move its own step made (built CLI, emulator over HTTP).
 */

import { mkdirSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { expectMigrated, makePlan, useCliWorkspace } from '../support/migration.js';
import {
  cliEnv,
  killApplyAtHeldWrite,
  pollUntil,
  readOnly,
  releaseHeld,
  runCli,
  startCli,
} from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe('a transfer that lands after it was sent again', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }] }, NOW);

  it('the 404 of the second send is settled from live state: the step is done', async () => {
    const { env, dir } = ws;
    writeFileSync(dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
    const cwd = dir.file('work');
    mkdirSync(cwd);
    const db = dir.file('a.db');
    const plan = dir.file('a.plan.json');
    const cli = (args: string[]) => runCli(args, cliEnv(env), cwd);
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: dir.file('m.csv'), db, out: plan });

    // The subaccount is created; the transfer is held, and its apply killed.
    const killed = await killApplyAtHeldWrite(env, cwd, plan, db, 1);
    expect(killed.signal).toBe('SIGKILL');

    // Still held: the next apply finds the number where it was, and sends the transfer again,
    // which is held behind the first.
    const args = ['apply', plan, '--db', db, '--rate', '1000', '--concurrency', '1'];
    const second = startCli(args, cliEnv(env), cwd);
    await pollUntil('the transfer sent again to be held', async () => {
      if (second.child.exitCode !== null) throw new Error('the second apply ended');
      const health = await env.control<{ held_requests: number }>('GET', '/__emulator/health');
      return health.held_requests === 2 ? true : undefined;
    });
    // The first lands, then the second: 404, the number has left the parent.
    await releaseHeld(env);
    const result = await second.done;
    expect(result.stderr).not.toMatch(/failed:/);
    expect(result.code, result.stderr).toBe(0);
    await expectMigrated(env, [{ id: 'acme', name: 'Acme', service: null, numbers: [N1] }]);
    const steps = readOnly(db, (d) =>
      d.prepare('SELECT step_id AS id, state FROM apply_steps ORDER BY position').all(),
    );
    expect(steps).toEqual([
      { id: 'create_subaccount:acme', state: 'done' },
      { id: expect.stringMatching(/^transfer_number:PN/), state: 'done' },
    ]);

    // Finished: the next apply sends no write, and is not refused.
    await clearRequestLog(env);
    const again = await cli(args);
    expect(again.code, again.stderr).toBe(0);
    expect((await requestLog(env)).filter((e) => e.method !== 'GET')).toEqual([]);
  });
});
