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
import { CLOCK_SKEW_MS, isoSeconds } from '../../src/clock.js';
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

/**
 * The pass names A `number-updated` in Acme's subaccount, found by the message `sent` in `where`
 * (A was there then), and exits 3 under --fail-on-violation.
 */
function expectFound(
  pass: { result: { notChecked: unknown[] }; exit3: boolean },
  { acme, where, sent }: { acme: string; where: string; sent: string | null },
) {
  expect(pass.result.notChecked).toEqual([
    expect.objectContaining({
      reason: 'number-updated',
      accountSid: acme,
      phoneNumber: A,
      updatedCheck: expect.objectContaining({
        outcome: 'found',
        accountSid: where,
        messageSid: sent,
      }),
    }),
  ]);
  expect(pass.exit3).toBe(true);
}

/**
 * `real`, killed once a transfer is sent: the transfer reaches Twilio (unless `made` is false),
 * and the process dies before it hears the answer, the step left in flight.
 */
function killedWithTransferInFlight(real: TwilioPort, made = true): TwilioPort {
  const killed: TwilioPort = Object.create(real) as TwilioPort;
  killed.transferPhoneNumber = async (from, sid, to) => {
    if (made) await real.transferPhoneNumber(from, sid, to);
    throw new Error('killed with the transfer in flight');
  };
  return killed;
}

/**
 * `mapping` planned now (with its refresh) and applied through `killedWithTransferInFlight`
 * (`made`): the apply dies with its transfer in flight. The plan, to continue or give up.
 */
async function planKilledInFlight(
  s: Awaited<ReturnType<ReturnType<typeof useClockedMigration>>>,
  mapping: string,
  made = true,
) {
  return s.withDbNow(async (db) => {
    const deps = { twilio: s.e.port(), db, clock: fixedClock(s.now()), runner: TEST_RUNNER };
    const { plan } = await runPlan(
      { mapping: parseMapping('m.csv', mapping), snapshot: true, credentials: 'auth-token' },
      deps,
    );
    await expect(
      runApply(applyInputOf(plan), {
        ...deps,
        twilio: killedWithTransferInFlight(s.e.port(), made),
        sleep: async () => undefined,
      }),
    ).rejects.toThrow(/killed/);
    return plan;
  });
}

