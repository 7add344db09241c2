/**
 * watchBeforeTakeOver on a real SQLite file: another machine's lock whose renewal reads as
 * stale by this machine's clock is watched for 11 s before --take-over-lock takes it (the wait
 * is apply's `sleep`, here one that moves the clock and lets the other machine act); renewed,
 * taken or let go meanwhile, refused; left as it was, taken over only as it still is. A lock
 * never renewed, or renewed lately, is not watched.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { LOCK_WATCH_MS, watchBeforeTakeOver } from '../../src/apply/lock-watch.js';
import { isoSeconds } from '../../src/clock.js';
import { acquireLock, lockHolder, type LockRunner } from '../../src/db/journal.js';
import type { Db } from '../../src/db/open.js';
import { RefusedError } from '../../src/errors.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const START = Date.parse('2026-01-01T01:00:00Z');
const THERE: LockRunner = { pid: 4242, hostname: 'there', token: 'there', isAlive: () => true };
const HERE: LockRunner = { pid: 7, hostname: 'here', token: 'here', isAlive: () => true };

/** A lock of THERE, renewed `seconds` before `now` by this machine's clock (null: never). */
function heldThere(db: Db, now: number, seconds: number | null): void {
  acquireLock(db, THERE, '2026-01-01T00:00:00Z');
  const renewed = seconds === null ? null : isoSeconds(new Date(now - seconds * 1000));
  db.prepare('UPDATE apply_lock SET renewed_at = ?').run(renewed);
}

/** This machine's clock, and a sleep that moves it on after the other machine's `meanwhile`. */
function watching(db: Db, meanwhile: (now: number) => void = () => {}) {
  let now = START;
  const told: string[] = [];
  const slept: number[] = [];
  const deps = {
    db,
    runner: HERE,
    clock: { now: () => new Date(now) },
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
      meanwhile(now - 60_000); // its clock a minute behind
    },
  };
  const watch = () =>
    watchBeforeTakeOver({ takeOverLock: true }, deps, isoSeconds(new Date(now)), (line) =>
      told.push(line),
    );
  return { watch, told, slept, now: () => now };
}

describe('watchBeforeTakeOver', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('renewed while watched (its clock a minute behind): refused, the lock left as it was', () =>
    withLedger(dir.file('l.db'), async (db) => {
      heldThere(db, START, 60);
      const { watch, told, slept } = watching(db, (theirNow) => {
        db.prepare('UPDATE apply_lock SET renewed_at = ?').run(isoSeconds(new Date(theirNow)));
      });
      const refused = watch();
      await expect(refused).rejects.toBeInstanceOf(RefusedError);
      await expect(refused).rejects.toThrow(
        "another apply holds this database (pid 4242 on there, since 2026-01-01T00:00:00Z), and renewed the lock while this apply watched it for 11 s (its last renewal read 2026-01-01T00:59:00Z before; its latest renewal, at 2026-01-01T00:59:11Z, reads 60 s old by this machine's clock): it still runs there, and its clock and this machine's likely differ",
      );
      expect(told).toEqual([
        "watching the lock for 11 s before taking it over: pid 4242 on there last renewed it at 2026-01-01T00:59:00Z, 60 s ago by this machine's clock, but its clock may be behind this one's; an apply that still runs renews it every 5 s, and is not taken over if it does",
      ]);
      expect(slept).toEqual([LOCK_WATCH_MS]);
      expect(LOCK_WATCH_MS).toBe(11_000);
      expect(lockHolder(db)).toMatchObject({ pid: 4242, hostname: 'there', token: 'there' });
    }));

  it('left as it was: watched, then taken over only as it still is', () =>
    withLedger(dir.file('l.db'), async (db) => {
      heldThere(db, START, 60);
      const { watch, now } = watching(db);
      const { watched, at } = await watch();
      expect(watched).toMatchObject({
        pid: 4242,
        hostname: 'there',
        renewedAt: '2026-01-01T00:59:00Z',
      });
      expect(at).toBe(isoSeconds(new Date(now())));
      expect(at).toBe('2026-01-01T01:00:11Z');
      // Renewed between the watch and the take-over: not taken.
      db.prepare('UPDATE apply_lock SET renewed_at = ?').run('2026-01-01T00:59:12Z');
      expect(acquireLock(db, HERE, at, true, watched)).toMatchObject({ acquired: false });
      // As watched: taken.
      db.prepare('UPDATE apply_lock SET renewed_at = ?').run('2026-01-01T00:59:00Z');
      expect(acquireLock(db, HERE, at, true, watched)).toMatchObject({
        acquired: true,
        tookOverFrom: { pid: 4242, hostname: 'there' },
      });
    }));

  it('taken by another apply while watched, or let go: refused, saying which', () =>
    withLedger(dir.file('l.db'), async (db) => {
      heldThere(db, START, 95);
      const other = { pid: 9, hostname: 'third', token: 'third', isAlive: () => true };
      const taken = watching(db, () => {
        db.prepare('DELETE FROM apply_lock').run();
        acquireLock(db, other, '2026-01-01T01:00:05Z');
      });
      await expect(taken.watch()).rejects.toThrow(
        'another apply held this database (pid 4242 on there, since 2026-01-01T00:00:00Z), and while this apply watched it for 11 s, the lock changed hands (now pid 9 on third, since 2026-01-01T01:00:05Z): another apply runs on this database.',
      );
      db.prepare('DELETE FROM apply_lock').run();
      heldThere(db, START, 95);
      const letGo = watching(db, () => db.prepare('DELETE FROM apply_lock').run());
      await expect(letGo.watch()).rejects.toThrow(
        "another apply held this database (pid 4242 on there, since 2026-01-01T00:00:00Z), and let go of the lock while this apply watched it for 11 s, though its last renewal, at 2026-01-01T00:58:25Z, read as 106 s old by this machine's clock: it was still running there until then",
      );
    }));

  it('never renewed, renewed lately, or without --take-over-lock: not watched', () =>
    withLedger(dir.file('l.db'), async (db) => {
      heldThere(db, START, null);
      const never = watching(db);
      expect(await never.watch()).toEqual({ watched: null, at: '2026-01-01T01:00:00Z' });
      expect([never.told, never.slept]).toEqual([[], []]);
      db.prepare('UPDATE apply_lock SET renewed_at = ?').run('2026-01-01T00:59:50Z');
      const lately = watching(db);
      expect(await lately.watch()).toMatchObject({ watched: null });
      expect(lately.slept).toEqual([]);
      db.prepare('UPDATE apply_lock SET renewed_at = ?').run('2026-01-01T00:59:00Z');
      const plain = await watchBeforeTakeOver(
        { takeOverLock: false },
        { db, runner: HERE, clock: { now: () => new Date(START) }, sleep: async () => {} },
        '2026-01-01T01:00:00Z',
        () => expect.unreachable(),
      );
      expect(plain.watched).toBeNull();
    }));
});
