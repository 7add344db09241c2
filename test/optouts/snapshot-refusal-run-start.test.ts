/**
 * The refusal of a run another machine recorded running named its process and "since" the
 * run's start: after that run was taken up (`--take-over-run`, or a snapshot there after a
 * crash), the process named began later, and "pid … on …, since …" told the engineer it had run
 * since then. It now says when the run began, as the run's. On a real SQLite file.
 */

import { describe, expect, it } from 'vitest';

import { adoptRun, createRun } from '../../src/db/snapshot-runs.js';
import { refuseLiveSnapshot } from '../../src/optouts/snapshot.js';
import { tempDir, withLedger } from '../support/snapshot-harness.js';

const PARENT = `AC${'1'.repeat(32)}`;
const HERE = { pid: process.pid, hostname: 'ops-laptop', isAlive: () => false };

describe("the refusal of another machine's run", () => {
  it('dates the run, not the process that took it up', async () => {
    const dir = tempDir();
    try {
      await withLedger(dir.file('l.db'), (db) => {
        const id = createRun(
          db,
          {
            parentAccountSid: PARENT,
            startedAt: '2026-12-01T10:00:00Z',
            pid: 4242,
            hostname: 'build-box-7',
            partitions: 1,
            keywordsJson: '{}',
            explicitWindow: false,
            madeBy: 'snapshot',
          },
          [],
          [],
        );
        // Taken up on build-box-8 a day later.
        adoptRun(db, id, 5151, 'build-box-8');
        expect(() => refuseLiveSnapshot(db, PARENT, HERE)).toThrow(
          /^snapshot run 1 is recorded running by pid 5151 on build-box-8 \(the run began 2026-12-01T10:00:00Z\); another machine/,
        );
      });
    } finally {
      dir.remove();
    }
  });
});
