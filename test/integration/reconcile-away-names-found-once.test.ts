/**
 * One send named twice by one pass (h220): wave 1 moves A into Acme's subaccount; a later
 * wave's apply (A is Beta's now) is killed after Twilio made A's transfer into Beta's, its run
 * given up. R2 says STOP to A there; someone moves A by hand into the parent, which never heard
 * it, and A texts R2 from there; the plan made again moves A on from the parent into Beta's. The
 * pass found A away in the parent (`number-away`, to when it left), and found it changed in
 * Beta's since apply last changed it (`number-updated`), reading the family's messages for that
 * span: it found the send to R2 in the parent, inside the span away. Both were said, by that
 * pass and every one after it: the send in the parent named twice, where later passes, once the
 * change is no longer listed, name it once (the span away covers the kept one). The pass now
 * names it once, by the span away. No pass reads the parent's sends, so it is no violation
 * (violations.csv has no row for it): the pass exits 3 on the span. In-process on one clock,
 * real SDK, emulator over HTTP, SQLite file; the kill is a port that makes the transfer and
 * throws before apply hears the answer.
 *
 * A span away names a message found only in its own account: A moved by hand from Acme's into
 * the parent, texting R2 there, and back (`number-updated`, found in the parent, kept), then
 * on by hand into Beta's, which no pass reads. The span A is found away in there runs from when
 * it last came into Acme's, over the span found, and later passes left that one out: "A in
 * Beta's" alone, the parent's send named by none, and the customer told to look in Beta's.
 *
 * A kept span with nothing found (an account unreadable) is still left out by any span away
 * that covers it: A moved by hand from Acme's into Other, texting R2 (who said STOP to it in
 * Acme's) there, and back; Other suspended, so the pass on an API key cannot read it. Then A is
 * moved by hand into the parent. The span away there runs from when A last came into Acme's,
 * over the unread one, and names that time from then on, for good: every pass, Other readable
 * again or not, still exits 3, and `report` names that span (in the parent only: nothing reads
 * Other again while A is away). Moved back by hand, A is listed as changed in Acme's again, the
 * family read from the same arrival, and the send in Other is found.
 *
 * A kept span found is left out by one the pass says only while that one is said: A moved by
 * hand into Beta's (no pass reads it), texting R2, and back (found in Beta's, kept); then into
 * the parent (found away there), texting R2 from there, and back. The pass reads the change
 * from the same arrival and finds the parent's send first: its span covers the one found in
 * Beta's, and the span away in the parent names it. Each pass named only "A in the parent",
 * Beta's send named by none.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { NotChecked } from '../../src/reconcile/result.js';
import { spansNotJudged } from '../../src/reconcile/spans.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { STEP, useClockedMigration } from '../support/clocked-migration.js';
import { inbound, ownClient } from '../support/emulator.js';
import { withDb } from '../../src/db/open.js';
import { reconcileTotals } from '../../src/db/reconcile.js';
import { failsOnViolation } from '../../src/reconcile/result.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import { applyInputOf } from '../support/plan-builders.js';
import { fixedClock, MIGRATIONS_DIR, TEST_RUNNER } from '../support/snapshot-harness.js';

const A = '+14155550681';
const [R1, R2] = ['+12065550681', '+12065550682'];
const HOUR = 3_600_000;
const URL = 'https://app.example/sms';
const mappingOf = (id: string, name: string) =>
  `customer_id,customer_name,phone_number,messaging_service\n${id},${name},${A},\n`;

describe('reconcile: a message the number-updated check finds, where a span away names it', () => {
  const start = useClockedMigration('submigrate-away-names-found-once-');

  it('is named once by each pass, which exits 3, and so do the reports', async () => {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const { e } = s;
    const parent = e.parentSid;
    const beta = await s.sidOf('Beta');
    await s.stopReadBySnapshot(R1, A);
    await s.planAndApply(mappingOf('acme', 'Acme'));
    s.step();
    await s.pass();
    s.step(HOUR);
    // The later wave's apply, killed once Twilio made A's transfer into Beta's: given up.
    await s.withDbNow(async (db) => {
      const deps = { twilio: e.port(), db, clock: fixedClock(s.now()), runner: TEST_RUNNER };
      const { plan } = await runPlan(
        {
          mapping: parseMapping('m.csv', mappingOf('beta', 'Beta')),
          snapshot: true,
          credentials: 'auth-token',
        },
        deps,
      );
      const real = e.port();
      const killed: TwilioPort = Object.create(real) as TwilioPort;
      killed.transferPhoneNumber = async (from, sid, to) => {
        await real.transferPhoneNumber(from, sid, to);
        throw new Error('killed');
      };
      await expect(
        runApply(applyInputOf(plan), { ...deps, twilio: killed, sleep: async () => undefined }),
      ).rejects.toThrow(/killed/);
    });
    s.step(HOUR);
    await inbound(e, { from: R2, to: A, body: 'STOP' });
    s.step();
    await s.moveByHand(A, beta, parent);
    s.step();
    const sentAt = s.now();
    const sent = (await ownClient(e, parent).messages.create({ from: A, to: R2, body: 'Hi' })).sid;
    s.step(3 * HOUR);
    await s.planAndApply(mappingOf('beta', 'Beta'));

    // The spans that name the send: one away in the parent over it, or one whose message found
    // is it.
    const naming = (spans: readonly NotChecked[]) =>
      spans.filter((span) =>
        span.updatedCheck?.outcome === 'found'
          ? span.updatedCheck.messageSid === sent
          : span.accountSid === parent &&
            span.phoneNumber === A &&
            Date.parse(span.start) <= sentAt &&
            sentAt <= Date.parse(span.end),
      );
    const once = (spans: readonly NotChecked[]) => {
      const named = naming(spans);
      expect(named).toEqual([
        expect.objectContaining({ reason: 'number-away', accountSid: parent, phoneNumber: A }),
      ]);
      expect(spans.filter((span) => span.updatedCheck?.outcome === 'found')).toEqual([]);
    };
    // This pass, and the next, which says the span found changed again.
    for (let i = 0; i < 2; i += 1) {
      s.step();
      const pass = await s.pass();
      // What `reconcile --json` gives as notChecked, and its lines on stderr; violations.csv
      // (listViolations) has no row for it.
      once(pass.result.notChecked);
      expect(pass.violations.filter((v) => v.violatingMessageSid === sent)).toEqual([]);
      expect(pass.exit3).toBe(true);
    }
    // `submigrate report` and report.html: the spans the passes leave unjudged.
    await s.withDbNow(async (db) => once(spansNotJudged(db, new Date(s.now())).notChecked));
  });

  /**
   * A moved into Acme's by a first apply (R1's STOP read by a snapshot) and a clean pass; then
   * moved by hand from Acme's into `through`, texting R2 from there, and back: the next pass
   * names the change in Acme's `number-updated`, the family read finding that send (`found`).
   */
  async function foundAfterTrip(through: 'parent' | 'Beta') {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const parent = s.e.parentSid;
    const acme = await s.sidOf('Acme');
    const beta = await s.sidOf('Beta');
    const via = through === 'parent' ? parent : beta;
    await s.stopReadBySnapshot(R1, A);
    await s.planAndApply(mappingOf('acme', 'Acme'));
    s.step();
    expect((await s.pass()).exit3).toBe(false);
    s.step();
    await s.moveByHand(A, acme, via);
    s.step();
    const sent = (await ownClient(s.e, via).messages.create({ from: A, to: R2, body: 'Hi' })).sid;
    s.step();
    await s.moveByHand(A, via, acme);
    s.step(2 * STEP);
    const found = expect.objectContaining({
      reason: 'number-updated',
      accountSid: acme,
      phoneNumber: A,
      updatedCheck: expect.objectContaining({ accountSid: via, messageSid: sent }),
    });
    expect((await s.pass()).result.notChecked).toEqual([found]);
    s.step();
    return { s, parent, acme, beta, found };
  }

  it('is named by a span away only in the account it is in', async () => {
    const { s, acme, beta, found } = await foundAfterTrip('parent');
    await s.moveByHand(A, acme, beta);
    s.step();
    const named = [
      expect.objectContaining({ reason: 'number-away', accountSid: beta, phoneNumber: A }),
      found,
    ];
    const pass = await s.pass();
    expect(pass.result.notChecked).toEqual(named);
    expect(pass.exit3).toBe(true);
    await s.withDbNow(async (db) =>
      expect(spansNotJudged(db, new Date(s.now())).notChecked).toEqual(named),
    );
  });

  it('keeps a pass at exit 3 over a span it could not read once a span away covers it', async () => {
    const key = { kind: 'main' as const, sid: `SK${'a1'.repeat(16)}`, secret: 'secret-h229' };
    const s = await start({
      keys: [key],
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Other' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const { e } = s;
    const parent = e.parentSid;
    const acme = await s.sidOf('Acme');
    const other = await s.sidOf('Other');
    // A pass on the API key: a subaccount's messages are read with its own token, which Twilio
    // refuses for a suspended one.
    const pass = () =>
      withDb(
        { path: s.db, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(s.now()) },
        async (db) => {
          const result = await runReconcile(
            { since: null },
            {
              twilio: e.port({
                kind: 'api-key',
                accountSid: parent,
                apiKey: key.sid,
                apiSecret: key.secret,
              }),
              db,
              clock: fixedClock(s.now()),
              runner: TEST_RUNNER,
            },
          );
          return { result, exit3: failsOnViolation(result, reconcileTotals(db).violations) };
        },
      );
    await s.stopReadBySnapshot(R1, A);
    await s.planAndApply(mappingOf('acme', 'Acme'));
    s.step();
    expect((await pass()).exit3).toBe(false);
    s.step();
    await inbound(e, { from: R2, to: A, body: 'STOP' });
    s.step();
    await s.moveByHand(A, acme, other);
    s.step();
    // Other never heard R2's STOP: the send goes out.
    const sentAt = s.now();
    const sent = await ownClient(e, other).messages.create({ from: A, to: R2, body: 'Hi' });
    expect(sent.status).not.toBe('failed');
    s.step();
    await s.moveByHand(A, other, acme);
    s.step();
    await e.parent.api.v2010.accounts(other).update({ status: 'suspended' });
    s.step();
    const first = await pass();
    expect(first.result.notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-updated',
        accountSid: acme,
        phoneNumber: A,
        updatedCheck: {
          outcome: 'unreadable',
          accounts: [expect.objectContaining({ accountSid: other })],
        },
      }),
    ]);
    const unread = first.result.notChecked[0]!;
    expect(first.exit3).toBe(true);
    s.step();
    await s.moveByHand(A, acme, parent);
    s.step();
    // The span away in the parent, from when A last came into Acme's: over the unread span,
    // and the send in Other.
    const away = expect.objectContaining({
      reason: 'number-away',
      accountSid: parent,
      phoneNumber: A,
      start: unread.start,
    });
    const named = async () => {
      const later = await pass();
      expect(later.result.notChecked).toEqual([away]);
      const [span] = later.result.notChecked;
      expect(Date.parse(span!.start) <= sentAt && sentAt <= Date.parse(span!.end)).toBe(true);
      expect(later.exit3).toBe(true);
      await s.withDbNow(async (db) =>
        expect(spansNotJudged(db, new Date(s.now())).notChecked).toEqual([away]),
      );
    };
    await named();
    // Other readable again: no pass reads it for the unread span while A is away (not listed as
    // changed in Acme's), and the span away, kept for good, still names that time.
    await e.parent.api.v2010.accounts(other).update({ status: 'active' });
    s.step();
    await named();
    // Moved back into Acme's by hand: listed as changed there, read again from the same
    // arrival, and the send in Other is found (not the parent's to name).
    s.step();
    await s.moveByHand(A, parent, acme);
    s.step(2 * STEP);
    const back = await pass();
    expect(back.result.notChecked).toEqual([
      away,
      expect.objectContaining({
        reason: 'number-updated',
        accountSid: acme,
        start: unread.start,
        updatedCheck: expect.objectContaining({
          outcome: 'found',
          accountSid: other,
          messageSid: sent.sid,
        }),
      }),
    ]);
    expect(back.exit3).toBe(true);
  });

  it('names a kept span found elsewhere that a span the pass says covers, once a span away names that one', async () => {
    const { s, parent, acme, found } = await foundAfterTrip('Beta');
    const { e } = s;
    await s.moveByHand(A, acme, parent);
    s.step();
    const away = expect.objectContaining({ reason: 'number-away', accountSid: parent });
    expect((await s.pass()).result.notChecked).toEqual([away, found]);
    s.step();
    await ownClient(e, parent).messages.create({ from: A, to: R2, body: 'Hi again' });
    s.step();
    await s.moveByHand(A, parent, acme);
    s.step(2 * STEP);
    for (let i = 0; i < 2; i += 1) {
      const pass = await s.pass();
      expect(pass.result.notChecked).toEqual([away, found]);
      expect(pass.exit3).toBe(true);
      s.step();
    }
    await s.withDbNow(async (db) =>
      expect(spansNotJudged(db, new Date(s.now())).notChecked).toEqual([away, found]),
    );
  });
});
