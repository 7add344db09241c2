/**
 * Migration 030: when the apply holding the lock last renewed it (`renewed_at`), so that
 * `apply --take-over-lock` can tell an apply that still runs on another machine from one that
 * stopped. A new database has the column; a database of every earlier schema that has the lock
 * (004..029), held by an apply of another machine, opens with that lock as it was and its
 * renewal unknown (NULL): never taken for an apply that runs, so --take-over-lock takes it over
 * as before, and an apply without it is still refused.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { acquireLock, lockHolder } from '../../src/db/journal.js';
import { columnsOfNew, todayWithOlderLock, upgradedFrom } from '../support/older-schema.js';
import { tempDir, type TempDir } from '../support/snapshot-harness.js';

const HERE = { pid: 7, hostname: 'ops-laptop', token: 'here', isAlive: () => true };
const NOW = '2026-01-02T03:04:10Z';

describe('migration 030: the apply lock renewed', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('a new database has renewed_at', () => {
    expect(columnsOfNew(dir.file('new.db'), 'apply_lock')).toContain('renewed_at');
  });

  it("a database of every earlier schema keeps another machine's lock, never renewed", () => {
    const source = dir.file('today.db');
    // Written by an older submigrate: no renewal (an older one never wrote it).
    todayWithOlderLock(source, {
      pid: 4242,
      hostname: 'ops-container-3f2a',
      acquiredAt: '2026-01-02T03:04:05Z',
    });

    const upgraded = upgradedFrom(dir.file, source, 30, (db) => {
      const held = lockHolder(db);
      const plain = acquireLock(db, HERE, NOW).acquired;
      const takenOver = acquireLock(db, HERE, NOW, true);
      return { held, plain, takenOver, integrity: db.pragma('integrity_check', { simple: true }) };
    });
    expect(upgraded.map(([version]) => version)).toEqual(
      Array.from({ length: 29 }, (_, i) => i + 1),
    );
    const holder = {
      runId: null,
      pid: 4242,
      hostname: 'ops-container-3f2a',
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
        plain: false,
        takenOver: { acquired: true, tookOverFrom: holder },
        integrity: 'ok',
      });
    }
  });
});
