/**
 * A number moved by hand out of the parent, after someone said STOP to it there, into its
 * customer's subaccount before the plan, texting the person from there (Twilio there never heard
 * the STOP), then moved on by hand into another customer's subaccount, where the plan finds it
 * (its recorded source) and apply moves it back into its own. The pass read its subaccount from
 * the transfer only: its sends there before it were read by no pass and judged by none, and
 * reconcile --fail-on-violation exited 0. The ledger knew it in the parent before it was first
 * seen in its source: the pass now reads its subaccount from the last it was known elsewhere
 * before that, and holds its sends there before the transfer to its list, which carries the
 * parent's STOP. Oracle seed 2358 of test/integration/reconcile-hand-moves-random.test.ts, by
 * hand; in-process on one clock, real SDK, emulator over HTTP, SQLite file.
 */

import { describe, expect, it } from 'vitest';

import { spansNotJudged } from '../../src/reconcile/spans.js';
import { inbound, ownClient } from '../support/emulator.js';
import { STEP, useClockedMigration } from '../support/clocked-migration.js';

const A = '+14155550681';
const R = '+12065550681';

describe('reconcile: a number in its subaccount by hand before it reached its source', () => {
  const start = useClockedMigration('submigrate-before-source-');

  it.each([
    ['before any snapshot', false, false],
    ['seen there by a snapshot', true, false],
    ['the pass 400 days on, when the Messages API no longer shows them', false, true],
  ])(
    'names its sends there before the plan to someone who said STOP to it in the parent (seed 2358; %s)',
    async (_, seenThere, late) => {
      const s = await start({
        subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
        numbers: [{ phone_number: A, sms_url: 'https://app.example/sms' }],
      });
      const { e } = s;
      const acme = await s.sidOf('Acme');
      const beta = await s.sidOf('Beta');

      s.step();
      await inbound(e, { from: R, to: A, body: 'STOP' });
      s.step();
      await s.moveByHand(A, e.parentSid, beta);
      s.step();
      // Beta never heard R's STOP: the send goes out.
      const sent = await ownClient(e, beta).messages.create({ from: A, to: R, body: 'Sale!' });
      expect(sent.status).not.toBe('failed');
      s.step();
      // A snapshot reads the parent's STOP (and, with `seenThere`, lists A in Beta).
      if (seenThere) await s.snapshot();
      s.step();
      await s.moveByHand(A, beta, acme);
      s.step();
      if (!seenThere) await s.snapshot();
      s.step();
      await s.planAndApply(
        `customer_id,customer_name,phone_number,messaging_service\nbeta,Beta,${A},\n`,
      );
      s.step();
      if (late) {
        // The pass a minute short of 400 days after the move: the Messages API shows Beta from
        // just before it, not the send before the transfer. That stretch is named, not passed.
        s.step(400 * 86_400_000 - STEP - 60_000);
        const last = await s.pass();
        expect(last.violations).toEqual([]);
        const unread = last.result.notChecked.filter(
          (span) => span.accountSid === beta && span.reason === 'retention',
        );
        expect(unread).toHaveLength(1);
        expect(Date.parse(unread[0]!.start)).toBeLessThanOrEqual(sent.dateCreated.getTime());
        expect(Date.parse(unread[0]!.end)).toBeGreaterThan(sent.dateCreated.getTime());
        expect(last.exit3).toBe(true);
        // The reports say it too.
        const judged = await s.withDbNow((d) => spansNotJudged(d, new Date(s.now())));
        expect(judged.notChecked).toContainEqual(expect.objectContaining(unread[0]!));
        return;
      }
      const last = await s.pass();
      expect(last.violations).toEqual([
        expect.objectContaining({
          violatingMessageSid: sent.sid,
          recipient: R,
          senderNumber: A,
          accountSid: beta,
          customerId: 'beta',
        }),
      ]);
      expect(last.exit3).toBe(true);
    },
  );
});
