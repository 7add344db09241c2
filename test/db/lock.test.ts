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
  lockHeldAgainst,
  LockLostError,
  releaseLock,
  setLockRun,
} from '../../src/db/journal.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const on = (hostname: string, pid = 7) => ({ pid, hostname, isAlive: () => true });

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
});
