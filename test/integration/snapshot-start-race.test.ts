/**
 * Two snapshots started in the same instant: the look for a running run and the start of a
 * new one are one write-locked step, so another process cannot start its own run between
 * them. Not timing-based: the other process (a second SQLite connection on the same file)
 * acts at the exact moment this one inserts its run, the point where the old check-then-insert
 * let both through.
 */

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { createRun, findRunningRun } from '../../src/db/snapshot-runs.js';
import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import { DEFAULT_PARTITIONS, takeSnapshot } from '../../src/optouts/snapshot.js';
import { RefusedError } from '../../src/errors.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  cliEnv,
  fixedClock,
  runCli,
  readOnly,
  TEST_RUNNER,
  withLedger,
} from '../support/snapshot-harness.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

describe('two snapshots started at once', () => {
  const ws = useCliWorkspace(undefined, {
    now: () => NOW,
    load: (state) => loadOwlie(state, { seed: 5, messages: 300, now: NOW }),
  });

  it('cannot both start a run: the other waits for the lock instead of slipping in', async () => {
    const dbPath = ws.dir.file('race.db');
    const parentSid = ws.env.port().parentAccountSid;
    const clock = fixedClock(NOW);
    let other: string | undefined;

    // The other process: checks for a running run and starts one, write-locked as a snapshot
    // does. Without waiting (busy_timeout 0), so a held lock shows as SQLITE_BUSY at once.
    const otherSnapshotStarts = () => {
      const db = new Database(dbPath);
      try {
        db.pragma('busy_timeout = 0');
        other = db
          .transaction(() => {
            const running = findRunningRun(db, parentSid);
            if (running !== undefined) return `saw run ${running.id}`;
            createRun(
              db,
              {
                parentAccountSid: parentSid,
                startedAt: new Date(NOW).toISOString(),
                pid: 999_999,
                hostname: 'other-process',
                partitions: 1,
                keywordsJson: '{}',
                explicitWindow: false,
                madeBy: 'snapshot',
              },
              [],
              [],
            );
            return 'started a run';
          })
          .immediate();
      } catch (error) {
        other = (error as { code?: string }).code ?? String(error);
      } finally {
        db.close();
      }
    };

    const result = await withLedger(dbPath, (db) => {
      // The other process acts just as this one is about to insert its run: after this one
      // looked for a running run and found none.
      const prepare = db.prepare.bind(db);
      db.prepare = ((sql: string) => {
        if (other === undefined && sql.includes('INSERT INTO snapshot_runs')) {
          otherSnapshotStarts();
        }
        return prepare(sql);
      }) as typeof db.prepare;
      return takeSnapshot(
        { accounts: [], since: null, until: null, partitions: DEFAULT_PARTITIONS },
        { twilio: ws.env.port(), db, clock, runner: TEST_RUNNER },
      );
    });

    // The other process could not start a run while this one held the check and the insert.
    expect(other).toBe('SQLITE_BUSY');
    const runs = readOnly(dbPath, (db) =>
      db.prepare('SELECT id, status, hostname FROM snapshot_runs ORDER BY id').all(),
    );
    expect(runs).toEqual([{ id: result.runId, status: 'completed', hostname: 'vitest' }]);

    // The lock is let go with the run started: the other process gets it now (this run has
    // finished, so it may start its own).
    other = undefined;
    otherSnapshotStarts();
    expect(other).toBe('started a run');
  });
  it('refuses a live run at a look, without waiting for the write lock its commits hold', async () => {
    const dbPath = ws.dir.file('busy.db');
    const parentSid = ws.env.port().parentAccountSid;
    // A live run on this host (it says so: isAlive), reading, so holding the write lock
    // between its page commits: here held for good by a second connection.
    await withLedger(dbPath, (db) =>
      createRun(
        db,
        {
          parentAccountSid: parentSid,
          startedAt: new Date(NOW).toISOString(),
          pid: 4242,
          hostname: 'vitest',
          partitions: 1,
          keywordsJson: '{}',
          explicitWindow: false,
          madeBy: 'snapshot',
        },
        [],
        [],
      ),
    );
    const writer = new Database(dbPath);
    writer.exec('BEGIN IMMEDIATE');
    try {
      const refusal = await withLedger(dbPath, (db) =>
        takeSnapshot(
          { accounts: [], since: null, until: null, partitions: DEFAULT_PARTITIONS },
          {
            twilio: ws.env.port(),
            db,
            clock: fixedClock(NOW),
            runner: { ...TEST_RUNNER, isAlive: (pid: number) => pid === 4242 },
          },
        ),
      ).catch((error: unknown) => error);
      // Not "database is locked" after the busy timeout: the refusal a live run gets.
      expect(refusal).toBeInstanceOf(RefusedError);
      expect((refusal as Error).message).toContain(
        'snapshot run 1 is still in progress (pid 4242)',
      );
      // Nor does opening the database write to it: `status` reads while the lock is held.
      const status = await runCli(['status', '--db', dbPath], cliEnv(ws.env));
      expect(status.code, status.stderr).toBe(0);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
  });
});
