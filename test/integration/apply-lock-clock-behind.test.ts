/**
 * `apply --take-over-lock` against the apply of another machine whose clock runs a minute
 * behind this one's: it renews its lock every 5 s, each renewal written by its own clock, so
 * that every one of them reads as a minute old here. Taken by the renewal's age alone, the lock
 * of an apply that still ran was taken over, and the two applied at once. The lock is now
 * watched for 11 s first (said on stderr): renewed meanwhile, it is refused (exit 4) and nothing
 * is sent to Twilio, not even a read, `--dry-run` alike; once that apply no longer renews it,
 * the same command watches it unchanged and takes it over. The other machine is the test's own
 * timer, renewing the lock as that apply would. Built CLI, emulator over HTTP, a real SQLite
 * file.
 */

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { holdLock, OTHER_MACHINES_LOCK } from '../support/apply-lock.js';
import { requestLog } from '../support/emulator.js';
import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { cliEnv, pollUntil, startCli } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550181'];
const { pid: PID, hostname: THERE } = OTHER_MACHINES_LOCK;

/** Writes the lock's renewal as a clock a minute behind this machine's reads now. */
function renewMinuteBehind(path: string): void {
  const at = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const db = new Database(path);
  try {
    db.prepare('UPDATE apply_lock SET renewed_at = ? WHERE id = 1').run(at);
  } finally {
    db.close();
  }
}

function lockOf(path: string): { pid: number; hostname: string } | undefined {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT pid, hostname FROM apply_lock').get() as
      { pid: number; hostname: string } | undefined;
  } finally {
    db.close();
  }
}

function renewalOf(path: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT renewed_at AS renewedAt FROM apply_lock').get();
  } finally {
    db.close();
  }
}

const WATCHING = new RegExp(
  `^note: watching the lock for 11 s before taking it over: pid ${PID} on ${THERE} last renewed it at \\S+, 6\\d s ago by this machine's clock, but its clock may be behind this one's; an apply that still runs renews it every 5 s, and is not taken over if it does$`,
  'm',
);

describe('apply --take-over-lock against a machine whose clock is a minute behind', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('watches the lock: renewed meanwhile, refused and nothing sent; unrenewed, taken over', async () => {
    const { env, dir, cli } = ws;
    const db = dir.file('a.db');
    await planOneCustomer(ws, NUMBERS);
    // That machine's apply holds the lock and runs: it renews it every 5 s by its clock.
    holdLock(db);
    renewMinuteBehind(db);
    const renewals = setInterval(() => renewMinuteBehind(db), 5_000);
    const before = (await requestLog(env)).length;
    const args = ['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000', '--take-over-lock'];
    try {
      for (const dryRun of [true, false]) {
        const refused = await cli(dryRun ? [...args, '--dry-run'] : args);
        expect(refused.code, refused.stderr).toBe(4);
        expect(refused.stdout).toBe('');
        expect(refused.stderr).toMatch(WATCHING);
        expect(refused.stderr).toMatch(
          new RegExp(
            `^refused: another apply holds this database \\(pid ${PID} on ${THERE}, since ${OTHER_MACHINES_LOCK.acquiredAt}\\), and renewed the lock while this apply watched it for 11 s \\(its last renewal read \\S+ before; its latest renewal, at \\S+, reads 6\\d s old by this machine's clock\\): it still runs there, and its clock and this machine's likely differ`,
            'm',
          ),
        );
      }
    } finally {
      clearInterval(renewals);
    }
    // Nothing sent by the refused applies (not even a read), the lock still that machine's.
    expect((await requestLog(env)).length).toBe(before);
    expect(lockOf(db)).toEqual({ pid: PID, hostname: THERE });

    // That apply stopped there: its last renewal stands, and the lock is taken over.
    const applied = await cli(args);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toMatch(WATCHING);
    expect(applied.stderr).toMatch(
      new RegExp(`^note: took over the lock of pid ${PID} on ${THERE}, another machine`, 'm'),
    );
    expect(applied.stdout).toMatch(/^apply run 1: .* Completed\./m);
    const state = await env.state();
    expect(state.accounts.filter((a) => a.friendly_name === 'Acme')).toHaveLength(1);
    expect(lockOf(db)).toBeUndefined();
  }, 120_000);
});

describe('apply --take-over-lock stopped while it watches the lock', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('says it took nothing, and leaves the lock as it was', async () => {
    const { env, dir } = ws;
    const db = dir.file('a.db');
    await planOneCustomer(ws, NUMBERS);
    holdLock(db);
    renewMinuteBehind(db);
    const renewal = renewalOf(db);
    const before = (await requestLog(env)).length;
    const args = ['apply', 'a.plan.json', '--db', 'a.db', '--rate', '1000', '--take-over-lock'];
    const apply = startCli(args, cliEnv(env), dir.path);
    let stderr = '';
    apply.child.stderr?.on('data', (chunk: string) => (stderr += chunk));
    await pollUntil('the watch to begin', () => (WATCHING.test(stderr) ? true : undefined));
    apply.child.kill('SIGINT');
    const stopped = await apply.done;
    expect(stopped.signal).toBe('SIGINT');
    expect(stopped.stderr.split('\n').slice(1)).toEqual([
      `apply: stopped by SIGINT while it watched the lock of pid ${PID} on ${THERE} for a renewal, before taking it over: it had read nothing from Twilio and written nothing, and the journal and the lock are as they were. \`submigrate apply a.plan.json --db a.db --take-over-lock\` watches it again, and takes it over if it is not renewed meanwhile: run it once you know that apply no longer runs there.`,
      '',
    ]);
    expect((await requestLog(env)).length).toBe(before);
    expect(lockOf(db)).toEqual({ pid: PID, hostname: THERE });
    expect(renewalOf(db)).toEqual(renewal);
  }, 60_000);
});
