/**
 * A first reconcile pass 60 days after the move, into a subaccount whose Messages API keeps 30
 * days: the 30 days after the move are older than anything it can read, so their sends were
 * held to no list. The pass says so (`notChecked`) instead of a bare "0 violations", and so
 * does the next one, for no pass ever read that span.
 */

import { writeFileSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { isoSeconds } from '../../src/clock.js';
import { failsOnViolation } from '../../src/reconcile/result.js';
import { migrateOneCustomer, seededStop, useCliWorkspace } from '../support/migration.js';
import { reconcileAt } from '../support/reconcile-pass.js';
import { fixedClock, snapshotInto } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const A = '+14155550801';
const R1 = '+12025550801';

describe('reconcile names what it can no longer check', () => {
  let now = NOW;
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: A }],
      messages: [seededStop(R1, A, NOW - 20 * DAY)],
    },
    { now: () => now },
  );
  const { cli } = ws;

  beforeAll(async () => {
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
  });

  it('a span after the move older than the window is reported not checked, pass after pass', async () => {
    const db = ws.dir.file('r.db');
    const sub = await migrateOneCustomer(cli, {
      mapping: ws.dir.file('m.csv'),
      db,
      out: ws.dir.file('r.plan.json'),
    });
    await ws.env.control('POST', '/__emulator/settings', {
      account_sid: sub,
      message_retention_days: 30,
    });
    await snapshotInto(db, ws.env.port(), fixedClock(NOW), {
      accounts: [sub],
      useExport: false,
      retentionDays: 30,
    });
    // 5 days after the move the subaccount texts R1, who said STOP to A before it moved.
    await ws.env.seed({
      messages: [
        {
          from: A,
          to: R1,
          body: 'Sale!',
          direction: 'outbound-api',
          date_sent: new Date(NOW + 5 * DAY).toISOString(),
          account_sid: sub,
        },
      ],
    });
    const pass = (at: number) => {
      now = at;
      return reconcileAt(ws.env, db, at);
    };
    const first = await pass(NOW + 60 * DAY);
    expect(first.newViolations).toBe(0);
    expect(first.notChecked).toHaveLength(1);
    expect(first.notChecked[0]).toMatchObject({
      accountSid: sub,
      end: isoSeconds(new Date(NOW + 30 * DAY)),
    });
    expect(first.notChecked[0]!.start <= isoSeconds(new Date(NOW + 5 * DAY))).toBe(true);
    // No violation found, but sends nobody checked: --fail-on-violation does not say "none".
    expect(failsOnViolation(first, 0)).toBe(true);
    const second = await pass(NOW + 61 * DAY);
    expect(second.notChecked.map((s) => s.accountSid)).toEqual([sub]);
    expect(failsOnViolation(second, 0)).toBe(true);
  });
});
