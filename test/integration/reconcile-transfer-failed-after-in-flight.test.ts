/**
 * An apply killed with A's transfer in flight (Twilio made it: A in Acme's subaccount), its run
 * given up for a plan made again, whose transfer of A Twilio refuses. Meanwhile R2 said STOP to
 * A in Acme's subaccount, and someone moved A by hand into the parent, which never heard that
 * STOP and texted R2; the plan made again found A there, as coming from the parent. Its transfer
 * refused (Acme's subaccount suspended as it left, A left in the parent; or A moved by hand as it
 * arrived into another customer's subaccount, or into Other and back), a pass held A to the
 * parent from that run's start, and from Twilio's refusal in the parent itself: nothing before
 * was read, the transfer left in flight counted for nothing, and the pass exited 0, nothing not
 * checked. A number whose transfer failed is now known where it comes from only from when an
 * earlier transfer of it left in flight was sent (numbersNotMoved). In-process on one clock,
 * real SDK, emulator over HTTP, SQLite file; the kill is a port that makes the transfer (or, not
 * `made`, does not) and throws before apply hears the answer, the step left in flight.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useClockedMigration } from '../support/clocked-migration.js';
import { inbound, moveNumberByHand, ownClient } from '../support/emulator.js';
import { applyInputOf } from '../support/plan-builders.js';
import { fixedClock, TEST_RUNNER } from '../support/snapshot-harness.js';

const [A, C] = ['+14155550691', '+14155550692'];
const [R1, R2] = ['+12065550691', '+12065550692'];
const HOUR = 3_600_000;
const URL = 'https://app.example/sms';

/** How the plan made again's transfer of A is refused, as it arrives at Twilio. */
type Refusal = 'suspended' | 'into-beta' | 'into-other-and-back';

describe('reconcile: a transfer refused after one left in flight', () => {
  const start = useClockedMigration('submigrate-failed-after-in-flight-');

  async function story({ refusal, made = true }: { refusal: Refusal; made?: boolean }) {
    const s = await start({
      subaccounts: [
        { friendly_name: 'Acme' },
        { friendly_name: 'Beta' },
        { friendly_name: 'Other' },
      ],
      numbers: [
        { phone_number: A, sms_url: URL },
        { phone_number: C, sms_url: URL },
      ],
    });
    const { e } = s;
    const parent = e.parentSid;
    const acme = await s.sidOf('Acme');
    const beta = await s.sidOf('Beta');
    const other = await s.sidOf('Other');
    const numberA = (await e.state()).numbers.find((n) => n.phone_number === A)!.sid;
    await s.stopReadBySnapshot(R1, A);
    // C is Beta's: its subaccount is one the passes read.
    const mapping = `customer_id,customer_name,phone_number,messaging_service\nbeta,Beta,${C},\nacme,Acme,${A},\n`;
    const applyWith = (port: (real: TwilioPort) => TwilioPort) =>
      s.withDbNow(async (db) => {
        const deps = { twilio: e.port(), db, clock: fixedClock(s.now()), runner: TEST_RUNNER };
        const { plan } = await runPlan(
          { mapping: parseMapping('m.csv', mapping), snapshot: true, credentials: 'auth-token' },
          deps,
        );
        return runApply(applyInputOf(plan), {
          ...deps,
          twilio: port(e.port()),
          sleep: async () => undefined,
        });
      });
    const transferring = (real: TwilioPort, sending: (sid: string) => Promise<void>) => {
      const port: TwilioPort = Object.create(real) as TwilioPort;
      port.transferPhoneNumber = async (from, sid, to) => {
        await sending(sid);
        return real.transferPhoneNumber(from, sid, to);
      };
      return port;
    };

    // The kill: A's transfer reaches Twilio (`made`), the process dies before the answer.
    await expect(
      applyWith((real) => {
        const killed: TwilioPort = Object.create(real) as TwilioPort;
        killed.transferPhoneNumber = async (from, sid, to) => {
          if (sid !== numberA) return real.transferPhoneNumber(from, sid, to);
          if (made) await real.transferPhoneNumber(from, sid, to);
          throw new Error('killed with the transfer in flight');
        };
        return killed;
      }),
    ).rejects.toThrow(/killed/);
    const place = async () =>
      (await e.state()).numbers.find((n) => n.phone_number === A)!.account_sid;
    expect(await place()).toBe(made ? acme : parent);

    s.step(HOUR);
    if (made) {
      await inbound(e, { from: R2, to: A, body: 'STOP' });
      s.step();
      await s.moveByHand(A, acme, parent);
      s.step();
      const send = await ownClient(e, parent).messages.create({ from: A, to: R2, body: 'Hi' });
      expect(send.status).not.toBe('failed');
    }
    s.step(3 * HOUR);

    // The plan made again finds A in the parent; its transfer of A is refused.
    const into = { suspended: parent, 'into-beta': beta, 'into-other-and-back': other }[refusal];
    const again = await applyWith((real) =>
      transferring(real, async (sid) => {
        if (sid !== numberA) return;
        if (refusal === 'suspended') {
          await e.parent.api.v2010.accounts(acme).update({ status: 'suspended' });
        } else {
          await moveNumberByHand(e, A, parent, into);
        }
      }),
    );
    expect(again.status).toBe('failed');
    expect(await place()).toBe(into);
    const steps = await s.withDbNow(async (db) =>
      db
        .prepare('SELECT run_id AS run, state FROM apply_steps WHERE step_id = ? ORDER BY run_id')
        .all(`transfer_number:${numberA}`),
    );
    expect(steps).toEqual([
      { run: 1, state: 'in_flight' },
      { run: 2, state: 'failed' },
    ]);
    s.step();
    if (refusal === 'into-other-and-back') {
      await s.moveByHand(A, other, parent);
      s.step();
    }
    return { parent, acme, beta, pass: await s.pass() };
  }

  it.each([
    ['its transfer refused as Acme’s subaccount was suspended', 'suspended'],
    ['moved into Other and back as its transfer arrived', 'into-other-and-back'],
  ] as const)(
    'reads the parent’s number from the transfer left in flight, %s',
    async (_, refusal) => {
      const { parent, pass } = await story({ refusal });
      // Found by R2's STOP in Acme's subaccount: A was there, not in the parent.
      expect(pass.result.notChecked).toEqual([
        expect.objectContaining({
          reason: 'number-updated',
          accountSid: parent,
          phoneNumber: A,
          updatedCheck: expect.objectContaining({ outcome: 'found' }),
        }),
      ]);
      expect(pass.exit3).toBe(true);
    },
  );

  it('names it away in another customer’s subaccount, moved there as its transfer arrived', async () => {
    const { acme, beta, pass } = await story({ refusal: 'into-beta' });
    expect(pass.result.notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-away',
        accountSid: beta,
        subaccountSid: acme,
        phoneNumber: A,
      }),
    ]);
    expect(pass.exit3).toBe(true);
  });

  it('vouches for a transfer left in flight that never reached Twilio, the next refused, nothing moved by hand', async () => {
    const { pass } = await story({ refusal: 'suspended', made: false });
    expect(pass.result.notChecked).toEqual([]);
    expect(pass.exit3).toBe(false);
  });
});

