/**
 * A stay no later transfer ended, ended where a plan saw the number (numberStays
 * `seenWhereHeld`): A moved into Acme's subaccount by a first apply, moved by hand into the
 * parent, a plan for Beta (which saw A in the parent) applied with A's transfer refused; then A
 * moved by hand back into Acme's, texting R1 (who said STOP to it in the parent) from there,
 * and on into Beta's, where a plan made again found it (held as arrived there from that plan).
 * Acme's span ended where the refused plan saw A in the parent, before the send: the pass named
 * only that span, the send in none (exit 3 only over a span that does not hold it; once that
 * span was checked and marked, nothing). Moved back into the parent instead, A is still held
 * as Acme's (its transfer out refused) and the send is a violation.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { CLOCK_SKEW_MS, isoSeconds } from '../../src/clock.js';
import { TwilioError } from '../../src/errors.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useClockedMigration } from '../support/clocked-migration.js';
import { ownClient } from '../support/emulator.js';
import { applyInputOf } from '../support/plan-builders.js';
import { fixedClock, TEST_RUNNER } from '../support/snapshot-harness.js';

const A = '+14155550691';
const R1 = '+12065550691';
const HOUR = 3_600_000;
const URL = 'https://app.example/sms';

/** `real`, with every transfer refused by Twilio (400): the step fails, nothing moves. */
function refusingTransfers(real: TwilioPort): TwilioPort {
  const port: TwilioPort = Object.create(real) as TwilioPort;
  port.transferPhoneNumber = async () => {
    throw new TwilioError({ status: 400, code: 20001, message: 'refused', retryable: false });
  };
  return port;
}

describe('reconcile: a stay no transfer ended, a plan that saw the number elsewhere its transfer refused', () => {
  const start = useClockedMigration('submigrate-stay-seen-refused-');
  const mappingOf = (customer: string, name: string) =>
    `customer_id,customer_name,phone_number,messaging_service\n${customer},${name},${A},\n`;

  async function story({ into }: { into: 'beta' | 'parent' }) {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const { e } = s;
    const acme = await s.sidOf('Acme');
    await s.stopReadBySnapshot(R1, A);
    await s.planAndApply(mappingOf('acme', 'Acme'));
    s.step();
    const read = s.now();
    expect((await s.pass()).result.notChecked).toEqual([]);
    s.step(HOUR);
    await s.moveByHand(A, acme, e.parentSid);
    s.step();
    const refused = await s.withDbNow(async (db) => {
      const deps = { twilio: e.port(), db, clock: fixedClock(s.now()), runner: TEST_RUNNER };
      const { plan } = await runPlan(
        {
          mapping: parseMapping('m.csv', mappingOf('beta', 'Beta')),
          snapshot: true,
          credentials: 'auth-token',
        },
        deps,
      );
      return runApply(applyInputOf(plan), {
        ...deps,
        twilio: refusingTransfers(e.port()),
        sleep: async () => undefined,
      });
    });
    expect(refused.status).toBe('failed');
    s.step(HOUR);
    await s.moveByHand(A, e.parentSid, acme);
    s.step();
    const sentAt = s.now();
    const sent = await ownClient(e, acme).messages.create({ from: A, to: R1, body: 'Sale!' });
    expect(sent.status).not.toBe('failed');
    s.step();
    let listed = 0;
    if (into === 'beta') {
      // Into the subaccount the refused apply made for Beta, where a plan made again finds it.
      const beta = await s.withDbNow(
        async (db) =>
          db
            .prepare("SELECT subaccount_sid FROM customer_subaccounts WHERE customer_id = 'beta'")
            .pluck()
            .get() as string,
      );
      await s.moveByHand(A, acme, beta);
      s.step();
      listed = s.now();
      await s.planAndApply(mappingOf('beta', 'Beta'));
    } else {
      await s.moveByHand(A, acme, e.parentSid);
    }
    s.step();
    return { s, acme, read, sent: sent.sid, sentAt, listed };
  }

  it("ends Acme's span where the plan made again saw A in Beta's, not where the refused one saw it in the parent: the send is in it", async () => {
    const { s, acme, read, sent, sentAt, listed } = await story({ into: 'beta' });
    const pass = await s.pass();
    const left = {
      accountSid: acme,
      start: isoSeconds(new Date(read)),
      end: isoSeconds(new Date(listed + CLOCK_SKEW_MS)),
      reason: 'numbers-left',
      leftBy: 'hand',
    };
    // (A's transfer into Beta's was refused before the plan made again found it there: its
    // move in is named too, and the family's messages find the send in Acme's.)
    expect(pass.result.notChecked).toEqual([
      left,
      expect.objectContaining({
        reason: 'number-updated',
        updatedCheck: expect.objectContaining({ outcome: 'found', messageSid: sent }),
      }),
    ]);
    expect(Date.parse(left.end)).toBeGreaterThan(sentAt);
    expect(pass.exit3).toBe(true);
    s.step();
    expect((await s.pass()).result.notChecked).toEqual(pass.result.notChecked);
  });

  it('names the send a violation when A went back into the parent (still held as Acme’s)', async () => {
    const { s, sent } = await story({ into: 'parent' });
    const pass = await s.pass();
    expect(pass.violations.map((v) => v.violatingMessageSid)).toEqual([sent]);
    expect(pass.exit3).toBe(true);
  });
});
