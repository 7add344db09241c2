/**
 * A continued --carry-optouts run whose customer's carry step is done but one of whose numbers
 * is still to move (its transfer failed), once the ledger holds an opt-out for it that the plan
 * does not carry: apply refuses, keeping the number in the parent, where Twilio enforces that
 * STOP, rather than moving it into a subaccount where nothing does. In-process, emulator over
 * HTTP.
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { systemClock } from '../../src/clock.js';
import { withDb } from '../../src/db/open.js';
import { TwilioError } from '../../src/errors.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { inbound } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { applyInputOf } from '../support/plan-builders.js';
import { MIGRATIONS_DIR, snapshotInto, TEST_RUNNER } from '../support/snapshot-harness.js';

const NA = '+14155550101';
const NB = '+14155550102';
const R1 = '+12065550001';
const R2 = '+12065550002';

describe('a continued run whose carry is done but a number is still to move', () => {
  const ws = useCliWorkspace();

  it('does not move the number without the opt-out recorded since the plan', async () => {
    await ws.env.seed({
      numbers: [{ phone_number: NA }, { phone_number: NB }],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [NA, NB],
          inbound_request_url: 'https://app.example/in',
        },
      ],
      messages: [
        {
          from: R1,
          to: NA,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(Date.now() - 5 * 86_400_000).toISOString(),
        },
      ],
    });
    const dbPath = ws.dir.file('c.db');
    const loc = { path: dbPath, migrationsDir: MIGRATIONS_DIR, clock: systemClock };
    await snapshotInto(dbPath, ws.env.port(), systemClock);
    const mapping = parseMapping(
      'm.csv',
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${NA},acmeAlerts\nacme,Acme,${NB},acmeAlerts\n`,
    );
    const real = ws.env.port();
    let failTransfer = true;
    const flaky: TwilioPort = Object.create(real) as TwilioPort;
    flaky.transferPhoneNumber = (from, sid, to) => {
      if (failTransfer && sid === nbSid) {
        return Promise.reject(
          new TwilioError({ status: 400, code: 21452, message: 'injected', retryable: false }),
        );
      }
      return real.transferPhoneNumber(from, sid, to);
    };
    let nbSid = '';
    const { input } = await withDb(loc, async (db) => {
      const { plan } = await runPlan(
        { mapping, snapshot: true, credentials: 'auth-token', carry: { batchSize: 25 } },
        { twilio: real, db, clock: systemClock, runner: TEST_RUNNER },
      );
      nbSid = plan.customers[0]!.numbers.find((n) => n.phone_number === NB)!.number_sid;
      const input = applyInputOf(plan);
      return { input };
    });
    const apply = (twilio: TwilioPort) =>
      withDb(loc, (db) =>
        runApply(input, {
          twilio,
          db,
          clock: systemClock,
          runner: TEST_RUNNER,
          sleep: async () => undefined,
        }),
      );
    const first = await apply(flaky);
    expect(first.failures.map((f) => f.step)).toEqual([`transfer_number:${nbSid}`]);
    // Run 1: acme's carry done (R1 written into the subaccount); NB still in the parent.
    // Then R2 texts STOP to NB, still in the parent (Twilio enforces it there), and a
    // snapshot records it.
    await inbound(ws.env, { from: R2, to: NB, body: 'STOP' });
    await snapshotInto(dbPath, real, systemClock);
    failTransfer = false;
    // Refused, as for a customer whose carry is still to come: NB stays where R2's STOP is
    // enforced.
    const second = apply(real);
    await expect(second).rejects.toThrow(/does not carry/);
    const nb = (await ws.env.state()).numbers.find((n) => n.phone_number === NB)!;
    expect(nb.account_sid).toBe(ws.env.parentSid);
  });
});
