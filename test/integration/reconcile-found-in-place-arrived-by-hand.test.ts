/**
 * A mapped number the plan found already in its customer's subaccount, moved there by hand
 * before any snapshot or listing from another customer's subaccount the mapping does not name,
 * where someone had said STOP to it (its send to them there was then refused). No listing saw it
 * there and no snapshot read that subaccount: Beta's subaccount, which never heard the STOP,
 * then texts the person. Twilio's `date_updated` on the number, later than where the ledger's
 * history of its subaccount begins, says it may have come by hand: the pass reads the family's
 * messages of it up to then, finds the STOP in Acme's subaccount, and names the number
 * (`number-updated`, found), exit 3. A control, where it only texted and was texted there,
 * before the plan, is vouched for once and stays exit 0. Oracle
 * seed 12940 of test/integration/reconcile-hand-moves-random.test.ts, by hand; in-process on one
 * clock, real SDK, emulator over HTTP, SQLite file.
 */

import { describe, expect, it } from 'vitest';

import { numberUpdateChecks } from '../../src/db/update-checks.js';
import { inbound, ownClient } from '../support/emulator.js';
import { useClockedMigration } from '../support/clocked-migration.js';

const B = '+14155550672';
const R = '+12065550672';

describe('reconcile: a number found in place, moved there by hand before any listing', () => {
  const start = useClockedMigration('submigrate-in-place-arrived-');

  async function story(stopInAcme: boolean) {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: B, sms_url: 'https://app.example/sms' }],
    });
    const { e } = s;
    const acme = await s.sidOf('Acme');
    const beta = await s.sidOf('Beta');
    s.step();
    await s.moveByHand(B, e.parentSid, acme);
    s.step();
    if (stopInAcme) {
      await inbound(e, { from: R, to: B, body: 'STOP' });
      s.step();
      const refused = await ownClient(e, acme)
        .messages.create({ from: B, to: R, body: 'Sale!' })
        .then(
          (m) => m.status,
          () => 'refused',
        );
      expect(refused).not.toBe('queued');
    } else {
      // Only ordinary traffic there: nothing its subaccount forgot.
      await inbound(e, { from: R, to: B, body: 'hello' });
      s.step();
      await ownClient(e, acme).messages.create({ from: B, to: R, body: 'Hi!' });
    }
    s.step();
    await s.moveByHand(B, acme, beta);
    s.step();
    await s.planAndApply(
      `customer_id,customer_name,phone_number,messaging_service\nbeta,Beta,${B},\n`,
    );
    s.step();
    // Beta's subaccount never heard R's STOP: the send goes out.
    const sent = await ownClient(e, beta).messages.create({ from: B, to: R, body: 'Sale!' });
    expect(sent.status).not.toBe('failed');
    s.step();
    return { s, acme, beta, pass: await s.pass() };
  }

  it('names it, found in the subaccount it came from, after a STOP said to it there (seed 12940)', async () => {
    const { acme, beta, pass } = await story(true);
    expect(pass.result.notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-updated',
        accountSid: beta,
        subaccountSid: beta,
        phoneNumber: B,
        customerId: 'beta',
        updatedCheck: expect.objectContaining({ outcome: 'found', accountSid: acme }),
      }),
    ]);
    expect(pass.exit3).toBe(true);
  });

  it("vouches for it once, exit 0, with no STOP of it in Acme's subaccount (its texts there were before the plan)", async () => {
    const { s, beta, pass } = await story(false);
    expect(pass.result.notChecked).toEqual([]);
    expect(pass.exit3).toBe(false);
    const checks = await s.withDbNow(async (d) => numberUpdateChecks(d));
    expect(checks).toEqual([
      expect.objectContaining({ subaccountSid: beta, outcome: 'vouched', found: null }),
    ]);
    s.step();
    const again = await s.pass();
    expect(again.result.notChecked).toEqual([]);
    expect(again.exit3).toBe(false);
    // Kept vouched for: not read again.
    expect(await s.withDbNow(async (d) => numberUpdateChecks(d))).toEqual(checks);
  });
});
