/**
 * A run whose API window was narrowed (the API showed less than assumed, the days before read
 * from Bulk Export), stopped while it read those days and taken up again: the window stays as
 * it was narrowed. The check was made again on resume, and looked only at slices starting
 * inside the (now narrowed) window — none do — so it narrowed the window once more, to the last
 * week, and added those days to Bulk Export: messages the API had counted were counted again
 * from day files. (Found by the randomized kill test, snapshot-kill-random.)
 */

import { beforeAll, describe, expect, it } from 'vitest';

import { listExportDays, listWindows } from '../../src/db/snapshot-runs.js';
import { useCliWorkspace } from '../support/migration.js';
import { fixedClock, readOnly, snapshotInto } from '../support/snapshot-harness.js';
import Database from 'better-sqlite3';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N1 = '+14155550001';

describe('a narrowed API window, stopped while its days are read', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: N1 }],
      messages: [
        {
          from: '+12065550001',
          to: N1,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 100 * DAY).toISOString(),
        },
        {
          from: '+12065550002',
          to: N1,
          body: 'HELP',
          direction: 'inbound',
          date_sent: new Date(NOW - 10 * DAY).toISOString(),
        },
      ],
    },
    NOW,
  );

  beforeAll(async () => {
    // The API shows 30 days; 400 are assumed.
    await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 30 });
  });

  it('is taken up with its windows and days as they were, each message counted once', async () => {
    const db = ws.dir.file('n.db');
    const first = await snapshotInto(db, ws.env.port(), fixedClock(NOW));
    expect(first.messagesRead).toBe(2);
    const view = () =>
      readOnly(db, (d) => ({
        windows: listWindows(d as never, 1),
        days: listExportDays(d as never, 1).length,
      }));
    const narrowed = view();
    expect(narrowed.windows.map((w) => w.source).sort()).toEqual(['api', 'export']);

    // As if killed before its last day with the STOP in it was recorded.
    const stopDay = new Date(NOW - 100 * DAY).toISOString().slice(0, 10);
    const raw = new Database(db);
    raw.prepare(`UPDATE snapshot_runs SET status = 'running', finished_at = NULL`).run();
    raw
      .prepare(
        `UPDATE snapshot_export_days SET status = 'pending', messages_read = 0 WHERE day = ?`,
      )
      .run(stopDay);
    raw.close();

    const again = await snapshotInto(db, ws.env.port(), fixedClock(NOW));
    expect(again.resumed).toBe(true);
    expect(view()).toEqual(narrowed);
    // The STOP's day, and nothing the API counted already.
    expect(again.messagesRead).toBe(1);
  });
});
