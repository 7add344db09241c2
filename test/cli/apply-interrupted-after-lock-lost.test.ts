/**
 * Ctrl-C (SIGINT) to an apply whose lock another machine's apply had taken over with
 * --take-over-lock while it sent (its renewals stopped for 30 s). The stop notice said what it
 * says of any apply stopped part way: "`submigrate apply PLAN --db DB` continues the run". But
 * the run is the other apply's now, and that command is refused while it renews the lock. The
 * notice now says whose the run is, that this one sent no step after the take-over, and where
 * to look. Built CLI, emulator over HTTP, a real SQLite file.
 */

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { takeLockOver } from '../support/apply-lock.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550181', '+14155550182'];
const THERE = 'ops-container-3f2a';

describe('apply stopped by a signal after its lock was taken over', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('says the run is the other apply’s, not that running it again continues it', async () => {
    const { env, dir } = ws;
    await planOneCustomer(ws, NUMBERS);
    // The subaccount created, the first transfer held.
    const apply = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 1);
    // Meanwhile an apply on another machine takes the lock over, for run 1.
    takeLockOver(dir.file('a.db'));
    apply.child.kill('SIGINT');
    const stopped = await apply.done;
    await releaseHeld(env);

    expect(stopped.signal).toBe('SIGINT');
    expect(stopped.stderr).toContain(
      `apply: stopped by SIGINT, after another apply (pid 4242 on ${THERE}) had taken its lock over with --take-over-lock: this one sent no step after that, every step it sent is in the journal, and the run is that apply's to finish`,
    );
    expect(stopped.stderr).not.toContain('continues the run');
    // The lock is still the other apply's.
    const db = new Database(dir.file('a.db'), { readonly: true });
    expect(db.prepare('SELECT pid, hostname FROM apply_lock').get()).toEqual({
      pid: 4242,
      hostname: THERE,
    });
    db.close();
  }, 60_000);
});
