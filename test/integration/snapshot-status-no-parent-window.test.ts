/**
 * A snapshot of a subaccount whose run holds no window of the parent's: `--until` older than
 * what the parent's Messages API shows (a shorter retention recorded for it) with
 * `--no-export`. `status` took such a run, stopped, for a reconcile pass killed before it
 * recorded its pass ("`submigrate reconcile` runs the pass again"), and the snapshot command
 * given again did not take it up (the resume check looked for the parent among its windows):
 * it was abandoned and read again from the start.
 */

import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';

import { createRun, listWindows } from '../../src/db/snapshot-runs.js';
import { latestSnapshotState } from '../../src/optouts/snapshot.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  fixedClock,
  readOnly,
  snapshotInto,
  withLedger,
  LONE_SUB as SUB,
  oldStopInSubaccount,
} from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
/** Not the process that ran the snapshot: the run reads as stopped. */
const ANOTHER = { pid: -1, hostname: 'vitest', isAlive: () => false };

describe('a stopped snapshot run with no window of the parent', () => {
  const ws = useCliWorkspace(undefined, NOW);

  beforeAll(async () => {
    await ws.env.seed(oldStopInSubaccount(NOW));
  });

  it('is a snapshot, and its command takes it up', async () => {
    const db = ws.dir.file('sub-only.db');
    // The parent's Messages API window recorded as 30 days; the subaccount's is Twilio's 400.
    await snapshotInto(db, ws.env.port(), fixedClock(NOW), { retentionDays: 30, useExport: false });
    const window = {
      accounts: [SUB],
      since: new Date(NOW - 60 * DAY),
      until: new Date(NOW - 40 * DAY),
      useExport: false,
    };
    const second = await snapshotInto(db, ws.env.port(), fixedClock(NOW), window);
    expect(second.messagesRead).toBe(1);
    const windows = await withLedger(db, (d) => listWindows(d, second.runId));
    expect(windows.map((w) => w.accountSid)).toEqual([SUB]);

    // As if killed before its last slice was recorded.
    const raw = new Database(db);
    raw
      .prepare(`UPDATE snapshot_runs SET status = 'running', finished_at = NULL WHERE id = ?`)
      .run(second.runId);
    raw
      .prepare(
        `UPDATE snapshot_slices SET status = 'pending', messages_read = 0, next_page_url = NULL
         WHERE run_id = ? AND slice_index = (SELECT MAX(slice_index) FROM snapshot_slices WHERE run_id = ?)`,
      )
      .run(second.runId, second.runId);
    raw.close();

    const state = await withLedger(db, (d) => latestSnapshotState(d, ANOTHER));
    expect(state?.state).toBe('stopped');
    expect(state?.reconcileRun).toBe(false);
    const args = state!.resumeArguments!;
    expect(args).toEqual([
      '--since',
      new Date(NOW - 60 * DAY).toISOString().replace('.000Z', 'Z'),
      '--until',
      new Date(NOW - 40 * DAY).toISOString().replace('.000Z', 'Z'),
      '--account',
      SUB,
      '--no-export',
    ]);

    const again = await snapshotInto(db, ws.env.port(), fixedClock(NOW + 3_600_000), window);
    expect(again.resumed).toBe(true);
    expect(again.runId).toBe(second.runId);
    const runs = readOnly(db, (d) =>
      d.prepare(`SELECT id, status FROM snapshot_runs ORDER BY id`).all(),
    );
    expect(runs).toEqual([
      { id: 1, status: 'completed' },
      { id: 2, status: 'completed' },
    ]);
  });

  it("a reconcile pass's run, killed, is not taken up by a snapshot of the same subaccounts", async () => {
    // A pass records its windows (read in full) before it adds what it read to the ledger: a
    // snapshot that took such a run up would read nothing and count them as read.
    const db = ws.dir.file('pass.db');
    await withLedger(db, (d) =>
      createRun(
        d,
        {
          parentAccountSid: ws.env.port().parentAccountSid,
          startedAt: new Date(NOW).toISOString().replace('.000Z', 'Z'),
          pid: 4_194_305,
          hostname: 'vitest',
          partitions: 1,
          keywordsJson: '{}',
          explicitWindow: false,
          madeBy: 'reconcile',
        },
        [
          {
            accountSid: SUB,
            source: 'api',
            windowStart: new Date(NOW - 60 * DAY).toISOString().replace('.000Z', 'Z'),
            windowEnd: new Date(NOW).toISOString().replace('.000Z', 'Z'),
          },
        ],
        [],
      ),
    );
    const state = await withLedger(db, (d) => latestSnapshotState(d, ANOTHER));
    expect(state?.reconcileRun).toBe(true);
    const snapshot = await snapshotInto(db, ws.env.port(), fixedClock(NOW + 3_600_000), {
      accounts: [SUB],
      useExport: false,
    });
    expect(snapshot.resumed).toBe(false);
    const runs = readOnly(db, (d) =>
      d.prepare(`SELECT id, status FROM snapshot_runs ORDER BY id`).all(),
    );
    expect(runs).toEqual([
      { id: 1, status: 'abandoned' },
      { id: 2, status: 'completed' },
    ]);
  });
});
