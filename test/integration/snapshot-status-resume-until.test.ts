/**
 * `status` gives a stopped snapshot's command, and that command must take the run up. A run
 * given `--until` alone reads each account from its own history's start; the command said
 * `--since` the earliest of them, which the resume check holds every account to, so a
 * subaccount created later did not match: the run was abandoned and read again from the start.
 */

import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';

import { latestSnapshotState } from '../../src/optouts/snapshot.js';
import { useCliWorkspace } from '../support/migration.js';
import { fixedClock, readOnly, snapshotInto, withLedger } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const SUB = `AC${'5'.repeat(32)}`;
const N1 = '+14155550001';
const N2 = '+14155550002';
/** Not the process that ran the snapshot: the run reads as stopped. */
const ANOTHER = { pid: -1, hostname: 'vitest', isAlive: () => false };

/** The `snapshot` arguments `status` gives, as the snapshot's input. */
function asInput(args: readonly string[]) {
  const value = (flag: string) => {
    const at = args.indexOf(flag);
    return at === -1 ? null : new Date(args[at + 1]!);
  };
  return {
    since: value('--since'),
    until: value('--until'),
    accounts: args.flatMap((arg, i) => (args[i - 1] === '--account' ? [arg] : [])),
    useExport: !args.includes('--no-export'),
  };
}

describe("status's command for a stopped snapshot given --until alone", () => {
  const ws = useCliWorkspace(undefined, NOW);

  beforeAll(async () => {
    // Their history starts apart: the parent's 20 days back, the subaccount's 5.
    await ws.env.seed({
      subaccounts: [{ friendly_name: 'Acme', sid: SUB }],
      numbers: [{ phone_number: N1 }, { phone_number: N2, account_sid: SUB }],
      messages: [
        {
          from: '+12065550001',
          to: N1,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 20 * DAY).toISOString(),
        },
        {
          from: '+12065550002',
          to: N2,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 5 * DAY).toISOString(),
        },
      ],
    });
  });

  for (const [name, until] of [
    ['a past --until', NOW - DAY],
    ['a future --until', NOW + 30 * DAY],
  ] as const) {
    it(`${name}: the command takes the run up`, async () => {
      const db = ws.dir.file(`${until}.db`);
      const window = { accounts: [SUB], until: new Date(until), useExport: false };
      const first = await snapshotInto(db, ws.env.port(), fixedClock(NOW), window);
      expect(first.messagesRead).toBe(2);

      // As if killed before its last slice was recorded.
      const raw = new Database(db);
      raw.prepare(`UPDATE snapshot_runs SET status = 'running', finished_at = NULL`).run();
      raw
        .prepare(
          `UPDATE snapshot_slices SET status = 'pending', messages_read = 0, next_page_url = NULL
           WHERE run_id = 1 AND slice_index = (SELECT MAX(slice_index) FROM snapshot_slices)`,
        )
        .run();
      raw.close();

      const state = await withLedger(db, (d) => latestSnapshotState(d, ANOTHER));
      expect(state?.state).toBe('stopped');
      const args = state!.resumeArguments!;

      const again = await snapshotInto(
        db,
        ws.env.port(),
        fixedClock(NOW + 3_600_000),
        asInput(args),
      );
      expect(again.resumed).toBe(true);
      expect(again.runId).toBe(1);
      const runs = readOnly(db, (d) =>
        d.prepare(`SELECT id, status FROM snapshot_runs ORDER BY id`).all(),
      );
      expect(runs).toEqual([{ id: 1, status: 'completed' }]);
    });
  }
});
