/**
 * A mapping whose only number the plan found already in its customer's subaccount (moved there
 * by hand before any listing): apply moves nothing. After a STOP said to it there, someone moves
 * it by hand into the parent, which texts the person. A pass looks for a number an applied plan
 * found in place as for a moved one; it used to refuse before looking ("no number has been
 * moved", exit 1, no span named). It now runs and names the number away (`number-away`, exit 3
 * with --fail-on-violation). Oracle seed 2433 of
 * test/integration/reconcile-hand-moves-random.test.ts, by hand; in-process on one clock, real
 * SDK, emulator over HTTP, SQLite file.
 */

import { afterEach, describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { withDb } from '../../src/db/open.js';
import { reconcileTotals } from '../../src/db/reconcile.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import { failsOnViolation } from '../../src/reconcile/result.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
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

const B = '+14155550671';
const R = '+12065550671';
const STEP = 5 * 60_000;

describe('reconcile: the only mapped number found in place by the plan', () => {
  let env: TestEmulator | null = null;
  let dir: TempDir | null = null;
  afterEach(async () => {
    await env?.close();
    dir?.remove();
    env = null;
    dir = null;
  });

  it('runs and names it away once moved by hand into the parent after a STOP in its subaccount (seed 2433)', async () => {
    let t = Math.floor((Date.now() - 12 * 3_600_000) / 60_000) * 60_000;
    const e = await startTestEmulator({ now: () => t });
    env = e;
    dir = tempDir('submigrate-in-place-only-');
    const db = dir.file('h.db');
    await e.seed({
      subaccounts: [{ friendly_name: 'Acme' }],
      numbers: [{ phone_number: B, sms_url: 'https://app.example/sms' }],
    });
    const acme = (await e.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const step = () => (t += STEP);
    const moveByHand = async (from: string, to: string) => {
      const [number] = await ownClient(e, from).incomingPhoneNumbers.list({ phoneNumber: B });
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
        return { result, exit3: failsOnViolation(result, reconcileTotals(d).violations) };
      });

    step();
    await moveByHand(e.parentSid, acme);
    step();
    await snapshotInto(db, e.port(), fixedClock(t));
    step();
    await withDb({ path: db, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(t) }, async (d) => {
      const deps = { twilio: e.port(), db: d, clock: fixedClock(t), runner: TEST_RUNNER };
      const { plan } = await runPlan(
        {
          mapping: parseMapping(
            'm.csv',
            `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${B},\n`,
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
    // Nothing moved and nothing away: the pass runs and vouches.
    const first = await pass();
    expect(first.result.notChecked).toEqual([]);
    expect(first.exit3).toBe(false);
    step();
    await inbound(e, { from: R, to: B, body: 'STOP' });
    step();
    await moveByHand(acme, e.parentSid);
    step();
    // The parent never heard R's STOP to B: the send goes out.
    const sent = await ownClient(e, e.parentSid).messages.create({ from: B, to: R, body: 'Sale!' });
    expect(sent.status).not.toBe('failed');
    step();
    const last = await pass();
    expect(last.result.notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-away',
        accountSid: e.parentSid,
        subaccountSid: acme,
        phoneNumber: B,
        customerId: 'acme',
      }),
    ]);
    expect(last.exit3).toBe(true);
  });
});
