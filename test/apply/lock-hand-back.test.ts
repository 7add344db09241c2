/**
 * The apply lock handed back (lock-hand-back.ts), case by case, on a real SQLite file: stopped
 * by a signal before the run began (another machine's lock given back; the run an earlier
 * apply began left as that apply left it), refused or failed before it (another machine's
 * lock given back and told beneath the error), and let go otherwise; a give-back whose write
 * fails (a trigger aborts it with SQLite's full-disk words) is told, and leaves the lock
 * naming this process. What runApply and the
 * CLI do with it is tested end to end by apply-interrupted-after-take-over,
 * apply-interrupted-before-resume and apply-refused-after-take-over.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { lockHandBack } from '../../src/apply/lock-hand-back.js';
import { acquireLock, lockHolder, setLockRun, type LockHolder } from '../../src/db/journal.js';
import type { Db } from '../../src/db/open.js';
import type { Clock } from '../../src/clock.js';
import { RefusedError, toldAfter } from '../../src/errors.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const ME = { pid: 7, hostname: 'here', token: 'me', isAlive: () => false };
const AT = '2026-01-02T04:00:00Z';
const OTHER_MACHINE: LockHolder = {
  runId: null,
  pid: 4242,
  hostname: 'ops-container-3f2a',
  acquiredAt: '2026-01-02T03:04:05Z',
  renewedAt: '2026-01-02T03:04:05Z',
  token: 'other-machine',
};
const KILLED_HERE: LockHolder = {
  runId: 3,
  pid: 99,
  hostname: 'here',
  acquiredAt: '2026-01-02T03:00:00Z',
  renewedAt: '2026-01-02T03:00:00Z',
  token: 'killed-here',
};
const GIVEN_BACK =
  'the lock this apply took over with --take-over-lock is given back to pid 4242 on ops-container-3f2a (another machine), as it was: running it again takes --take-over-lock again, once that apply no longer runs there';

const FULL = 'database or disk is full';
/** The lock as this process took it, naming run 3: left so when it could not be given back. */
const LEFT_TO_ME: LockHolder = {
  runId: 3,
  pid: 7,
  hostname: 'here',
  acquiredAt: AT,
  renewedAt: AT,
  token: ME.token,
};
const NOT_GIVEN_BACK = `the lock this apply took over with --take-over-lock could not be given back to pid 4242 on ops-container-3f2a (another machine): ${FULL}. It is left naming this apply (pid 7 on here), which has ended, and the next apply on this machine takes it over as a process here that no longer runs: run apply again only once that apply no longer runs on ops-container-3f2a`;

/**
 * Every later give-back fails as on a full disk (SQLite's words); a release (DELETE) still
 * goes through, so a lock let go instead of left shows.
 */
function failGiveBack(db: Db): void {
  db.exec(`CREATE TRIGGER give_back_fails BEFORE UPDATE ON apply_lock
    BEGIN SELECT RAISE(ABORT, '${FULL}'); END`);
}

/** `holder`'s lock (none: free), then taken by ME (with --take-over-lock), naming `continued`. */
function take(
  db: Db,
  holder: LockHolder | undefined,
  continued?: number,
  clock: Clock = { now: () => new Date(AT) },
) {
  if (holder !== undefined) {
    const who = { ...holder, token: holder.token!, isAlive: () => true };
    acquireLock(db, who, holder.acquiredAt);
    if (holder.runId !== null) setLockRun(db, holder.runId, who);
  }
  const lock = acquireLock(db, ME, AT, true);
  if (!lock.acquired) throw new Error('not taken');
  if (continued !== undefined) setLockRun(db, continued, ME);
  return lockHandBack(
    db,
    ME,
    { acquiredAt: AT, tookOverFrom: lock.tookOverFrom, continued },
    clock,
  );
}

