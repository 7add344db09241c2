/**
 * A number moved by hand away and back between two passes, and a plan made again, applied, that
 * puts it into a Messaging Service (apply's attach step on it, hours after the move back). A
 * pass took that step for apply's last change to the number, and Twilio's date of the move back,
 * no later, for no change since: A moved into Acme's by a first apply, R2 said STOP to it there,
 * someone moved it into the parent, which texted R2, and back; exit 0, nothing not checked. So
 * too where a stay no transfer ended (dfe765c, d8b959b): A moved by hand into Beta's, a plan
 * for Beta found it there (Acme's `numbers-left` span ends there), then A moved back into
 * Acme's, texting R1 (who said STOP to it in the parent), and on into Beta's, where a plan made
 * again put it into Beta's service: the pass named only Acme's span, which ends before the send.
 * And where the plan that first found A in Beta's (moved there by hand) was applied hours after
 * it was made: A moved by hand into the parent meanwhile, texting R2 (who said STOP to it in
 * Beta's), and back, before that apply attached it. Apply's steps on a number now count only of
 * a run begun by when it came into its subaccount. In-process on one clock, real SDK, emulator over HTTP, SQLite file.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { CLOCK_SKEW_MS, isoSeconds } from '../../src/clock.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import { useClockedMigration } from '../support/clocked-migration.js';
import { ownClient } from '../support/emulator.js';
import { applyInputOf } from '../support/plan-builders.js';
import { fixedClock, TEST_RUNNER } from '../support/snapshot-harness.js';

const [A, B] = ['+14155550671', '+14155550672'];
const [R1, R2] = ['+12065550671', '+12065550672'];
const HOUR = 3_600_000;
const URL = 'https://app.example/sms';
const mapping = (rows: [customer: string, name: string, phone: string, service: string][]) =>
  `customer_id,customer_name,phone_number,messaging_service\n${rows.map((r) => r.join(',')).join('\n')}\n`;

describe("reconcile: a move by hand away and back before a later apply's step on the number", () => {
  const start = useClockedMigration('submigrate-updated-later-run-');

  async function story({ handMoves }: { handMoves: boolean }) {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const acme = await s.sidOf('Acme');
    await s.stopReadBySnapshot(R1, A);
    await s.planAndApply(mapping([['acme', 'Acme', A, '']]));
    s.step();
    expect((await s.pass()).result.notChecked).toEqual([]);
    s.step(HOUR);
    let sent: string | null = null;
    if (handMoves) {
      sent = await s.stopThenTripThroughParent(R2, A, acme);
    }
    s.step(HOUR);
    // The plan made again puts A into Acme's service: apply's step on A, after the move back.
    await s.planAndApply(mapping([['acme', 'Acme', A, 'AcmeSvc']]));
    const attached = await s.withDbNow(async (db) =>
      db.prepare("SELECT COUNT(*) FROM apply_steps WHERE action = 'attach_number'").pluck().get(),
    );
    expect(attached).toBe(1);
    s.step();
    return { s, acme, sent, pass: await s.pass() };
  }

  /**
   * A moved into Acme's and B into Beta's by a first apply (R1's STOP to A read by a snapshot),
   * a clean pass (`read`), then A moved by hand into Beta's, an hour on (`seen`: a step after).
   */
  async function movedIntoBeta() {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [
        { phone_number: A, sms_url: URL },
        { phone_number: B, sms_url: URL },
      ],
    });
    const acme = await s.sidOf('Acme');
    const beta = await s.sidOf('Beta');
    await s.stopReadBySnapshot(R1, A);
    await s.planAndApply(
      mapping([
        ['acme', 'Acme', A, ''],
        ['beta', 'Beta', B, ''],
      ]),
    );
    s.step();
    const read = s.now();
    expect((await s.pass()).result.notChecked).toEqual([]);
    s.step(HOUR);
    await s.moveByHand(A, acme, beta);
    s.step();
    return { s, acme, beta, read, seen: s.now() };
  }

  it('names the move back, the family read finding the send in the parent', async () => {
    const { s, acme, sent, pass } = await story({ handMoves: true });
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
  });

  it('vouches for a number nothing moved before the later apply', async () => {
    const { s, pass } = await story({ handMoves: false });
    expect(pass.result.notChecked).toEqual([]);
    expect(pass.exit3).toBe(false);
    s.step();
    const again = await s.pass();
    expect(again.result.notChecked).toEqual([]);
    expect(again.exit3).toBe(false);
  });

  it("names the send in Acme's after the plan that ended Acme's stay, A moved back and on before a plan made again attached it", async () => {
    const { s, acme, beta, read, seen } = await movedIntoBeta();
    // A plan for Beta finds A in Beta's: Acme's stay ends there.
    await s.planAndApply(
      mapping([
        ['beta', 'Beta', A, ''],
        ['beta', 'Beta', B, ''],
      ]),
    );
    s.step(HOUR);
    await s.moveByHand(A, beta, acme);
    s.step();
    const sent = await ownClient(s.e, acme).messages.create({ from: A, to: R1, body: 'Sale!' });
    expect(sent.status).not.toBe('failed');
    s.step();
    await s.moveByHand(A, acme, beta);
    s.step(HOUR);
    await s.planAndApply(
      mapping([
        ['beta', 'Beta', A, 'BetaSvc'],
        ['beta', 'Beta', B, 'BetaSvc'],
      ]),
    );
    s.step();
    const pass = await s.pass();
    const left = {
      accountSid: acme,
      start: isoSeconds(new Date(read)),
      end: isoSeconds(new Date(seen + CLOCK_SKEW_MS)),
      reason: 'numbers-left',
      leftBy: 'hand',
    };
    expect(pass.result.notChecked).toEqual([
      left,
      expect.objectContaining({
        reason: 'number-updated',
        accountSid: beta,
        phoneNumber: A,
        updatedCheck: expect.objectContaining({
          outcome: 'found',
          accountSid: acme,
          messageSid: sent.sid,
        }),
      }),
    ]);
    expect(pass.exit3).toBe(true);
  });

  it.each([false, true])(
    "names a move away and back between the plan that first found A in Beta's and its apply hours later (moved: %s)",
    async (handMoves) => {
      const { s, acme, beta, read, seen } = await movedIntoBeta();
      const { e } = s;
      const plan = await s.withDbNow(async (db) => {
        const deps = { twilio: e.port(), db, clock: fixedClock(s.now()), runner: TEST_RUNNER };
        const m = mapping([
          ['beta', 'Beta', A, 'BetaSvc'],
          ['beta', 'Beta', B, 'BetaSvc'],
        ]);
        return (
          await runPlan(
            { mapping: parseMapping('m.csv', m), snapshot: true, credentials: 'auth-token' },
            deps,
          )
        ).plan;
      });
      s.step(HOUR);
      let sent: string | null = null;
      if (handMoves) {
        sent = await s.stopThenTripThroughParent(R2, A, beta);
      }
      s.step(HOUR);
      const applied = await s.withDbNow((db) =>
        runApply(applyInputOf(plan), {
          twilio: e.port(),
          db,
          clock: fixedClock(s.now()),
          runner: TEST_RUNNER,
          sleep: async () => undefined,
        }),
      );
      expect(applied.status).toBe('completed');
      s.step();
      const pass = await s.pass();
      // Acme's span ends where that plan saw A in Beta's, before any of this.
      const left = {
        accountSid: acme,
        start: isoSeconds(new Date(read)),
        end: isoSeconds(new Date(seen + CLOCK_SKEW_MS)),
        reason: 'numbers-left',
        leftBy: 'hand',
      };
      expect(pass.result.notChecked).toEqual(
        handMoves
          ? [
              left,
              expect.objectContaining({
                reason: 'number-updated',
                accountSid: beta,
                phoneNumber: A,
                updatedCheck: expect.objectContaining({
                  outcome: 'found',
                  accountSid: e.parentSid,
                  messageSid: sent,
                }),
              }),
            ]
          : [left],
      );
    },
  );
});