/**
 * The other way round: A's transfer refused (someone moved A by hand into Other as it arrived),
 * and A, from Other, texted R1, who had said STOP to it in the parent; no pass ran. The plan
 * made again found A in Other, and its apply was killed with its transfer of A in flight (Twilio
 * made it), the run given up for a third plan, which found A in Acme's subaccount. The journal
 * paired the refused transfer only with a next one that finished, failed or was not run, and
 * the pass named nothing (exit 0): the span in Other is named now, to when the transfer left in
 * flight was sent.
 */
describe('reconcile: a transfer left in flight after one refused', () => {
  const start = useClockedMigration('submigrate-in-flight-after-failed-');

  it('names the span in Other the plan made again found A in, no pass having run there', async () => {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Other' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const { e } = s;
    const parent = e.parentSid;
    const acme = await s.sidOf('Acme');
    const other = await s.sidOf('Other');
    const numberA = (await e.state()).numbers.find((n) => n.phone_number === A)!.sid;
    await s.stopReadBySnapshot(R1, A);
    const mapping = `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\n`;
    const applyWith = (transfer: TwilioPort['transferPhoneNumber']) =>
      s.withDbNow(async (db) => {
        const deps = { twilio: e.port(), db, clock: fixedClock(s.now()), runner: TEST_RUNNER };
        const { plan } = await runPlan(
          { mapping: parseMapping('m.csv', mapping), snapshot: true, credentials: 'auth-token' },
          deps,
        );
        const port: TwilioPort = Object.create(e.port()) as TwilioPort;
        port.transferPhoneNumber = transfer;
        return runApply(applyInputOf(plan), {
          ...deps,
          twilio: port,
          sleep: async () => undefined,
        });
      });
    const real = e.port();

    const first = await applyWith(async (from, sid, to) => {
      await moveNumberByHand(e, A, parent, other);
      return real.transferPhoneNumber(from, sid, to);
    });
    expect(first.status).toBe('failed');
    s.step();
    // Other never heard R1's STOP to A: the send goes out.
    const send = await ownClient(e, other).messages.create({ from: A, to: R1, body: 'Sale!' });
    expect(send.status).not.toBe('failed');
    s.step(HOUR);

    await expect(
      applyWith(async (from, sid, to) => {
        await real.transferPhoneNumber(from, sid, to);
        throw new Error('killed with the transfer in flight');
      }),
    ).rejects.toThrow(/killed/);
    const sent = s.now();
    expect((await e.state()).numbers.find((n) => n.phone_number === A)!.account_sid).toBe(acme);
    s.step(3 * HOUR);
    await s.planAndApply(mapping);
    const steps = await s.withDbNow(async (db) =>
      db
        .prepare('SELECT run_id AS run, state FROM apply_steps WHERE step_id = ? ORDER BY run_id')
        .all(`transfer_number:${numberA}`),
    );
    expect(steps).toEqual([
      { run: 1, state: 'failed' },
      { run: 2, state: 'in_flight' },
    ]);
    s.step();
    const pass = await s.pass();
    expect(pass.result.notChecked).toContainEqual(
      expect.objectContaining({
        reason: 'number-away',
        accountSid: other,
        subaccountSid: acme,
        phoneNumber: A,
        end: new Date(sent).toISOString().replace('.000Z', 'Z'),
      }),
    );
    expect(pass.exit3).toBe(true);
  });
});
