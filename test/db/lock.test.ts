/**
 * The apply lock taken over from another host (`--take-over-lock`, for a container replaced or a
 * database copied elsewhere): containers often run the tool under the same pid. Should the
 * process said to be gone still run there after all, its end must not release the lock of
 * the process that took it over (then a third apply could run beside it).
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  acquireLock,
  createApplyRun,
  giveLockBack,
  lockHeldAgainst,
  lockHolder,
  LockLostError,
  recordIntent,
  releaseLock,
  renewLock,
  setLockRun,
} from '../../src/db/journal.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const on = (hostname: string, pid = 7) => ({
  pid,
  hostname,
  token: `${hostname}:${pid}`,
  isAlive: () => true,
});

describe('the apply lock taken over from another host', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it("is not released by the old holder's end, under the same pid", async () => {
    await withLedger(dir.file('l.db'), (db) => {
      expect(acquireLock(db, on('old-container'), '2026-01-01T00:00:00Z').acquired).toBe(true);
      const taken = acquireLock(db, on('new-container'), '2026-01-01T01:00:00Z', true);
      expect(taken).toMatchObject({ acquired: true, tookOverFrom: { hostname: 'old-container' } });
      // The old process ends after all, and lets go of what it took to be its lock.
      releaseLock(db, on('old-container'));
      expect(lockHeldAgainst(db, on('third-host', 9))).toMatchObject({
        hostname: 'new-container',
        pid: 7,
      });
      // Its holder's own release does let go.
      releaseLock(db, on('new-container'));
      expect(lockHeldAgainst(db, on('third-host', 9))).toBeUndefined();
    });
  });

  it("is not renamed by the old holder's run, under the same pid", async () => {
    await withLedger(dir.file('l.db'), (db) => {
      acquireLock(db, on('old-container'), '2026-01-01T00:00:00Z');
      acquireLock(db, on('new-container'), '2026-01-01T01:00:00Z', true);
      setLockRun(db, 2, on('new-container'));
      // The old process goes on after all, and names the run it took up in what it takes
      // to be its lock: the lock still names the run of the apply that took it over.
      setLockRun(db, 1, on('old-container'));
      expect(lockHeldAgainst(db, on('third-host', 9))).toMatchObject({
        hostname: 'new-container',
        runId: 2,
      });
    });
  });
});

describe('a run begun under the apply lock', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const run = {
    planPath: 'a.plan.json',
    planIntegrity: 'sha256:0',
    planFingerprint: 'f',
    parentAccountSid: 'AC00000000000000000000000000000000',
    startedAt: '2026-01-01T00:00:00Z',
    optionsJson: '{}',
    planJson: '{}',
  };
  const steps = [{ id: 'create_subaccount:acme', action: 'create_subaccount', customerId: 'acme' }];

  it('is named in the lock as it is created', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      acquireLock(db, on('here'), '2026-01-01T00:00:00Z');
      const id = createApplyRun(db, run, steps, on('here'));
      expect(lockHeldAgainst(db, on('there', 9))).toMatchObject({ hostname: 'here', runId: id });
    });
  });

  it('is not left begun under a lock that does not name it (a kill in between)', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      acquireLock(db, on('here'), '2026-01-01T00:00:00Z');
      // The lock's record cannot be written (as if the process died before it was): the run
      // is not begun either, so the next apply never takes it for one that had begun no run.
      db.exec(
        "CREATE TEMP TRIGGER no_lock_run BEFORE UPDATE OF run_id ON apply_lock BEGIN SELECT RAISE(ABORT, 'killed'); END",
      );
      expect(() => createApplyRun(db, run, steps, on('here'))).toThrow('killed');
      expect(db.prepare('SELECT COUNT(*) AS n FROM apply_runs').get()).toEqual({ n: 0 });
      expect(lockHeldAgainst(db, on('there', 9))).toMatchObject({ runId: null });
    });
  });

  it('is not begun by an apply whose lock was taken over meanwhile', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      acquireLock(db, on('old-container'), '2026-01-01T00:00:00Z');
      acquireLock(db, on('new-container'), '2026-01-01T01:00:00Z', true);
      // The old process, said to run no more, checked its plan after all and begins its run.
      expect(() => createApplyRun(db, run, steps, on('old-container'))).toThrow(LockLostError);
      expect(db.prepare('SELECT COUNT(*) AS n FROM apply_runs').get()).toEqual({ n: 0 });
    });
  });

  it("has no step's intent written by an apply whose lock was taken over while it sent", async () => {
    await withLedger(dir.file('l.db'), (db) => {
      acquireLock(db, on('old-container'), '2026-01-01T00:00:00Z');
      const id = createApplyRun(db, run, steps, on('old-container'));
      const step = 'create_subaccount:acme';
      // Its renewals stopped for 30 s (its machine suspended); another machine took over.
      acquireLock(db, on('new-container'), '2026-01-01T01:00:00Z', true);
      expect(() =>
        recordIntent(db, id, step, '2026-01-01T01:00:01Z', {}, on('old-container')),
      ).toThrow(LockLostError);
      const state = () =>
        db.prepare('SELECT state, attempts FROM apply_steps WHERE step_id = ?').get(step);
      expect(state()).toEqual({ state: 'pending', attempts: 0 });
      // The apply that holds it sends it.
      recordIntent(db, id, step, '2026-01-01T01:00:02Z', {}, on('new-container'));
      expect(state()).toEqual({ state: 'in_flight', attempts: 1 });
    });
  });
});

describe('--take-over-lock and an apply on another host that renews the lock', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const T = '2026-01-01T00:00:00Z';
  const after = (seconds: number) => new Date(Date.parse(T) + seconds * 1000).toISOString();
  const NOW = '2026-01-01T01:00:00Z';
  /** An apply on 'there' that took the lock at T and last renewed it at `renewedAt`. */
  const heldThere = (db: Parameters<typeof renewLock>[0], renewedAt: string | null) => {
    acquireLock(db, on('there'), T);
    db.prepare('UPDATE apply_lock SET renewed_at = ?').run(renewedAt);
  };
  const ago = (seconds: number) => new Date(Date.parse(NOW) - seconds * 1000).toISOString();

  it('refuses one renewed 10 s ago: it still runs there', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      heldThere(db, ago(10));
      expect(acquireLock(db, on('here'), NOW, true)).toMatchObject({
        acquired: false,
        holder: { hostname: 'there', renewedAt: ago(10) },
      });
      expect(lockHolder(db)).toMatchObject({ hostname: 'there' });
    });
  });

  it('refuses one renewed 29 s ago, and takes one renewed 30 s and 31 s ago', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      heldThere(db, ago(29));
      expect(acquireLock(db, on('here'), NOW, true).acquired).toBe(false);
    });
    for (const seconds of [30, 31, 3600]) {
      await withLedger(dir.file(`l${seconds}.db`), (db) => {
        heldThere(db, ago(seconds));
        expect(acquireLock(db, on('here'), NOW, true)).toMatchObject({
          acquired: true,
          tookOverFrom: { hostname: 'there', renewedAt: ago(seconds) },
        });
        expect(lockHolder(db)).toMatchObject({ hostname: 'here', renewedAt: NOW });
      });
    }
  });

  it('refuses one renewed in the future of this clock (clock skew: taken to run)', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      heldThere(db, ago(-120));
      expect(acquireLock(db, on('here'), NOW, true).acquired).toBe(false);
      expect(lockHolder(db)).toMatchObject({ hostname: 'there' });
    });
  });

  it('refuses one whose renewal cannot be read as a time (taken to run: nothing says it stopped)', async () => {
    // A database edited by hand, or a renewal another program wrote; `5` and a datetime with
    // no offset are not read as the year 2005 or this machine's local time either.
    const unreadable = ['soon', '5', '2026-01-01 00:59:50', '2026-13-45T00:00:00Z', ''];
    for (const [i, renewedAt] of unreadable.entries()) {
      await withLedger(dir.file(`u${i}.db`), (db) => {
        heldThere(db, renewedAt);
        expect(acquireLock(db, on('here'), NOW, true), renewedAt).toMatchObject({
          acquired: false,
          holder: { hostname: 'there', renewedAt },
        });
        expect(lockHolder(db)).toMatchObject({ hostname: 'there', renewedAt });
      });
    }
  });

  it('takes one never renewed (NULL: a lock written before renewals)', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      heldThere(db, null);
      expect(acquireLock(db, on('here'), NOW, true)).toMatchObject({
        acquired: true,
        tookOverFrom: { hostname: 'there', renewedAt: null },
      });
    });
  });

  it('still refuses another host without --take-over-lock, renewed or not', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      heldThere(db, null);
      expect(acquireLock(db, on('here'), NOW).acquired).toBe(false);
    });
  });

  it('is renewed only by its holder (pid and host both)', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      acquireLock(db, on('there'), T);
      expect(lockHolder(db)).toMatchObject({ renewedAt: T });
      expect(renewLock(db, on('here'), after(5))).toBe(false);
      expect(renewLock(db, on('there', 8), after(5))).toBe(false);
      expect(lockHolder(db)).toMatchObject({ renewedAt: T });
      expect(renewLock(db, on('there'), after(5))).toBe(true);
      expect(lockHolder(db)).toMatchObject({ renewedAt: after(5) });
    });
  });

  it("given back, shows its holder's own renewal, not the taker's", async () => {
    await withLedger(dir.file('l.db'), (db) => {
      heldThere(db, ago(60));
      const taken = acquireLock(db, on('here'), NOW, true);
      if (!taken.acquired || taken.tookOverFrom === null) throw new Error('not taken');
      renewLock(db, on('here'), after(3605));
      expect(giveLockBack(db, on('here'), taken.tookOverFrom)).toBe(true);
      expect(lockHolder(db)).toEqual({
        runId: null,
        pid: 7,
        hostname: 'there',
        acquiredAt: T,
        renewedAt: ago(60),
        token: 'there:7',
      });
      // So it may be taken over again at once.
      expect(acquireLock(db, on('here'), NOW, true).acquired).toBe(true);
    });
  });
});
