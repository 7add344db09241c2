/**
 * A snapshot with Bulk Export that sees the API show nothing at the start of a window (a quiet
 * weekend at the start of an incremental window, say) narrows that run's window and reads the
 * days before from Bulk Export, but keeps no shorter window for the account: a quiet spell
 * looks the same as a shorter retention, and keeping it would leave every later refresh's
 * older days not read, the plan warning and apply refusing in a normal flow.
 */

import { beforeAll, describe, expect, it } from 'vitest';

import { exportOptOuts } from '../../src/optouts/export.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  dailyTraffic,
  fixedClock,
  readOnly,
  snapshotInto,
  withLedger,
} from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 4, 8, 18, 0, 0); // a Friday evening
const N1 = '+14155550150';
const STOP_AFTER = '+12025550811';

const traffic = (from: number, days: number) => dailyTraffic(N1, from, days);

describe('a quiet start of an incremental window is not a shorter retention', () => {
  const ws = useCliWorkspace(undefined, { now: () => now });
  let now = T0;

  beforeAll(async () => {
    // Retention: the emulator's default, 400 days. Daily traffic for 60 days up to T0.
    await ws.env.seed({ numbers: [{ phone_number: N1 }], messages: traffic(T0 - 60 * DAY, 60) });
  });

  it('a refresh 10 days after the last snapshot reads what the API shows (real window 400 days)', async () => {
    const dbPath = ws.dir.file('quiet.db');
    now = T0;
    await snapshotInto(dbPath, ws.env.port(), fixedClock(T0));

    // A quiet weekend (3 days), then daily traffic again; the next snapshot (with Bulk
    // Export) 10 days after the first.
    now = T0 + 10 * DAY;
    await ws.env.seed({ messages: traffic(T0 + 3 * DAY, 7) });
    await snapshotInto(dbPath, ws.env.port(), fixedClock(now));

    // Nothing was told, and nothing is kept from what the API showed.
    const recorded = readOnly(
      dbPath,
      (db) =>
        db.prepare('SELECT retention_days AS days FROM account_retention').all() as {
          days: number;
        }[],
    );
    expect(recorded).toEqual([]);

    // Ten days later, plan's refresh (Messages API only): a STOP 1 day after the last read.
    now = T0 + 20 * DAY;
    await ws.env.seed({
      messages: [
        ...traffic(T0 + 10 * DAY, 10),
        {
          from: STOP_AFTER,
          to: N1,
          body: 'STOP',
          direction: 'inbound' as const,
          date_sent: new Date(T0 + 11 * DAY).toISOString(),
        },
      ],
    });
    await snapshotInto(dbPath, ws.env.port(), fixedClock(now), { useExport: false });
    const doc = await withLedger(dbPath, (db) => exportOptOuts(db));
    // The API shows all of it: nothing is left "not read", and the STOP is on the list.
    expect(doc.coverage.not_read).toEqual([]);
    expect(doc.optouts.map((r) => r.recipient)).toEqual([STOP_AFTER]);
  });
});
