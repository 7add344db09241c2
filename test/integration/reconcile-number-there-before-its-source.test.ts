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

import { afterEach, describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { withDb } from '../../src/db/open.js';
import { listViolations, reconcileTotals } from '../../src/db/reconcile.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import { failsOnViolation } from '../../src/reconcile/result.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import { spansNotJudged } from '../../src/reconcile/spans.js';
import { inbound, ownClient, startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { applyInputOf } from '../support/plan-builders.js';
import {
  fixedClock,
  MIGRATIONS_DIR,
  snapshotInto,
  TEST_RUNNER,
  tempDir,
  type TempDir,
} from '../support/snapshot-harness.js';

const A = '+14155550681';
const R = '+12065550681';
const STEP = 5 * 60_000;

describe('reconcile: a number in its subaccount by hand before it reached its source', () => {
  let env: TestEmulator | null = null;
  let dir: TempDir | null = null;
  afterEach(async () => {
    await env?.close();
    dir?.remove();
    env = null;
    dir = null;
  });

  it.each([
    ['before any snapshot', false, false],
    ['seen there by a snapshot', true, false],
    ['the pass 400 days on, when the Messages API no longer shows them', false, true],
  ])(
    'names its sends there before the plan to someone who said STOP to it in the parent (seed 2358; %s)',
    async (_, seenThere, late) => {
      let t = Math.floor((Date.now() - 12 * 3_600_000) / 60_000) * 60_000;
      const e = await startTestEmulator({ now: () => t });
      env = e;
      dir = tempDir('submigrate-before-source-');
      const db = dir.file('h.db');
      await e.seed({
        subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
        numbers: [{ phone_number: A, sms_url: 'https://app.example/sms' }],
      });
      const sidOf = async (name: string) =>
        (await e.state()).accounts.find((a) => a.friendly_name === name)!.sid;
      const acme = await sidOf('Acme');
      const beta = await sidOf('Beta');
      const step = () => (t += STEP);
      const moveByHand = async (from: string, to: string) => {
        const [number] = await ownClient(e, from).incomingPhoneNumbers.list({ phoneNumber: A });
        await e.parent.api.v2010.accounts(from).incomingPhoneNumbers(number!.sid).update({
          accountSid: to,
        });
      };
      const pass = () =>
        withDb({ path: db, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(t) }, async (d) => {
          const result = await runReconcile(
            { since: null },
            { twilio: e.port(), db: d, clock: fixedClock(t), runner: TEST_RUNNER },
          );
          const violations = listViolations(d);
          return {
            result,
            violations,
            exit3: failsOnViolation(result, reconcileTotals(d).violations),
          };
        });

      step();
      await inbound(e, { from: R, to: A, body: 'STOP' });
      step();
      await moveByHand(e.parentSid, beta);
      step();
      // Beta never heard R's STOP: the send goes out.
      const sent = await ownClient(e, beta).messages.create({ from: A, to: R, body: 'Sale!' });
      expect(sent.status).not.toBe('failed');
      step();
      // A snapshot reads the parent's STOP (and, with `seenThere`, lists A in Beta).
      if (seenThere) await snapshotInto(db, e.port(), fixedClock(t));
      step();
      await moveByHand(beta, acme);
      step();
      if (!seenThere) await snapshotInto(db, e.port(), fixedClock(t));
      step();
      await withDb({ path: db, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(t) }, async (d) => {
        const deps = { twilio: e.port(), db: d, clock: fixedClock(t), runner: TEST_RUNNER };
        const { plan } = await runPlan(
          {
            mapping: parseMapping(
              'm.csv',
              `customer_id,customer_name,phone_number,messaging_service\nbeta,Beta,${A},\n`,
            ),
            snapshot: true,
            credentials: 'auth-token',
          },
          deps,
        );
        const done = await runApply(applyInputOf(plan), { ...deps, sleep: async () => undefined });
        expect(done.status).toBe('completed');
      });
      step();
      if (late) {
        // The pass a minute short of 400 days after the move: the Messages API shows Beta from
        // just before it, not the send before the transfer. That stretch is named, not passed.
        t += 400 * 86_400_000 - STEP - 60_000;
        const last = await pass();
        expect(last.violations).toEqual([]);
        const unread = last.result.notChecked.filter(
          (s) => s.accountSid === beta && s.reason === 'retention',
        );
        expect(unread).toHaveLength(1);
        expect(Date.parse(unread[0]!.start)).toBeLessThanOrEqual(sent.dateCreated.getTime());
        expect(Date.parse(unread[0]!.end)).toBeGreaterThan(sent.dateCreated.getTime());
        expect(last.exit3).toBe(true);
        // The reports say it too.
        const judged = await withDb(
          { path: db, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(t) },
          (d) => spansNotJudged(d, new Date(t)),
        );
        expect(judged.notChecked).toContainEqual(expect.objectContaining(unread[0]!));
        return;
      }
      const last = await pass();
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
