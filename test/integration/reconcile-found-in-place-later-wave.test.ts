/**
 * Seed 12586 of reconcile-hand-moves-random, by hand: R says STOP to A in the parent; A is moved
 * by hand into Acme's subaccount before any listing and texts R from there (Acme never heard the
 * STOP); the first wave's plan finds A in place, and a second wave, applied before any pass,
 * moves it on into Beta's. The pass after it held A's sends only in Beta's: its stay in Acme's
 * before the first plan (from the last it was known elsewhere) was judged by nothing (exit 0).
 * With a pass between the waves the send was named; it is now without one, and what no pass can
 * read of that stay (no number left in Acme's) is not checked. So too where the second wave's
 * apply was killed with A's transfer out of Acme's in flight (Twilio made it) and its run given
 * up for a plan made again, which found A in Beta's in place: no finished transfer moved it on.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import { spansNotJudged } from '../../src/reconcile/spans.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useClockedMigration } from '../support/clocked-migration.js';
import { inbound, ownClient } from '../support/emulator.js';
import { applyInputOf } from '../support/plan-builders.js';
import { fixedClock, TEST_RUNNER } from '../support/snapshot-harness.js';

const A = '+14155550691';
const B = '+14155550692';
const R = '+12065550691';
const HEAD = 'customer_id,customer_name,phone_number,messaging_service\n';

describe('reconcile: a number found in place, moved on by a later wave before any pass', () => {
  const start = useClockedMigration('submigrate-in-place-later-wave-');

  async function story({
    stop,
    back = false,
    keepB = true,
    secondLater = false,
    listedFirst = false,
  }: Record<string, boolean>) {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [
        { phone_number: A, sms_url: 'https://app.example/sms' },
        { phone_number: B, sms_url: 'https://app.example/sms' },
      ],
    });
    const { e } = s;
    const acme = await s.sidOf('Acme');
    const beta = await s.sidOf('Beta');
    s.step();
    // (Without the STOP, R texts A: the parent's ledger knows A there all the same.)
    await inbound(e, { from: R, to: A, body: stop ? 'STOP' : 'Hello' });
    s.step();
    if (listedFirst) {
      // A snapshot lists A in the parent: the plans record the parent as where it comes from,
      // and the second wave's transfer, out of Acme's, is its only one.
      await s.snapshot();
      s.step();
    }
    await s.moveByHand(A, e.parentSid, acme);
    s.step();
    const sent = await ownClient(e, acme).messages.create({ from: A, to: R, body: 'Sale!' });
    expect(sent.status).not.toBe('failed');
    s.step();
    await s.snapshot();
    s.step();
    const acmeB = keepB ? `acme,Acme,${B},\n` : '';
    await s.planAndApply(`${HEAD}acme,Acme,${A},\n${acmeB}`);
    s.step();
    if (secondLater) return { s, sent: sent.sid, sentAt: sent.dateCreated, acme };
    await s.planAndApply(`${HEAD}beta,Beta,${A},\n${acmeB}`);
    s.step();
    if (back) {
      await s.moveByHand(A, beta, acme);
      s.step();
      await s.snapshot();
      s.step();
    }
    return { s, sent: sent.sid, sentAt: sent.dateCreated, acme };
  }

  it.each([
    ['', false, false],
    ['moved back by hand into Acme after the second wave', true, false],
    ['listed in the parent by a snapshot before it was moved (seed 13537)', false, true],
  ])(
    'names its send in Acme before the first plan to R, who said STOP to it in the parent %s',
    async (_, back, listedFirst) => {
      const { s, sent, acme } = await story({ stop: true, back, listedFirst });
      const first = await s.pass();
      const named = first.violations.filter((v) => v.violatingMessageSid === sent);
      expect(named.map((v) => [v.accountSid, v.customerId, v.recipient])).toEqual([
        [acme, 'acme', R],
      ]);
      expect(first.result.newViolations).toBeGreaterThanOrEqual(1);
      expect(first.exit3).toBe(true);
      expect(first.result.notChecked.filter((n) => n.accountSid === acme)).toEqual([]);
      // Read once: the next pass names it no more, nor the span as not checked.
      s.step();
      const again = await s.pass();
      expect(again.result.newViolations).toBe(0);
      expect(again.violations.filter((v) => v.violatingMessageSid === sent)).toHaveLength(1);
      expect(again.result.notChecked.filter((n) => n.accountSid === acme)).toEqual([]);
      const reports = await s.withDbNow(async (db) => spansNotJudged(db, new Date(s.now())));
      expect(reports.notChecked.filter((n) => n.accountSid === acme)).toEqual([]);
    },
  );

  it('names a send in Acme after a pass between the waves, before the second moved it on', async () => {
    const { s, acme } = await story({ stop: true, secondLater: true });
    const first = await s.pass();
    s.step();
    const later = await ownClient(s.e, acme).messages.create({ from: A, to: R, body: 'Again!' });
    expect(later.status).not.toBe('failed');
    s.step();
    await s.planAndApply(`${HEAD}beta,Beta,${A},\nacme,Acme,${B},\n`);
    s.step();
    const after = await s.pass();
    expect(first.violations.some((v) => v.violatingMessageSid === later.sid)).toBe(false);
    expect(
      after.violations
        .filter((v) => v.violatingMessageSid === later.sid)
        .map((v) => [v.accountSid, v.customerId]),
    ).toEqual([[acme, 'acme']]);
    expect(after.result.notChecked.filter((n) => n.accountSid === acme)).toEqual([]);
  });

  it("says Acme's span not checked when no pass reads Acme's any more, the same every pass", async () => {
    const { s, sent, sentAt, acme } = await story({ stop: true, keepB: false });
    const first = await s.pass();
    expect(first.violations.some((v) => v.violatingMessageSid === sent)).toBe(false);
    expect(first.exit3).toBe(true);
    const left = first.result.notChecked.filter((n) => n.accountSid === acme);
    expect(left.map((n) => [n.reason, n.leftBy])).toEqual([['numbers-left', 'apply']]);
    expect(Date.parse(left[0]!.start)).toBeLessThanOrEqual(sentAt.getTime());
    expect(Date.parse(left[0]!.end)).toBeGreaterThan(sentAt.getTime());
    s.step(3_600_000);
    const again = await s.pass();
    expect(again.exit3).toBe(true);
    expect(again.result.notChecked.filter((n) => n.accountSid === acme)).toEqual(left);
  });

  it('names its send in Acme when the second wave was killed with its transfer out of Acme in flight, given up for a plan made again', async () => {
    const { s, sent, acme } = await story({ stop: true, secondLater: true });
    const { e } = s;
    const numberA = (await e.state()).numbers.find((n) => n.phone_number === A)!.sid;
    const second = `${HEAD}beta,Beta,${A},\nacme,Acme,${B},\n`;
    // The kill: A's transfer into Beta's reaches Twilio, the process dies before the answer.
    await expect(
      s.withDbNow(async (db) => {
        const deps = { twilio: e.port(), db, clock: fixedClock(s.now()), runner: TEST_RUNNER };
        const { plan } = await runPlan(
          { mapping: parseMapping('m.csv', second), snapshot: true, credentials: 'auth-token' },
          deps,
        );
        const real = e.port();
        const killed: TwilioPort = Object.create(real) as TwilioPort;
        killed.transferPhoneNumber = async (from, sid, to) => {
          const made = await real.transferPhoneNumber(from, sid, to);
          if (sid === numberA) throw new Error('killed with the transfer in flight');
          return made;
        };
        return runApply(applyInputOf(plan), {
          ...deps,
          twilio: killed,
          sleep: async () => undefined,
        });
      }),
    ).rejects.toThrow(/killed/);
    s.step(3_600_000);
    // The plan made again finds A in Beta's, in place: no transfer of it settles the one in flight.
    await s.planAndApply(second);
    s.step();
    const pass = await s.pass();
    expect(
      pass.violations
        .filter((v) => v.violatingMessageSid === sent)
        .map((v) => [v.accountSid, v.customerId, v.recipient]),
    ).toEqual([[acme, 'acme', R]]);
    expect(pass.exit3).toBe(true);
  });

  it('exits 0 over the same story with no STOP, pass after pass', async () => {
    const { s } = await story({ stop: false });
    for (let i = 0; i < 2; i += 1) {
      const pass = await s.pass();
      expect(pass.violations).toEqual([]);
      expect(pass.result.notChecked).toEqual([]);
      expect(pass.exit3).toBe(false);
      s.step();
    }
  });
});
