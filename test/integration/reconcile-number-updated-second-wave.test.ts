/**
 * A number apply moved into Acme's subaccount, then on into Beta's by a second wave, whose
 * webhook someone later changed in the Console there: a pass lists it as changed and reads the
 * family's messages from the second transfer on. Acme's own traffic with it in the second of
 * that transfer (a send of Acme's app, a reply) is from before it, as the parent's is at the
 * first transfer: the span is vouched for. Moved back into Acme's by hand within the clocks'
 * allowance of that transfer and told STOP there, it is not (in-process on one clock, real SDK,
 * emulator over HTTP, SQLite file).
 */

import { describe, expect, it } from 'vitest';

import { inbound, ownClient, type TestEmulator } from '../support/emulator.js';
import { useClockedMigration } from '../support/clocked-migration.js';

const A = '+14155550681';
const [R1, R2] = ['+12065550681', '+12065550682'];
const mapping = (customer: string, name: string) =>
  `customer_id,customer_name,phone_number,messaging_service\n${customer},${name},${A},\n`;

describe('reconcile: a number a second wave moved on, changed in Beta since', () => {
  const start = useClockedMigration('submigrate-updated-second-wave-');

  /**
   * A, told STOP by R1 in the parent, moved into Acme's, then on into Beta's; `atMove` runs in
   * the second of the second wave, before its plan and apply.
   */
  async function movedTwice(atMove: (e: TestEmulator, acme: string) => Promise<void>) {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A, sms_url: 'https://app.example/sms' }],
    });
    const { e } = s;
    const acme = await s.sidOf('Acme');
    const beta = await s.sidOf('Beta');
    await s.stopReadBySnapshot(R1, A);
    await s.planAndApply(mapping('acme', 'Acme'));
    s.step();
    await atMove(e, acme);
    await s.planAndApply(mapping('beta', 'Beta'));
    return { s, e, acme, beta };
  }

  it("vouches for a webhook changed in Beta's of a number Acme's app texted, and heard from, in the second of the second wave", async () => {
    const { s, e, beta } = await movedTwice(async (em, acme) => {
      await ownClient(em, acme).messages.create({ from: A, to: R2, body: 'Sale!' });
      await inbound(em, { from: R2, to: A, body: 'Thanks' });
    });
    s.step();
    const [number] = await ownClient(e, beta).incomingPhoneNumbers.list({ phoneNumber: A });
    await e.parent.api.v2010
      .accounts(beta)
      .incomingPhoneNumbers(number!.sid)
      .update({ smsUrl: 'https://app.example/sms-new-token' });
    s.step();
    const last = await s.pass();
    // (Acme's history up to the second wave is no snapshot's: `numbers-left`, not this.)
    expect(last.result.notChecked.filter((n) => n.reason === 'number-updated')).toEqual([]);
  });

  it("exits 3 for a number moved back into Acme's by hand within the clocks' allowance of the second wave, told STOP there, and moved back into Beta's later", async () => {
    const { s, e, acme, beta } = await movedTwice(async () => undefined);
    await s.moveByHand(A, beta, acme);
    const stop = await inbound(e, { from: R2, to: A, body: 'STOP' });
    expect(stop.account_sid).toBe(acme);
    s.step();
    await s.moveByHand(A, acme, beta);
    s.step();
    // Beta never heard R2's STOP: the send goes out.
    const sent = await ownClient(e, beta).messages.create({ from: A, to: R2, body: 'Sale!' });
    expect(sent.status).not.toBe('failed');
    s.step();
    const last = await s.pass();
    expect(last.result.notChecked.filter((n) => n.reason === 'number-updated')).toEqual([
      expect.objectContaining({
        accountSid: beta,
        phoneNumber: A,
        updatedCheck: expect.objectContaining({
          outcome: 'found',
          accountSid: acme,
          messageSid: stop.sid,
        }),
      }),
    ]);
    expect(last.exit3).toBe(true);
  });
});
