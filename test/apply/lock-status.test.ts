/**
 * lockStatus on a real SQLite file: the lock whoever it names, alive or not, seen from this
 * machine at a given time — live, dead-process or stale, why, when it renewed, and from when
 * --take-over-lock takes it (another machine's with a renewal it can read).
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { lockStatus } from '../../src/apply/lock-status.js';
import { acquireLock, createApplyRun, type LockHolder } from '../../src/db/journal.js';
import type { Db } from '../../src/db/open.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const NOW = new Date('2026-01-01T01:00:00Z');
const T = '2026-01-01T00:00:00Z';
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString().replace('.000', '');
/** `status` here: a process of another pid than the lock's holder. */
const here = (alive: boolean) => ({ pid: 7, hostname: 'here', isAlive: () => alive });

function held(db: Db, hostname: string, renewedAt: string | null): void {
  acquireLock(db, { pid: 4242, hostname, token: 'held', isAlive: () => true }, T);
  db.prepare('UPDATE apply_lock SET renewed_at = ?').run(renewedAt);
}

describe('lockStatus', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('no lock: null', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      expect(lockStatus(db, here(true), NOW)).toBeNull();
    });
  });

  it("this machine's: live while its process runs, dead-process once it is gone", async () => {
    await withLedger(dir.file('l.db'), (db) => {
      held(db, 'here', ago(600));
      const holder: LockHolder = {
        runId: null,
        pid: 4242,
        hostname: 'here',
        acquiredAt: T,
        renewedAt: ago(600),
        token: 'held',
      };
      expect(lockStatus(db, here(true), NOW)).toEqual({
        ...holder,
        thisMachine: true,
        ownPid: false,
        state: 'live',
        reason: 'process-runs',
        checkedAt: '2026-01-01T01:00:00Z',
        renewedSecondsAgo: 600,
        takeOverFrom: null,
        run: null,
      });
      expect(lockStatus(db, here(false), NOW)).toMatchObject({
        state: 'dead-process',
        reason: 'process-gone',
      });
    });
  });

  it("another machine's, as --take-over-lock reads it", async () => {
    const cases: [string | null, object][] = [
      [ago(12), { state: 'live', reason: 'renewed', renewedSecondsAgo: 12 }],
      [ago(29), { state: 'live', reason: 'renewed', takeOverFrom: '2026-01-01T01:00:01Z' }],
      [ago(30), { state: 'stale', reason: 'not-renewed', renewedSecondsAgo: 30 }],
      [ago(-40), { state: 'live', reason: 'renewed-ahead', renewedSecondsAgo: -40 }],
      ['soon', { state: 'live', reason: 'renewal-unreadable', renewedSecondsAgo: null }],
      [null, { state: 'stale', reason: 'never-renewed', takeOverFrom: null }],
    ];
    for (const [i, [renewedAt, expected]] of cases.entries()) {
      await withLedger(dir.file(`o${i}.db`), (db) => {
        held(db, 'there', renewedAt);
        // Whether a process 4242 runs here says nothing of another machine's.
        for (const alive of [true, false]) {
          expect(lockStatus(db, here(alive), NOW), String(renewedAt)).toMatchObject({
            thisMachine: false,
            renewedAt,
            ...expected,
          });
        }
      });
    }
  });

  it('names the plan of the run the lock names', async () => {
    await withLedger(dir.file('l.db'), (db) => {
      const me = { pid: 4242, hostname: 'there', token: 'there', isAlive: () => true };
      acquireLock(db, me, T);
      createApplyRun(
        db,
        {
          planPath: 'plans/a.plan.json',
          planIntegrity: 'sha256:0',
          planFingerprint: 'f',
          parentAccountSid: 'AC00000000000000000000000000000000',
          startedAt: T,
          optionsJson: '{"allow_missing_snapshot":true}',
          planJson: '{}',
        },
        [],
        me,
      );
      expect(lockStatus(db, here(true), NOW)).toMatchObject({
        runId: 1,
        run: { planPath: 'plans/a.plan.json', optionsJson: '{"allow_missing_snapshot":true}' },
      });
    });
  });

  it("one of this host under the looking process's own pid: told by its renewals, unseen", async () => {
    await withLedger(dir.file('l.db'), (db) => {
      // Held by another container sharing the hostname, node pid 1 in each; `status` runs as
      // pid 1 here too, so that a process of that pid runs says nothing of the other's.
      acquireLock(db, { pid: 1, hostname: 'here', token: 'other', isAlive: () => true }, T);
      db.prepare('UPDATE apply_lock SET renewed_at = ?').run(ago(95));
      const me = { pid: 1, hostname: 'here', isAlive: () => true };
      expect(lockStatus(db, me, NOW)).toMatchObject({
        thisMachine: false,
        ownPid: true,
        state: 'stale',
        reason: 'not-renewed',
        takeOverFrom: ago(65),
      });
      db.prepare('UPDATE apply_lock SET renewed_at = ?').run(ago(5));
      expect(lockStatus(db, me, NOW)).toMatchObject({ state: 'live', reason: 'renewed' });
    });
  });
});
