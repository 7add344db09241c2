/**
 * The apply lock's row as tests set and read it: an apply on another machine holding the
 * database (shared, or copied here), and what the lock says after a command.
 */

import Database from 'better-sqlite3';

import type { CliResult } from './snapshot-harness.js';

export interface LockRow {
  runId: number | null;
  pid: number;
  hostname: string;
  acquiredAt: string;
}

/** An apply of another machine, begun no run yet. */
export const OTHER_MACHINES_LOCK: LockRow = {
  runId: null,
  pid: 4242,
  hostname: 'ops-container-3f2a',
  acquiredAt: '2026-01-02T03:04:05Z',
};

/** The lock's row of the database at `path` (undefined: no apply holds it). */
export function readLock(path: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare(
        'SELECT run_id AS runId, pid, hostname, acquired_at AS acquiredAt FROM apply_lock WHERE id = 1',
      )
      .get();
  } finally {
    db.close();
  }
}

/** Writes `lock` as the holder of the database at `path`. */
export function holdLock(path: string, lock: LockRow = OTHER_MACHINES_LOCK): void {
  const db = new Database(path);
  try {
    db.prepare(
      'INSERT INTO apply_lock (id, run_id, pid, hostname, acquired_at) VALUES (1, ?, ?, ?, ?)',
    ).run(lock.runId, lock.pid, lock.hostname, lock.acquiredAt);
  } finally {
    db.close();
  }
}

/**
 * Marks the lock of the database at `path` as last renewed `seconds` ago (by this machine's
 * clock): its apply stopped a while ago, so that --take-over-lock from another host takes it
 * over (one renewed within the last 30 s still runs, and is not).
 */
export function ageLockRenewal(path: string, seconds = 60): void {
  const db = new Database(path);
  try {
    const at = new Date(Date.now() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    db.prepare('UPDATE apply_lock SET renewed_at = ? WHERE id = 1').run(at);
  } finally {
    db.close();
  }
}

/**
 * The apply that took the lock over (here: this machine under the other's name, its lock a
 * minute unrenewed) runs the plan again with `--take-over-lock`, to finish the run.
 */
export function finishByTakingOver(
  cli: (args: string[]) => Promise<CliResult>,
  dbPath: string,
  plan = 'a.plan.json',
  db = 'a.db',
): Promise<CliResult> {
  ageLockRenewal(dbPath);
  return cli(['apply', plan, '--db', db, '--rate', '1000', '--take-over-lock']);
}

/**
 * An apply of another machine (OTHER_MACHINES_LOCK's pid and host) takes over, as
 * --take-over-lock does, the lock of the database at `path` that an apply here holds, for the
 * run it names: from then on that one holds it.
 */
export function takeLockOver(path: string): void {
  const db = new Database(path);
  try {
    db.prepare(
      'UPDATE apply_lock SET pid = ?, hostname = ?, acquired_at = ?, token = ? WHERE id = 1',
    ).run(
      OTHER_MACHINES_LOCK.pid,
      OTHER_MACHINES_LOCK.hostname,
      OTHER_MACHINES_LOCK.acquiredAt,
      'token-of-the-other-machine',
    );
  } finally {
    db.close();
  }
}
