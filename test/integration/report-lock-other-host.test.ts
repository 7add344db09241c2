/**
 * `report` and `reconcile` leave a run's folder to its apply while the apply holds the lock
 * (report-during-apply.test.ts). When the lock names another host (the database copied to
 * another machine, an apply run in a container since replaced), whether that apply still runs
 * cannot be told from here: the refusal must say so and name the way on, `apply PLAN
 * --take-over-lock`, as apply's own refusal does, not only "it is under way"; and `status`
 * names it on the run's line. Built CLI, emulator over HTTP.
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { ageLockRenewal } from '../support/apply-lock.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550131', '+14155550132'];
const TAKE_OVER = '`submigrate apply a.plan.json --take-over-lock --db a.db`';

describe('report and reconcile while the lock names another host', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('say whether its apply runs cannot be told, and name --take-over-lock', async () => {
    const { env, dir, cli } = ws;
    await planOneCustomer(ws, NUMBERS);
    // The subaccount is made and the first number moved; the second transfer is held
    // and the apply stopped there.
    const killed = await killApplyAtHeldWrite(env, dir.path, 'a.plan.json', 'a.db', 2);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(env);
    // It ran on another host (the database was copied here since).
    const file = new Database(dir.file('a.db'));
    file.prepare("UPDATE apply_lock SET hostname = 'ops-container-3f2a'").run();
    file.close();
    // And stopped a while ago: its lock unrenewed for a minute, so that the command named
    // below takes it over (one renewed within 30 s still runs there, and is not taken).
    ageLockRenewal(dir.file('a.db'));
    const runDir = join(dir.path, 'reports', '1');

    const report = await cli(['report', '--db', 'a.db']);
    expect(report.code).toBe(4);
    expect(report.stderr).toBe(
      `refused: apply run 1 may be under way (pid ${killed.pid} on ops-container-3f2a, since ${lockSince(dir.file('a.db'))}): if it is, it writes reports/1/ itself when it ends, and reports written there now would show the run half way. ` +
        'ops-container-3f2a is another machine (or container), whose processes this one cannot see: if that apply still runs there, wait for it to finish; ' +
        `if it no longer runs (it was stopped, its machine or container is gone), take the run over with ${TAKE_OVER} (a.plan.json as that apply named its plan), which finishes the run and writes its reports. ` +
        'Meanwhile, `submigrate report --out DIR` writes its reports as they stand elsewhere.\n',
    );
    expect(readdirSync(runDir)).toEqual(['.submigrate-report']);

    const reconciled = await cli(['reconcile', '--db', 'a.db']);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(reconciled.stderr).toContain(
      `reports/1/ not written now: apply run 1 may be under way (pid ${killed.pid} on ops-container-3f2a, since `,
    );
    expect(reconciled.stderr).toContain(
      `ops-container-3f2a is another machine (or container), whose processes this one cannot see: if that apply still runs there, wait for it to finish; if it no longer runs (it was stopped, its machine or container is gone), take the run over with ${TAKE_OVER}`,
    );
    expect(readdirSync(runDir)).toEqual(['.submigrate-report']);

    // status names it too, on the run's line (it said only the pid, host and start).
    const status = await cli(['status', '--db', 'a.db']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(
      `pid ${killed.pid} on ops-container-3f2a since ${lockSince(dir.file('a.db'))}: ops-container-3f2a is another machine (or container), whose processes this one cannot see: if that apply still runs there, wait for it to finish; if it no longer runs (it was stopped, its machine or container is gone), take the run over with ${TAKE_OVER} (a.plan.json as that apply named its plan), which finishes the run and writes its reports.\n`,
    );

    // The command named takes the run over, finishes it and writes its reports.
    const applied = await cli(['apply', 'a.plan.json', '--take-over-lock', '--db', 'a.db']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^apply run 1 \(continued\)/m);
    expect(readdirSync(runDir)).toContain('report.html');
  }, 90_000);
});

function lockSince(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT acquired_at AS at FROM apply_lock').get() as { at: string }).at;
  } finally {
    db.close();
  }
}