/** The killed apply of `plan` continued now: it completes, adopting the transfer in flight. */
async function continuedAdopting(
  s: Awaited<ReturnType<ReturnType<typeof useClockedMigration>>>,
  plan: Parameters<typeof applyInputOf>[0],
) {
  const resumed = await s.withDbNow((db) =>
    runApply(applyInputOf(plan), {
      twilio: s.e.port(),
      db,
      clock: fixedClock(s.now()),
      runner: TEST_RUNNER,
      sleep: async () => undefined,
    }),
  );
  expect(resumed.status).toBe('completed');
  expect(resumed.adopted.map((a) => a.step)).toEqual([expect.stringMatching(/^transfer_number:/)]);
}

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
    await s.stopReadBySnapshot(R1, A);
    const mapping = `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\n`;
    const plan = await planKilledInFlight(s, mapping);
    expect((await e.state()).numbers.find((n) => n.phone_number === A)?.account_sid).toBe(acme);

    s.step(HOUR);
    let sent: string | null = null;
    if (handMoves) {
      sent = await s.stopThenTripThroughParent(R2, A, acme);
    }
    s.step(3 * HOUR);

    // The apply is continued: it finds A in Acme's subaccount and adopts the transfer.
    await continuedAdopting(s, plan);
    const steps = plan.steps.map((step) => step.action);
    expect(steps.includes('set_number_webhook')).toBe(inService);
    s.step();
    return { s, acme, sent, pass: await s.pass() };
  }

  it.each([false, true])(
    'reads the parent from the transfer, not from the settling (in a service: %s)',
    async (inService) => {
      const { s, acme, sent, pass } = await story({ inService, handMoves: true });
      expectFound(pass, { acme, where: s.e.parentSid, sent });
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

/**
 * The same kill, but its run given up for a plan made again: no apply settles the transfer, so
 * the journal holds it only as sent. R2 said STOP to A in Acme's subaccount, someone moved A by
 * hand into the parent (or into Other, a subaccount no apply put a number in), which texted R2,
 * and (`back`) back into Acme; the plan made again three hours on found A in Acme (arrived with
 * no transfer, dated from when that plan saw it) or where it was taken (moved by its own
 * transfer, dated from then; from Other, after continuing the killed run was refused: A was
 * neither where it was nor where it was going). Either way a pass took the send for one from
 * before the move and Twilio's date of the move back (or of that transfer) for no change since:
 * exit 0, nothing not checked.
 */
describe('reconcile: a transfer left in flight by a run given up for a plan made again', () => {
  const start = useClockedMigration('submigrate-given-up-hand-moves-');

  async function story({
    handMoves,
    back,
    other = false,
    made = true,
  }: {
    handMoves: boolean;
    back: boolean;
    other?: boolean;
    /** Whether the transfer reached Twilio before the kill (else A texts R2 from the parent). */
    made?: boolean;
  }) {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Other' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const { e } = s;
    const acme = await s.sidOf('Acme');
    const away = other ? await s.sidOf('Other') : e.parentSid;
    await s.stopReadBySnapshot(R1, A);
    const mapping = `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\n`;
    const applied = await planKilledInFlight(s, mapping, made);
    expect((await e.state()).numbers.find((n) => n.phone_number === A)?.account_sid).toBe(
      made ? acme : e.parentSid,
    );

    s.step(HOUR);
    let sent: string | null = null;
    if (!made) {
      sent = (await ownClient(e, e.parentSid).messages.create({ from: A, to: R2, body: 'Hi' })).sid;
    }
    if (handMoves) {
      await inbound(e, { from: R2, to: A, body: 'STOP' });
      s.step();
      await s.moveByHand(A, acme, away);
      s.step();
      const send = await ownClient(e, away).messages.create({ from: A, to: R2, body: 'Hi' });
      expect(send.status).not.toBe('failed');
      sent = send.sid;
      if (back) {
        s.step();
        await s.moveByHand(A, away, acme);
      }
    }
    s.step(3 * HOUR);
    if (other) {
      // Continuing the killed run is refused: A is in neither account its transfer names.
      await expect(
        s.withDbNow((db) =>
          runApply(applyInputOf(applied), {
            twilio: e.port(),
            db,
            clock: fixedClock(s.now()),
            runner: TEST_RUNNER,
            sleep: async () => undefined,
          }),
        ),
      ).rejects.toThrow(/account changed since the plan was made/);
      s.step();
    }
    // The plan made again, and applied: the killed run is given up, its transfer in flight.
    await s.planAndApply(mapping);
    const steps = await s.withDbNow(async (db) =>
      db
        .prepare(
          "SELECT run_id AS run, state FROM apply_steps WHERE action = 'transfer_number' ORDER BY run_id",
        )
        .all(),
    );
    expect(steps).toEqual(
      (handMoves && !back) || !made
        ? [
            { run: 1, state: 'in_flight' },
            { run: 2, state: 'done' },
          ]
        : [{ run: 1, state: 'in_flight' }],
    );
    s.step();
    return { away, acme, sent, pass: await s.pass() };
  }

  it.each([
    { back: true, other: false },
    { back: false, other: false },
    { back: false, other: true },
  ])(
    'reads where it went from the transfer left in flight (back before the plan: $back, into Other: $other)',
    async ({ back, other }) => {
      const { away, acme, sent, pass } = await story({ handMoves: true, back, other });
      expectFound(pass, { acme, where: away, sent });
    },
  );

  it('vouches for a transfer left in flight that nothing moved since', async () => {
    const { pass } = await story({ handMoves: false, back: false });
    expect(pass.result.notChecked).toEqual([]);
    expect(pass.exit3).toBe(false);
  });

  // Whether Twilio made the transfer left in flight is not known: one it never made, the number
  // texting from the parent until the plan made again moved it, is named (the safe side).
  it('names a transfer left in flight that never reached Twilio, the number texting from the parent meanwhile', async () => {
    const { away, acme, sent, pass } = await story({ handMoves: false, back: false, made: false });
    expectFound(pass, { acme, where: away, sent });
  });
});

/**
 * The same kill in a later wave: A, moved into Acme's subaccount by a first apply, moved on
 * into Beta's by a second, killed with that transfer in flight (Twilio made it) and continued
 * hours later. Meanwhile R2 said STOP to A in Beta's, someone moved A by hand into the parent,
 * which texted R2, and back. A pass took Twilio's date of the move back for no change since the
 * settling (the first wave's transfer, answered in time, was the only one it knew as settled
 * late or not): exit 3 only over Acme's `numbers-left` span, the parent's send never named.
 */
describe("reconcile: a later wave's transfer settled hours after Twilio made it", () => {
  const start = useClockedMigration('submigrate-resumed-later-wave-');
  const mappingOf = (customer: string, name: string) =>
    `customer_id,customer_name,phone_number,messaging_service\n${customer},${name},${A},\n`;

  /**
   * A in Acme's by a first apply (a pass a step on names nothing), an hour on the second wave's
   * apply killed with the transfer in flight; an hour on, with `handMoves`, the story above;
   * three hours on, that apply continued (it adopts the transfer), and a pass a step on.
   */
  async function story({ handMoves, edited = false }: { handMoves: boolean; edited?: boolean }) {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const { e } = s;
    const acme = await s.sidOf('Acme');
    const beta = await s.sidOf('Beta');
    await s.stopReadBySnapshot(R1, A);
    await s.planAndApply(mappingOf('acme', 'Acme'));
    s.step();
    expect((await s.pass()).result.notChecked).toEqual([]);
    s.step(HOUR);
    // Acme's app texts R2 from A in the minute of the second wave: from before its transfer.
    await ownClient(e, acme).messages.create({ from: A, to: R2, body: 'Sale!' });
    const plan = await planKilledInFlight(s, mappingOf('beta', 'Beta'));
    expect((await e.state()).numbers.find((n) => n.phone_number === A)?.account_sid).toBe(beta);

    s.step(HOUR);
    let sent: string | null = null;
    if (handMoves) {
      sent = await s.stopThenTripThroughParent(R2, A, beta);
    }
    s.step(3 * HOUR);

    await continuedAdopting(s, plan);
    s.step();
    if (edited) {
      // Someone edits A's webhook in Beta's Console: Twilio dates a change after the settling.
      const [number] = await ownClient(e, beta).incomingPhoneNumbers.list({ phoneNumber: A });
      await e.parent.api.v2010
        .accounts(beta)
        .incomingPhoneNumbers(number!.sid)
        .update({ smsUrl: `${URL}-new-token` });
      s.step();
    }
    return { s, acme, beta, sent, pass: await s.pass() };
  }

  /**
   * What no pass can read however the story went: A's sends in Acme's from the pass after the
   * first apply to the settling (the journal knows A left only then), Acme holding nothing now.
   */
  const acmeLeft = (acme: string) =>
    expect.objectContaining({ reason: 'numbers-left', leftBy: 'apply', accountSid: acme });

  it("reads the parent from the later wave's transfer, not from the settling", async () => {
    const { s, acme, beta, sent, pass } = await story({ handMoves: true });
    expect(pass.result.notChecked).toEqual([
      acmeLeft(acme),
      expect.objectContaining({
        reason: 'number-updated',
        accountSid: beta,
        phoneNumber: A,
        updatedCheck: expect.objectContaining({
          outcome: 'found',
          accountSid: s.e.parentSid,
          messageSid: sent,
        }),
      }),
    ]);
    expect(pass.exit3).toBe(true);
  });

  // Nothing named past Acme's span (which keeps every pass at exit 3, as any later wave's whose
  // pass did not run in the second it left): a webhook edited since is read, and vouched for.
  it.each([false, true])(
    "vouches for a later wave's transfer settled late that nothing moved since (webhook edited since: %s)",
    async (edited) => {
      const { s, acme, pass } = await story({ handMoves: false, edited });
      expect(pass.result.notChecked).toEqual([acmeLeft(acme)]);
      expect(pass.violations).toEqual([]);
      s.step();
      const again = await s.pass();
      expect(again.result.notChecked).toEqual(pass.result.notChecked);
      expect(again.violations).toEqual([]);
      const checks = await s.withDbNow(async (db) =>
        db.prepare('SELECT outcome FROM number_update_checks').all(),
      );
      expect(checks).toEqual(edited ? [{ outcome: 'vouched' }] : []);
    },
  );
});

/**
 * The later wave's kill, its run given up for a plan made again three hours on, which found A
 * in Beta's (held as arrived with no transfer). No later transfer ends Acme's stay: it ran to
 * each pass's now, Acme's `numbers-left` span a step longer on every pass, never the same
 * twice. That plan saw A in Beta's: it had left Acme's by then.
 */
describe('reconcile: a later wave given up for a plan made again that found the number moved', () => {
  const start = useClockedMigration('submigrate-given-up-later-wave-');
  const mappingOf = (customer: string, name: string) =>
    `customer_id,customer_name,phone_number,messaging_service\n${customer},${name},${A},\n`;

  /**
   * A in Acme's by a first apply and a pass a step on, an hour on the second wave's apply killed
   * with the transfer in flight, and three hours on the plan made again (`listed`: its date) and
   * its apply: nothing to move.
   */
  async function story() {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const acme = await s.sidOf('Acme');
    const beta = await s.sidOf('Beta');
    await s.stopReadBySnapshot(R1, A);
    await s.planAndApply(mappingOf('acme', 'Acme'));
    s.step();
    const read = s.now();
    expect((await s.pass()).result.notChecked).toEqual([]);
    s.step(HOUR);
    await planKilledInFlight(s, mappingOf('beta', 'Beta'));
    s.step(4 * HOUR);
    const listed = s.now();
    await s.planAndApply(mappingOf('beta', 'Beta'));
    s.step();
    return { s, acme, beta, read, listed };
  }

  /** Acme's span: from the first pass's read to no later than the plan that saw A in Beta's. */
  const acmeLeft = (acme: string, read: number, end: string) => ({
    accountSid: acme,
    start: isoSeconds(new Date(read)),
    end,
    reason: 'numbers-left',
    leftBy: 'hand',
  });

  it("ends Acme's span where the plan made again saw A in Beta's, the same on every pass", async () => {
    const { s, acme, read, listed } = await story();
    const first = await s.pass();
    const [span] = first.result.notChecked as { end: string }[];
    // The plan is dated after it listed the family (Twilio may date a send up to the clocks'
    // allowance later than this machine).
    expect(Date.parse(span!.end)).toBeLessThanOrEqual(listed + CLOCK_SKEW_MS);
    expect(first.result.notChecked).toEqual([acmeLeft(acme, read, span!.end)]);
    expect(first.exit3).toBe(true);
    s.step();
    const again = await s.pass();
    expect(again.result.notChecked).toEqual(first.result.notChecked);
    expect(again.violations).toEqual([]);
  });

  // The first wave's transfer left in flight without reaching Twilio, the plan made again (which
  // saw A in the parent, after the stay its transfer begins) moved it into Acme's. Someone moved
  // A by hand into Beta's an hour on, and a plan for Beta found it there: Acme's stay ends
  // there, not at the plan that saw A where it was before.
  it("ends Acme's span at a plan made after A arrived there, not one made while it was coming", async () => {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const [acme, beta] = [await s.sidOf('Acme'), await s.sidOf('Beta')];
    await s.stopReadBySnapshot(R1, A);
    await planKilledInFlight(s, mappingOf('acme', 'Acme'), false);
    s.step(HOUR);
    await s.planAndApply(mappingOf('acme', 'Acme'));
    s.step(HOUR);
    await s.moveByHand(A, acme, beta);
    s.step(HOUR);
    const listed = s.now();
    await s.planAndApply(mappingOf('beta', 'Beta'));
    s.step();
    const spans = (await s.pass()).result.notChecked;
    expect(spans).toEqual([
      expect.objectContaining({ reason: 'numbers-left', leftBy: 'hand', accountSid: acme }),
    ]);
    expect(spans[0]!.end).toBe(isoSeconds(new Date(listed + CLOCK_SKEW_MS)));
  });

  // Moved back into Acme's by hand after that plan, A texts R1 (who said STOP to it in the
  // parent) from there, where no pass reads: named past the span that ended at the plan, found
  // there (`away`), or Twilio's date of the move back into Beta's read (the family's messages
  // find the send).
  it.each([false, true])(
    'names A moved back into Acme by hand after that plan (and back into Beta: %s)',
    async (away) => {
      const { s, acme, beta, read } = await story();
      const end = (await s.pass()).result.notChecked[0]!.end;
      s.step(HOUR);
      await s.moveByHand(A, beta, acme);
      s.step();
      const sent = await ownClient(s.e, acme).messages.create({ from: A, to: R1, body: 'Sale!' });
      s.step();
      if (away) {
        await s.moveByHand(A, acme, beta);
        s.step();
      }
      const pass = await s.pass();
      expect(pass.result.notChecked).toEqual([
        acmeLeft(acme, read, end),
        away
          ? expect.objectContaining({
              reason: 'number-updated',
              accountSid: beta,
              phoneNumber: A,
              updatedCheck: expect.objectContaining({
                outcome: 'found',
                accountSid: acme,
                messageSid: sent.sid,
              }),
            })
          : expect.objectContaining({
              reason: 'number-away',
              accountSid: acme,
              phoneNumber: A,
              end: isoSeconds(new Date(s.now())),
            }),
      ]);
      expect(pass.exit3).toBe(true);
    },
  );
});
