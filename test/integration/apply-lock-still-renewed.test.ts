/**
 * `apply --take-over-lock` against an apply of another machine (or container) that still runs
 * there: its lock, renewed every 5 s while it runs, was renewed within the last 30 s. It is not
 * taken over (two applies on one database at once would leave "never a step twice" to luck):
 * refused (exit 4), naming when it last renewed and from when a take-over is possible should it
 * in fact have stopped, and nothing is sent to Twilio. Once that apply has stopped and its lock
 * gone unrenewed for 30 s (aged here by hand, a minute), --take-over-lock takes the run over
 * and finishes it without a write sent twice. Built CLI, emulator over HTTP, a real SQLite file.
 */

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { ageLockRenewal } from '../support/apply-lock.js';
import { requestLog } from '../support/emulator.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { pollUntil, releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550171', '+14155550172'];
const THERE = 'ops-container-3f2a';

interface Lock {
  pid: number;
  hostname: string;
  acquiredAt: string;
  renewedAt: string | null;
}

function lockOf(path: string): Lock {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare(
        'SELECT pid, hostname, acquired_at AS acquiredAt, renewed_at AS renewedAt FROM apply_lock',
      )
      .get() as Lock;
  } finally {
    db.close();
  }
}

const plus30 = (iso: string) =>
  new Date(Date.parse(iso) + 30_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('apply --take-over-lock while the apply of another machine still renews its lock', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('is refused and sends nothing; once that apply stopped a while ago, it takes the run over', async () => {
    const { env, dir, cli } = ws;
    const db = dir.file('a.db');
    await planOneCustomer(ws, NUMBERS);
    // The subaccount created, the first transfer held: the apply runs, and renews its lock.
    const first = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 1);
    const taken = lockOf(db);
    expect(taken).toMatchObject({ pid: first.child.pid, renewedAt: taken.acquiredAt });
    const renewed = await pollUntil('the running apply to renew its lock', () => {
      const lock = lockOf(db);
      return lock.renewedAt !== null && lock.renewedAt > taken.acquiredAt ? lock : undefined;
    });
    // It runs on another machine (the database is shared with it). Its renewals look for the
    // lock under this machine's name from now on: its latest, just now, is the one that stands.
    const file = new Database(db);
    file.prepare('UPDATE apply_lock SET hostname = ?').run(THERE);
    file.close();
    const renewedAt = lockOf(db).renewedAt!;
    expect(renewedAt >= renewed.renewedAt!).toBe(true);

    const before = (await requestLog(env)).length;
    const args = ['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000', '--take-over-lock'];
    for (const dryRun of [true, false]) {
      const refused = await cli(dryRun ? [...args, '--dry-run'] : args);
      expect(refused.code, refused.stderr).toBe(4);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(
        new RegExp(
          `^refused: another apply holds this database \\(pid ${first.child.pid} on ${THERE}, run 1, since ${taken.acquiredAt}\\), and renewed the lock \\d+ s ago, at ${renewedAt}: it still runs there\\. --take-over-lock takes over only an apply that no longer runs: wait for it to finish there; if it no longer runs, --take-over-lock takes it over once the lock is 30 s unrenewed, from ${plus30(renewedAt)} by this machine's clock, after watching it 11 s for a renewal\\n$`,
        ),
      );
    }
    // Nothing sent to Twilio by the refused applies (not even a read), the lock still theirs.
    expect((await requestLog(env)).length).toBe(before);
    expect(lockOf(db)).toMatchObject({ pid: first.child.pid, hostname: THERE });

    // That apply is stopped there (its held write goes through), and its lock ages a minute.
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    await releaseHeld(env);
    ageLockRenewal(db);

    const applied = await cli(args);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^apply run 1 \(continued\)/m);
    expect(applied.stderr).toMatch(
      new RegExp(`^note: took over the lock of pid \\d+ on ${THERE}, another machine`, 'm'),
    );
    const writes = (await requestLog(env)).filter((r) => r.method !== 'GET');
    const paths = writes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(paths).size, paths.join('\n')).toBe(paths.length);
    const state = await env.state();
    expect(state.accounts.filter((a) => a.friendly_name === 'Acme')).toHaveLength(1);
    expect(lockOf(db)).toBeUndefined();
  }, 90_000);
});
