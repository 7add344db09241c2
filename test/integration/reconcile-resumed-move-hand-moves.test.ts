/**
 * An apply killed with A's transfer in flight (Twilio made it), continued hours later: the
 * continuing apply settles the step from Twilio's state, and the journal holds the transfer's
 * end only from then. Meanwhile R2 said STOP to A in Acme's subaccount, someone moved A by hand
 * into the parent, which never heard that STOP and texted R2, and moved it back. A pass took
 * the parent's send, hours before the settling, for one from before the transfer, and Twilio's
 * date of the move back for no change since apply's (earlier than the settling, or than the
 * webhook apply set after it): exit 0. In-process on one clock, real SDK, emulator over HTTP,
 * SQLite file; the kill is a port that makes the transfer and throws before apply hears the
 * answer, the step left in flight.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useClockedMigration } from '../support/clocked-migration.js';
import { inbound, ownClient } from '../support/emulator.js';
import { applyInputOf } from '../support/plan-builders.js';
import { fixedClock, TEST_RUNNER } from '../support/snapshot-harness.js';

const A = '+14155550681';
const [R1, R2] = ['+12065550681', '+12065550682'];
const HOUR = 3_600_000;
const URL = 'https://app.example/sms';

describe('reconcile: a transfer settled hours after Twilio made it', () => {
  const start = useClockedMigration('submigrate-resumed-hand-moves-');

  /**
   * A in the parent (with `inService`, in a service there whose inbound URL it answers by, with
   * none of its own: apply sets it as the number's webhook after the transfer, hours after the
   * move by hand back), R1's STOP to it, a snapshot, the plan, and its
   * apply killed with the transfer in flight. An hour on, with `handMoves`, the story above;
   * hours on, the apply continued (it adopts the transfer), and a pass.
   */
  async function story({ inService, handMoves }: { inService: boolean; handMoves: boolean }) {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }],
      numbers: [{ phone_number: A, ...(inService ? {} : { sms_url: URL }) }],
      ...(inService
        ? { services: [{ friendly_name: 'Shared', inbound_request_url: URL, phone_numbers: [A] }] }
        : {}),
    });
    const { e } = s;
    const acme = await s.sidOf('Acme');
    s.step();
    await inbound(e, { from: R1, to: A, body: 'STOP' });
    s.step();
    await s.snapshot();
    s.step();
    const mapping = `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\n`;
    const plan = await s.withDbNow(async (db) => {
      const deps = { twilio: e.port(), db, clock: fixedClock(s.now()), runner: TEST_RUNNER };
      const made = await runPlan(
        { mapping: parseMapping('m.csv', mapping), snapshot: true, credentials: 'auth-token' },
        deps,
      );
      // The transfer reaches Twilio; the process dies before it hears the answer.
      const real = e.port();
      const killed: TwilioPort = Object.create(real) as TwilioPort;
      killed.transferPhoneNumber = async (from, sid, to) => {
        await real.transferPhoneNumber(from, sid, to);
        throw new Error('killed with the transfer in flight');
      };
      await expect(
        runApply(applyInputOf(made.plan), {
          ...deps,
          twilio: killed,
          sleep: async () => undefined,
        }),
      ).rejects.toThrow(/killed/);
      return made.plan;
    });
    expect((await e.state()).numbers.find((n) => n.phone_number === A)?.account_sid).toBe(acme);

    s.step(HOUR);
    let sent: string | null = null;
    if (handMoves) {
      await inbound(e, { from: R2, to: A, body: 'STOP' });
      s.step();
      await s.moveByHand(A, acme, e.parentSid);
      s.step();
      const send = await ownClient(e, e.parentSid).messages.create({ from: A, to: R2, body: 'Hi' });
      expect(send.status).not.toBe('failed');
      sent = send.sid;
      s.step();
      await s.moveByHand(A, e.parentSid, acme);
    }
    s.step(3 * HOUR);

    // The apply is continued: it finds A in Acme's subaccount and adopts the transfer.
    const resumed = await s.withDbNow((db) =>
      runApply(applyInputOf(plan), {
        twilio: e.port(),
        db,
        clock: fixedClock(s.now()),
        runner: TEST_RUNNER,
        sleep: async () => undefined,
      }),
    );
    expect(resumed.status).toBe('completed');
    expect(resumed.adopted.map((a) => a.step)).toEqual([
      expect.stringMatching(/^transfer_number:/),
    ]);
    const steps = plan.steps.map((step) => step.action);
    expect(steps.includes('set_number_webhook')).toBe(inService);
    s.step();
    return { s, acme, sent, pass: await s.pass() };
  }

  it.each([false, true])(
    'reads the parent from the transfer, not from the settling (in a service: %s)',
    async (inService) => {
      const { s, acme, sent, pass } = await story({ inService, handMoves: true });
      expect(pass.result.notChecked).toEqual([
        expect.objectContaining({
          reason: 'number-updated',
          accountSid: acme,
          phoneNumber: A,
          updatedCheck: expect.objectContaining({
            outcome: 'found',
            accountSid: s.e.parentSid,
            messageSid: sent,
          }),
        }),
      ]);
      expect(pass.exit3).toBe(true);
    },
  );

  it.each([false, true])(
    'vouches for a transfer settled late that nothing moved since (in a service: %s)',
    async (inService) => {
      const { pass } = await story({ inService, handMoves: false });
      expect(pass.result.notChecked).toEqual([]);
      expect(pass.exit3).toBe(false);
    },
  );
});
