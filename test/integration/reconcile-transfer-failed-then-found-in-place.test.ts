/**
 * R1 said STOP to A in the parent. Apply's transfer of A into Acme's subaccount was refused:
 * someone moved A by hand into Other (a subaccount no mapping uses) as it arrived, and A texted
 * R1 from there (Other never heard the STOP). Someone then moved A by hand into Acme's
 * subaccount, and no pass ran until the plan made again found A there and its apply completed
 * with no transfer. The pass held A as moved by hand into its subaccount, known there from when
 * that plan saw it, and Twilio's date of the move into it for no change since: exit 0, nothing
 * named, though the refusal alone proves A was in neither account then. A number held so after a
 * transfer of it Twilio refused is now known there only from when that transfer was sent
 * (movedNumbers), and the move is named `number-updated`, the family's messages read. Without the
 * plan made again, the pass names A away in Acme's subaccount (a number whose transfer failed,
 * out of the account it comes from), as before. In-process on one clock, real SDK, emulator over
 * HTTP, SQLite file.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useClockedMigration } from '../support/clocked-migration.js';
import { moveNumberByHand, ownClient } from '../support/emulator.js';
import { applyInputOf } from '../support/plan-builders.js';
import { fixedClock, TEST_RUNNER } from '../support/snapshot-harness.js';

const A = '+14155550675';
const R1 = '+12065550675';
const HOUR = 3_600_000;
const URL = 'https://app.example/sms';

describe('reconcile: a number whose transfer was refused, found in its subaccount by a plan made again', () => {
  const start = useClockedMigration('submigrate-failed-then-in-place-');

  it.each([true, false])('names it, the plan made again: %s', async (again) => {
    const s = await start({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Other' }],
      numbers: [{ phone_number: A, sms_url: URL }],
    });
    const { e } = s;
    const parent = e.parentSid;
    const acme = await s.sidOf('Acme');
    const other = await s.sidOf('Other');
    await s.stopReadBySnapshot(R1, A);
    const mapping = `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\n`;
    const first = await s.withDbNow(async (db) => {
      const deps = { twilio: e.port(), db, clock: fixedClock(s.now()), runner: TEST_RUNNER };
      const { plan } = await runPlan(
        { mapping: parseMapping('m.csv', mapping), snapshot: true, credentials: 'auth-token' },
        deps,
      );
      const real = e.port();
      const port: TwilioPort = Object.create(real) as TwilioPort;
      port.transferPhoneNumber = async (from, sid, to) => {
        await moveNumberByHand(e, A, parent, other);
        return real.transferPhoneNumber(from, sid, to);
      };
      return runApply(applyInputOf(plan), { ...deps, twilio: port, sleep: async () => undefined });
    });
    expect(first.status).toBe('failed');
    s.step();
    const send = await ownClient(e, other).messages.create({ from: A, to: R1, body: 'Sale!' });
    expect(send.status).not.toBe('failed');
    s.step();
    await s.moveByHand(A, other, acme);
    s.step(HOUR);
    if (again) await s.planAndApply(mapping);
    s.step();
    const pass = await s.pass();
    expect(pass.result.notChecked).toEqual([
      again
        ? expect.objectContaining({
            reason: 'number-updated',
            accountSid: acme,
            phoneNumber: A,
            updatedCheck: expect.objectContaining({
              outcome: 'found',
              accountSid: other,
              messageSid: send.sid,
            }),
          })
        : expect.objectContaining({ reason: 'number-away', accountSid: acme, phoneNumber: A }),
    ]);
    expect(pass.exit3).toBe(true);
  });
});
