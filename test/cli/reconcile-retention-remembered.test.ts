/**
 * reconcile's pass is recorded as a snapshot run (its windows are "read"), so it keeps to the
 * window remembered for the subaccount (`--retention-days`): a pass 60 days after the move,
 * into a subaccount whose Messages API keeps 30 days, reads and records only those 30 days; the
 * span before stays not read (its STOP is not lost as "read, nothing there"). Needs
 * `npm run build`.
 */

import { writeFileSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { isoSeconds } from '../../src/clock.js';
import { exportOptOuts } from '../../src/optouts/export.js';
import { planAndApply, useCliWorkspace } from '../support/migration.js';
import { reconcileAt } from '../support/reconcile-pass.js';
import { fixedClock, readOnly, snapshotInto, withLedger } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const A = '+14155550101';
const LATE_STOP = '+12025550999';

describe('reconcile keeps to the window remembered for the subaccount', () => {
  let now = NOW;
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: A }],
      messages: [
        {
          from: A,
          to: '+16505559999',
          body: 'hello',
          direction: 'outbound-api',
          date_sent: new Date(NOW - 20 * DAY).toISOString(),
        },
      ],
    },
    { now: () => now },
  );
  const { cli } = ws;

  beforeAll(async () => {
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
  });

  it('a pass 60 days after the move leaves what the API no longer shows not read', async () => {
    const db = ws.dir.file('r.db');
    await planAndApply(cli, { mapping: ws.dir.file('m.csv'), db, out: ws.dir.file('r.plan.json') });
    const sub = readOnly(
      db,
      (d) =>
        d.prepare('SELECT subaccount_sid AS sid FROM customer_subaccounts').get() as {
          sid: string;
        },
    ).sid;
    // The subaccount's Messages API keeps 30 days, and the user says so once.
    await ws.env.control('POST', '/__emulator/settings', {
      account_sid: sub,
      message_retention_days: 30,
    });
    await snapshotInto(db, ws.env.port(), fixedClock(NOW), {
      accounts: [sub],
      useExport: false,
      retentionDays: 30,
    });

    // 5 days after the move someone texts STOP to the moved number; 60 days on, reconcile.
    now = NOW + 5 * DAY;
    await ws.env.seed({
      messages: [
        {
          from: LATE_STOP,
          to: A,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW + 5 * DAY).toISOString(),
        },
      ],
    });
    now = NOW + 60 * DAY;
    await reconcileAt(ws.env, db, now);

    const doc = await withLedger(db, (d) => exportOptOuts(d));
    // The STOP the API hid is on no list (the ledger does not have it) …
    expect(doc.optouts.map((r) => r.recipient)).not.toContain(LATE_STOP);
    // … and the coverage must then say the span was not read.
    const subGaps = doc.coverage.not_read.filter((w) => w.account_sid === sub);
    // Expected: the span before the subaccount's 30 days (NOW + 30 days) is not read.
    expect(subGaps.map((w) => w.end)).toContain(isoSeconds(new Date(NOW + 30 * DAY)));
  });
});