describe('the apply lock handed back', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());
  const onLedger = (fn: (db: Db) => void) => withLedger(dir.file('l.db'), fn);

  it("stopped before its run began: another machine's lock is theirs again, and said whose", () =>
    onLedger((db) => {
      const handBack = take(db, OTHER_MACHINE);
      expect(handBack.whenStopped()).toEqual({ pid: 4242, hostname: 'ops-container-3f2a' });
      expect(lockHolder(db)).toEqual(OTHER_MACHINE);
    }));

  it('stopped once its run began: the lock stays this process’s, nothing given back', () =>
    onLedger((db) => {
      const handBack = take(db, OTHER_MACHINE, 5);
      handBack.runBegun();
      expect(handBack.whenStopped()).toBeNull();
      expect(lockHolder(db)).toMatchObject({ pid: 7, hostname: 'here', runId: 5 });
    }));

  it('stopped before it took up a run: the lock goes back to the apply of this machine killed part way', () =>
    onLedger((db) => {
      const handBack = take(db, KILLED_HERE, 3);
      expect(handBack.whenStopped()).toBeNull();
      expect(lockHolder(db)).toEqual(KILLED_HERE);
    }));

  it('stopped before it took up a run, the lock found free: it names no run', () =>
    onLedger((db) => {
      const handBack = take(db, undefined, 3);
      expect(handBack.whenStopped()).toBeNull();
      // This process ends now: not shown as renewed.
      expect(lockHolder(db)).toEqual({
        runId: null,
        pid: 7,
        hostname: 'here',
        acquiredAt: AT,
        renewedAt: null,
        token: ME.token,
      });
    }));

  it('stopped, its lock taken over meanwhile by a third apply: that apply keeps it', () =>
    onLedger((db) => {
      const handBack = take(db, OTHER_MACHINE, 3);
      const third = { pid: 8, hostname: 'elsewhere', token: 'third', isAlive: () => true };
      acquireLock(db, third, '2026-01-02T05:00:00Z', true);
      expect(handBack.whenStopped()).toBeNull();
      expect(lockHolder(db)).toMatchObject({ pid: 8, hostname: 'elsewhere', runId: null });
    }));

  it("refused before its run began: another machine's lock is theirs again, told beneath the refusal", () =>
    onLedger((db) => {
      const handBack = take(db, OTHER_MACHINE, 3);
      const refusal = new RefusedError('drift');
      handBack.atEnd({ error: refusal });
      expect(lockHolder(db)).toEqual(OTHER_MACHINE);
      expect(toldAfter(refusal)).toEqual([GIVEN_BACK]);
    }));

  it("refused before its run began, another machine's lock not given back (full disk): told beneath the refusal, the lock left this process's", () =>
    onLedger((db) => {
      const handBack = take(db, OTHER_MACHINE, 3);
      failGiveBack(db);
      const refusal = new RefusedError('drift');
      handBack.atEnd({ error: refusal });
      expect(toldAfter(refusal)).toEqual([NOT_GIVEN_BACK]);
      expect(lockHolder(db)).toEqual(LEFT_TO_ME);
    }));

  it("stopped before its run began, another machine's lock not given back (full disk): whose it was and why, the lock left this process's", () =>
    onLedger((db) => {
      const handBack = take(db, OTHER_MACHINE, 3);
      failGiveBack(db);
      expect(handBack.whenStopped()).toEqual({
        pid: 4242,
        hostname: 'ops-container-3f2a',
        error: FULL,
        self: { pid: 7, hostname: 'here' },
      });
      expect(lockHolder(db)).toEqual(LEFT_TO_ME);
    }));

  it('stopped before it took up a run, the lock not given back to the apply killed part way (full disk): nothing thrown', () =>
    onLedger((db) => {
      const handBack = take(db, KILLED_HERE, 3);
      failGiveBack(db);
      expect(handBack.whenStopped()).toBeNull();
      expect(lockHolder(db)).toEqual(LEFT_TO_ME);
    }));

  it('refused before its run began, the lock found free: let go, nothing told', () =>
    onLedger((db) => {
      const handBack = take(db, undefined, 3);
      const refusal = new RefusedError('drift');
      handBack.atEnd({ error: refusal });
      expect(lockHolder(db)).toBeUndefined();
      expect(toldAfter(refusal)).toEqual([]);
    }));

  it("failed once its run began, or ended: let go, another machine's lock not given back", () =>
    onLedger((db) => {
      const failed = take(db, OTHER_MACHINE);
      failed.runBegun();
      const error = new Error('crash');
      failed.atEnd({ error });
      expect(lockHolder(db)).toBeUndefined();
      expect(toldAfter(error)).toEqual([]);
      const ended = take(db, OTHER_MACHINE);
      ended.runBegun();
      ended.atEnd();
      expect(lockHolder(db)).toBeUndefined();
    }));

  it('ends after a third apply took its lock over: that apply keeps it', () =>
    onLedger((db) => {
      const handBack = take(db, OTHER_MACHINE);
      const third = { pid: 8, hostname: 'elsewhere', token: 'third', isAlive: () => true };
      acquireLock(db, third, '2026-01-02T05:00:00Z', true);
      const refusal = new RefusedError('lost');
      handBack.atEnd({ error: refusal });
      expect(lockHolder(db)).toMatchObject({ pid: 8, hostname: 'elsewhere' });
      expect(toldAfter(refusal)).toEqual([]);
      expect(handBack.stillHeld()).toBe(false);
    }));
});

