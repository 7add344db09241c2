/**
 * The apply lock taken over from another host (`--take-over-lock`, for a container replaced or a
 * database copied elsewhere): containers often run the tool under the same pid. Should the
 * process said to be gone still run there after all, its end must not release the lock of
 * the process that took it over (then a third apply could run beside it).
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { acquireLock, lockHeldAgainst, releaseLock } from '../../src/db/journal.js';
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
});
