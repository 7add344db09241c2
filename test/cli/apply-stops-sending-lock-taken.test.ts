/**
 * An apply whose lock another machine's apply took over with --take-over-lock while it sent
 * its steps (its renewals had stopped for 30 s: its machine suspended, its event loop held by
 * long synchronous work) sends no step more: each step's intent is written, and the step sent,
 * only while it holds the lock. Before, it went on sending every step left, beside the apply
 * that had taken the run over and sent the same steps (two transfers of one number, two
 * subaccounts). It ends refused (exit 4), saying so; the steps it had not sent are left
 * pending (not `not run`) for the other apply, which then finishes the run with no write sent
 * twice. Nor does a step whose intent it wrote before the take-over leave once it is taken:
 * with one request slot, the second transfer's intent is written while the first is held, and
 * its request waits in the limiter; it used to be sent after the take-over all the same (two
 * transfers). The port's gate now asks for the lock as each write leaves: it is not sent, and
 * stays in flight for the apply that took the run over, which reads the number's account and
 * transfers it itself. Built CLI, emulator over HTTP, a real SQLite file.
 */

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { finishByTakingOver, takeLockOver } from '../support/apply-lock.js';
import { requestLog } from '../support/emulator.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550161', '+14155550162', '+14155550163', '+14155550164'];
const THERE = 'ops-container-3f2a';

const transfers = async (env: Parameters<typeof requestLog>[0]) =>
  (await requestLog(env)).filter(
    (r) => r.method === 'POST' && /\/IncomingPhoneNumbers\/PN/.test(r.path),
  );

describe('apply whose lock is taken over while it sends', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('sends no step more, leaves the rest pending, and the apply that took it over finishes the run', async () => {
    const { env, dir, cli } = ws;
    await planOneCustomer(ws, NUMBERS);
    // The subaccount created, the first transfer held (and a second step's intent written:
    // two steps are under way per request slot).
    const apply = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 1);
    // Meanwhile an apply on another machine takes the lock over (--take-over-lock), for run 1.
    takeLockOver(dir.file('a.db'));
    await releaseHeld(env);
    const ended = await apply.done;

    expect(ended.stderr).not.toMatch(/please report/);
    expect(ended.code, ended.stderr).toBe(4);
    expect(ended.stderr).toContain(
      `refused: apply run 1 stopped sending: another apply (pid 4242 on ${THERE}) took its lock over with --take-over-lock while it ran`,
    );
    expect(ended.stderr).toMatch(
      /This one sent no step after that: 1 done, 0 skipped, 0 failed, 2 in flight \(marked to be sent, the answer not recorded: that apply reads Twilio's state for them\), 2 not sent\. It did not read the numbers' history back, check their routes, mark the run finished nor write its reports: the run is that apply's to finish/,
    );
    // Only the transfer sent before the take-over went out: the second, its intent written
    // before the take-over, was held back as it would leave the limiter. The first's answer
    // came after the take-over: not recorded (both stay in flight, for that apply to settle).
    expect(await transfers(env)).toHaveLength(1);
    const steps = new Database(dir.file('a.db'), { readonly: true });
    const states = steps
      .prepare('SELECT state, COUNT(*) AS n FROM apply_steps WHERE run_id = 1 GROUP BY state')
      .all();
    const run = steps.prepare('SELECT status, finished_at FROM apply_runs WHERE id = 1').get();
    steps.close();
    expect(states).toEqual([
      { state: 'done', n: 1 },
      { state: 'in_flight', n: 2 },
      { state: 'pending', n: 2 },
    ]);
    expect(run).toEqual({ status: 'running', finished_at: null });
    // `status` then: the run running, with the step held back in flight, and the lock the
    // other apply's.
    const status = await cli(['status', '--db', 'a.db']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^run 1 +running .*\(1 done, 2 in flight, 2 not sent yet\)/m);
    expect(status.stdout).toContain(`apply lock: held by pid 4242 on ${THERE}`);

    // That apply (here: this machine under the other's name, its lock a minute unrenewed)
    // finishes the run: each number transferred once.
    const finished = await finishByTakingOver(cli, dir.file('a.db'));
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toMatch(/^apply run 1 \(continued\)/m);
    const paths = (await transfers(env)).map((r) => r.path);
    expect(paths).toHaveLength(4);
    expect(new Set(paths).size).toBe(4);
  }, 90_000);
});