describe('the apply lock renewed while it is held', () => {
  let dir: TempDir;
  // A clock that the test moves with the fake timers, counting how often it is read.
  let at: number;
  let reads: number;
  const clock: Clock = {
    now: () => {
      reads += 1;
      return new Date(at);
    },
  };
  const wait = (ms: number) => {
    for (let left = ms; left > 0; left -= 1000) {
      at += 1000;
      vi.advanceTimersByTime(1000);
    }
  };
  const after = (seconds: number) =>
    new Date(Date.parse(AT) + seconds * 1000).toISOString().replace('.000Z', 'Z');
  beforeEach(() => {
    dir = tempDir();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    at = Date.parse(AT);
    reads = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
    dir.remove();
  });
  const onLedger = (fn: (db: Db) => void) => withLedger(dir.file('l.db'), fn);

  it('every 5 s from taking it until it is let go, and never after', () =>
    onLedger((db) => {
      const handBack = take(db, undefined, undefined, clock);
      expect(lockHolder(db)).toMatchObject({ renewedAt: AT });
      wait(4_000);
      expect(lockHolder(db)).toMatchObject({ renewedAt: AT });
      wait(1_000);
      expect(lockHolder(db)).toMatchObject({ renewedAt: after(5) });
      handBack.runBegun();
      wait(10_000);
      expect(lockHolder(db)).toMatchObject({ renewedAt: after(15) });
      handBack.atEnd();
      expect(lockHolder(db)).toBeUndefined();
      expect(vi.getTimerCount()).toBe(0);
      const read = reads;
      wait(60_000);
      expect(reads).toBe(read);
    }));

  it("stopped: another machine's lock given back with its own renewal, and not renewed after", () =>
    onLedger((db) => {
      const handBack = take(db, OTHER_MACHINE, undefined, clock);
      wait(5_000);
      expect(lockHolder(db)).toMatchObject({ pid: 7, renewedAt: after(5) });
      handBack.whenStopped();
      expect(lockHolder(db)).toEqual(OTHER_MACHINE);
      expect(vi.getTimerCount()).toBe(0);
      wait(30_000);
      expect(lockHolder(db)).toEqual(OTHER_MACHINE);
    }));

  it('refused before its run began: not renewed after the give-back', () =>
    onLedger((db) => {
      const handBack = take(db, OTHER_MACHINE, 3, clock);
      handBack.atEnd({ error: new RefusedError('drift') });
      expect(vi.getTimerCount()).toBe(0);
    }));

  it('a renewal that fails (a database kept busy) throws nothing; the next one renews', () =>
    onLedger((db) => {
      const handBack = take(db, undefined, undefined, clock);
      db.exec(`CREATE TRIGGER renewal_fails BEFORE UPDATE OF renewed_at ON apply_lock
        BEGIN SELECT RAISE(ABORT, 'database is locked'); END`);
      expect(() => wait(5_000)).not.toThrow();
      expect(lockHolder(db)).toMatchObject({ renewedAt: AT });
      db.exec('DROP TRIGGER renewal_fails');
      wait(5_000);
      expect(lockHolder(db)).toMatchObject({ renewedAt: after(10) });
      handBack.atEnd();
    }));

  it('renews only while this process holds it (taken over meanwhile: left as the taker wrote it)', () =>
    onLedger((db) => {
      const handBack = take(db, undefined, undefined, clock);
      db.prepare("UPDATE apply_lock SET pid = 8, hostname = 'elsewhere', renewed_at = ?").run(AT);
      wait(5_000);
      expect(lockHolder(db)).toMatchObject({ pid: 8, renewedAt: AT });
      handBack.atEnd();
    }));
});
