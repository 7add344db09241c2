/**
 * A mapping whose only number the plan found already in its customer's subaccount (moved there
 * by hand before any listing): apply moves nothing. After a STOP said to it there, someone moves
 * it by hand into the parent, which texts the person. A pass looks for a number an applied plan
 * found in place as for a moved one; it used to refuse before looking ("no number has been
 * moved", exit 1, no span named). It now runs and names the number away (`number-away`, exit 3
 * with --fail-on-violation). Oracle seed 2433 of
 * test/integration/reconcile-hand-moves-random.test.ts, by hand; in-process on one clock, real
 * SDK, emulator over HTTP, SQLite file.
 */

import { describe, expect, it } from 'vitest';

import { inbound, ownClient } from '../support/emulator.js';
import { useClockedMigration } from '../support/clocked-migration.js';

const B = '+14155550671';
const R = '+12065550671';

describe('reconcile: the only mapped number found in place by the plan', () => {
  const start = useClockedMigration('submigrate-in-place-only-');

  it('runs and names it away once moved by hand into the parent after a STOP in its subaccount (seed 2433)', async () => {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }],
      numbers: [{ phone_number: B, sms_url: 'https://app.example/sms' }],
    });
    const { e } = s;
    const acme = await s.sidOf('Acme');

    s.step();
    await s.moveByHand(B, e.parentSid, acme);
    s.step();
    await s.snapshot();
    s.step();
    await s.planAndApply(
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${B},\n`,
    );
    s.step();
    // Nothing moved and nothing away: the pass runs and vouches.
    const first = await s.pass();
    expect(first.result.notChecked).toEqual([]);
    expect(first.exit3).toBe(false);
    s.step();
    await inbound(e, { from: R, to: B, body: 'STOP' });
    s.step();
    await s.moveByHand(B, acme, e.parentSid);
    s.step();
    // The parent never heard R's STOP to B: the send goes out.
    const sent = await ownClient(e, e.parentSid).messages.create({ from: B, to: R, body: 'Sale!' });
    expect(sent.status).not.toBe('failed');
    s.step();
    const last = await s.pass();
    expect(last.result.notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-away',
        accountSid: e.parentSid,
        subaccountSid: acme,
        phoneNumber: B,
        customerId: 'acme',
      }),
    ]);
    expect(last.exit3).toBe(true);
  });
});
