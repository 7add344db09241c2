/**
 * The Messages API window given with `--retention-days` is remembered per account: a later
 * run told nothing (as `plan`'s refresh runs) keeps to it rather than take Twilio's 400 days on
 * trust, so the span the API no longer shows stays not read. A new `--retention-days` replaces
 * what was recorded, larger or not.
 */

import { beforeAll, describe, expect, it } from 'vitest';

import { isoSeconds } from '../../src/clock.js';
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
const T0 = Date.UTC(2026, 4, 10, 12, 0, 0);
const LATER = T0 + 45 * DAY;
const N1 = '+14155550150';
const EARLY_STOP = '+12025550801'; // STOP 50 days before T0: only Bulk Export has it at T0

const traffic = (from: number, days: number) => dailyTraffic(N1, from, days);
const stop = (from: string, at: number) => ({
  from,
  to: N1,
  body: 'STOP',
  direction: 'inbound' as const,
  date_sent: new Date(at).toISOString(),
});

describe('the Messages API window, remembered for later refreshes', () => {
  let now = T0;
  const ws = useCliWorkspace(undefined, { now: () => now });

  beforeAll(async () => {
    await ws.env.seed({
      numbers: [{ phone_number: N1 }],
      messages: [...traffic(T0 - 60 * DAY, 60), stop(EARLY_STOP, T0 - 50 * DAY)],
    });
    await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 30 });
  });

  const recorded = (dbPath: string) =>
    readOnly(
      dbPath,
      (db) =>
        db
          .prepare(
            'SELECT account_sid AS sid, retention_days AS days, source FROM account_retention',
          )
          .all() as { sid: string; days: number; source: string }[],
    );

  it('--retention-days is recorded, a run not told keeps to it, and a new one replaces it', async () => {
    const dbPath = ws.dir.file('told.db');
    now = LATER;
    const gapEnd = async () =>
      (await withLedger(dbPath, (db) => exportOptOuts(db))).coverage.not_read.map((w) => w.end);
    await snapshotInto(dbPath, ws.env.port(), fixedClock(LATER), {
      useExport: false,
      retentionDays: 10,
    });
    expect(await gapEnd()).toEqual([isoSeconds(new Date(LATER - 10 * DAY))]);

    now = LATER + DAY;
    await snapshotInto(dbPath, ws.env.port(), fixedClock(LATER + DAY), { useExport: false });
    expect(await gapEnd()).toEqual([isoSeconds(new Date(LATER - 10 * DAY))]);
    expect(recorded(dbPath)).toEqual([{ sid: ws.env.parentSid, days: 10, source: 'told' }]);

    // Larger than before: the user's word stands (a run with Bulk Export would check it).
    await snapshotInto(dbPath, ws.env.port(), fixedClock(LATER + DAY), {
      useExport: false,
      retentionDays: 30,
    });
    expect(recorded(dbPath)).toEqual([{ sid: ws.env.parentSid, days: 30, source: 'told' }]);
    expect(await gapEnd()).toEqual([isoSeconds(new Date(LATER + DAY - 30 * DAY))]);
  });
});
