/**
 * A mapping whose only number's transfer Twilio refused: someone moved the number by hand as
 * apply's transfer of it arrived, so apply moved nothing and no plan found the number in place.
 * It texts, from where it went, someone who said STOP to it where it came from, where Twilio
 * keeps that opt-out. A pass looks for a number whose transfer failed as for a moved one
 * (docs/commands.md, "A mapped number whose transfer the latest apply …"); it used to refuse
 * before looking ("no number has been moved", exit 1, no span named), as it did for a number
 * found in place only (reconcile-found-in-place-only.test.ts). It now runs and names the number
 * away (`number-away`, exit 3 with --fail-on-violation). Oracle seed 10062 of
 * test/integration/reconcile-hand-moves-random.test.ts, by hand. There the pass then ran and
 * exited 0: a snapshot had seen the number in the parent, and it was moved by hand into another
 * customer's subaccount before the plan, which recorded it as coming from the parent (whose
 * opt-outs its list carries) and found it in that subaccount; moved back into the parent as its
 * transfer arrived, it was taken for still where it comes from, though the STOP it heard in that
 * subaccount is not kept there. The pass now tells the account the transfer was to take it out
 * of from the one it comes from, and names it away in either (the last case). In-process on one
 * clock, real SDK, emulator over HTTP, SQLite file.
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

const A = '+14155550681';
const R = '+12065550681';

describe('reconcile: the only mapped number’s transfer refused', () => {
  const start = useClockedMigration('submigrate-transfer-failed-only-');
  type Story = Awaited<ReturnType<typeof start>>;

  /** Plan A for `customer` and apply it while someone moves A by hand from `from` into `into`. */
  const applyRefused = async (s: Story, customer: string, from: string, into: string) => {
    const { e } = s;
    const status = await s.withDbNow(async (d) => {
      const deps = { twilio: e.port(), db: d, clock: fixedClock(s.now()), runner: TEST_RUNNER };
      const { plan } = await runPlan(
        {
          mapping: parseMapping(
            'm.csv',
            `customer_id,customer_name,phone_number\n${customer},${customer.toUpperCase()},${A}\n`,
          ),
          snapshot: true,
          credentials: 'auth-token',
        },
        deps,
      );
      const real = e.port();
      const racing = Object.create(real) as TwilioPort;
      racing.transferPhoneNumber = async (fromSid, sid, to) => {
        await moveNumberByHand(e, A, from, into);
        return real.transferPhoneNumber(fromSid, sid, to);
      };
      const done = await runApply(applyInputOf(plan), {
        ...deps,
        twilio: racing,
        sleep: async () => undefined,
      });
      return done.status;
    });
    // Twilio refused the transfer: A was no longer in the account it was to leave.
    expect(status).toBe('failed');
    const state = await e.state();
    expect(state.numbers.find((n) => n.phone_number === A)!.account_sid).toBe(into);
  };

  /**
   * A step on, A texts R from `from` (the send goes out: `from` never heard R's STOP), and a step
   * on a pass names A away there, of `customerId` (`subaccountSid`), and exits 3.
   */
  const textsAndIsNamedAway = async (
    s: Story,
    from: string,
    { subaccountSid, customerId }: { subaccountSid: string; customerId: string },
  ) => {
    s.step();
    const sent = await ownClient(s.e, from).messages.create({ from: A, to: R, body: 'Sale!' });
    expect(sent.status).not.toBe('failed');
    s.step();
    const pass = await s.pass();
    expect(pass.result.notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-away',
        accountSid: from,
        subaccountSid,
        phoneNumber: A,
        customerId,
      }),
    ]);
    expect(pass.exit3).toBe(true);
  };

  it('runs and names it away, moved by hand into another subaccount as its transfer arrived (seed 10062)', async () => {
    const s = await start({
      subaccounts: [{ friendly_name: 'ACME' }, { friendly_name: 'Other' }],
      numbers: [{ phone_number: A, sms_url: 'https://app.example/sms' }],
    });
    const { e } = s;
    const acme = await s.sidOf('ACME');
    const other = await s.sidOf('Other');

    await s.stopReadBySnapshot(R, A);
    await applyRefused(s, 'acme', e.parentSid, other);
    // Other never heard R's STOP to A: the send goes out.
    await textsAndIsNamedAway(s, other, { subaccountSid: acme, customerId: 'acme' });
  });

  it('names it away back in the parent a snapshot saw it in, the plan having found it in another customer’s subaccount', async () => {
    const s = await start({
      subaccounts: [{ friendly_name: 'ACME' }, { friendly_name: 'BETA' }],
      numbers: [{ phone_number: A, sms_url: 'https://app.example/sms' }],
    });
    const { e } = s;
    const acme = await s.sidOf('ACME');
    const beta = await s.sidOf('BETA');

    s.step();
    await s.snapshot();
    s.step();
    // Moved by hand after the snapshot: the plan records it as coming from the parent, whose
    // opt-outs its list carries, and finds it in Acme's subaccount, to move it into Beta's.
    await s.moveByHand(A, e.parentSid, acme);
    s.step();
    await inbound(e, { from: R, to: A, body: 'STOP' });
    s.step();
    await applyRefused(s, 'beta', acme, e.parentSid);
    // The parent never heard R's STOP to A (said in Acme's subaccount): the send goes out.
    await textsAndIsNamedAway(s, e.parentSid, { subaccountSid: beta, customerId: 'beta' });
  });
});
