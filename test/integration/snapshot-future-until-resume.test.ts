/**
 * A snapshot asked for a window that ends in the future (`--until` past now) reads up to now
 * only: coverage must not claim time not yet read. Stopped and run again with the same
 * `--until`, it is taken up, as its stop message says. The resume check compared the run's
 * last window end (now, when it started) with `--until` itself, so the run was abandoned and
 * a new one read the whole window again.
 */

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { fixedClock, readOnly, snapshotInto } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N1 = '+14155550001';

describe('a snapshot whose --until is in the future, stopped and run again', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: N1 }],
      messages: [
        {
          from: '+12065550001',
          to: N1,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 5 * DAY).toISOString(),
        },
        {
          from: '+12065550002',
          to: N1,
          body: 'HELP',
          direction: 'inbound',
          date_sent: new Date(NOW - 2 * DAY).toISOString(),
        },
      ],
    },
    NOW,
  );

  it('is taken up, not abandoned, and counts each message once', async () => {
    const db = ws.dir.file('u.db');
    const window = { since: new Date(NOW - 10 * DAY), until: new Date(NOW + 30 * DAY) };
    const first = await snapshotInto(db, ws.env.port(), fixedClock(NOW), window);
    expect(first.messagesRead).toBe(2);

    // As if killed before its last slice was recorded.
    const raw = new Database(db);
    raw.prepare(`UPDATE snapshot_runs SET status = 'running', finished_at = NULL`).run();
    const last = raw
      .prepare(`SELECT MAX(slice_index) AS i FROM snapshot_slices WHERE run_id = 1`)
      .get() as { i: number };
    raw
      .prepare(
        `UPDATE snapshot_slices SET status = 'pending', messages_read = 0, next_page_url = NULL WHERE run_id = 1 AND slice_index = ?`,
      )
      .run(last.i);
    raw.close();

    const again = await snapshotInto(db, ws.env.port(), fixedClock(NOW + 3_600_000), window);
    expect(again.resumed).toBe(true);
    expect(again.runId).toBe(1);
    const runs = readOnly(db, (d) =>
      d.prepare(`SELECT id, status FROM snapshot_runs ORDER BY id`).all(),
    );
    expect(runs).toEqual([{ id: 1, status: 'completed' }]);
  });
});
