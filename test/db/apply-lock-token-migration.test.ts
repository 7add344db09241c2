/**
 * Migration 033: the token the apply holding the lock took it with (`token`), which alone tells
 * a process's own lock from that of another process of the same pid and hostname (another
 * container sharing the hostname, node pid 1 in each; a pid reused after a reboot). A new
 * database has the column. A database of every earlier schema that has the lock (004..032),
 * held by an apply of this very pid and hostname before the upgrade, opens with that lock as it
 * was and no token: another process's, never this one's. An apply of the same pid and host is
 * refused, as while the other container's apply may still run; --take-over-lock takes it over
 * once it is unrenewed, and the lock then names the taker's token.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { acquireLock, holdsLockNow, lockHolder } from '../../src/db/journal.js';
import { columnsOfNew, todayWithOlderLock, upgradedFrom } from '../support/older-schema.js';
import { tempDir, type TempDir } from '../support/snapshot-harness.js';

/** This container: node as pid 1, the hostname the older apply's had too. */
const HERE = { pid: 1, hostname: 'submigrate', token: 'this-process', isAlive: () => true };
const NOW = '2026-01-02T03:05:00Z';

describe('migration 033: the apply lock taken with a token', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('a new database has token', () => {
    expect(columnsOfNew(dir.file('new.db'), 'apply_lock')).toContain('token');
  });

  it("a database of every earlier schema keeps a lock of the same pid and host as another's", () => {
    const source = dir.file('today.db');
    // Written by an older submigrate in another container of this hostname: no token.
    todayWithOlderLock(source, {
      pid: 1,
      hostname: 'submigrate',
      acquiredAt: '2026-01-02T03:04:05Z',
    });

    const upgraded = upgradedFrom(dir.file, source, 33, (db) => {
      const held = lockHolder(db);
      const mine = holdsLockNow(db, HERE);
      const plain = acquireLock(db, HERE, NOW).acquired;
      const takenOver = acquireLock(db, HERE, NOW, true);
      return {
        held,
        mine,
        plain,
        takenOver,
        after: lockHolder(db),
        integrity: db.pragma('integrity_check', { simple: true }),
      };
    });
    expect(upgraded.map(([version]) => version)).toEqual(
      Array.from({ length: 32 }, (_, i) => i + 1),
    );
    const holder = {
      runId: null,
      pid: 1,
      hostname: 'submigrate',
      acquiredAt: '2026-01-02T03:04:05Z',
      renewedAt: null,
    };
    for (const [version, after] of upgraded) {
      if (version < 4) {
        // No lock then (migration 004 made it): free, and taken.
        expect(after, `schema ${version}`).toMatchObject({ held: undefined, plain: true });
        continue;
      }
      expect(after, `schema ${version}`).toEqual({
        held: holder,
        mine: false,
        plain: false,
        takenOver: { acquired: true, tookOverFrom: holder },
        after: { ...holder, acquiredAt: NOW, renewedAt: NOW, token: HERE.token },
        integrity: 'ok',
      });
    }
  });
});
