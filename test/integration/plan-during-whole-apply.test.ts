/**
 * `plan` made while an apply runs on the same database, where the apply begins a number's move
 * after the plan read which moves were under way, and finishes it (the number settled, no
 * longer marked moving) before the plan builds: the plan read the number half moved (out of its
 * shared service, still in the parent) and, without the refusal, recorded "no service" over the
 * service it left, whose service-wide opt-outs then fell off its customer's list. It is refused
 * as for a move still under way. In-process, emulator over HTTP.
 */

import { describe, expect, it } from 'vitest';

import type { ApplyInput } from '../../src/apply/apply-types.js';
import { runApply } from '../../src/apply/run-apply.js';
import { systemClock } from '../../src/clock.js';
import { withDb } from '../../src/db/open.js';
import { exportOptOuts } from '../../src/optouts/export.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { readSealedPlan, serializePlan } from '../../src/plan/plan-file.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useCliWorkspace } from '../support/migration.js';
import { MIGRATIONS_DIR, snapshotInto, TEST_RUNNER } from '../support/snapshot-harness.js';

const X = '+14155550101';
const Y = '+14155550102';
const Q = '+12065550002';

describe('plan while an apply moves a number from start to end', () => {
  const ws = useCliWorkspace();

  it("is refused, and the service the number left stays on its customer's list", async () => {
    await ws.env.seed({
      numbers: [{ phone_number: X }, { phone_number: Y }],
      services: [{ friendly_name: 'Shared', phone_numbers: [X, Y] }],
      messages: [],
    });
    const state = await ws.env.state();
    const sharedSid = state.services.find((s) => s.friendly_name === 'Shared')!.sid;
    await ws.env.seed({
      messages: [
        {
          from: Q,
          to: Y,
          body: 'STOP',
          direction: 'inbound',
          messaging_service_sid: sharedSid,
          date_sent: new Date(Date.now() - 5 * 86_400_000).toISOString(),
        },
      ],
    });
    const dbPath = ws.dir.file('p.db');
    const loc = { path: dbPath, migrationsDir: MIGRATIONS_DIR, clock: systemClock };
    await snapshotInto(dbPath, ws.env.port(), systemClock);
    const mapping = parseMapping(
      'm.csv',
      `customer_id,customer_name,phone_number\nacme,Acme,${X}\n`,
    );
    const real = ws.env.port();
    const plan = (twilio: TwilioPort) =>
      withDb(loc, (db) =>
        runPlan(
          { mapping, snapshot: true, credentials: 'auth-token' },
          { twilio, db, clock: systemClock, runner: TEST_RUNNER },
        ),
      );
    const listed = () =>
      withDb(loc, (db) =>
        exportOptOuts(db, undefined, { customer: 'acme' }).optouts.map((r) => r.recipient),
      );
    const first = (await plan(real)).plan;
    expect(await listed()).toEqual([Q]);
    const { integrity } = readSealedPlan('p.json', serializePlan(first));
    const input: ApplyInput = {
      plan: first,
      planPath: 'p.json',
      planIntegrity: integrity,
      concurrency: 1,
      rate: 0,
      allowMissingSnapshot: false,
    };

    // The apply is held before its transfer (the number out of Shared, still in the parent).
    let openGate = () => undefined as void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let atTransfer = () => undefined as void;
    const transferReached = new Promise<void>((resolve) => (atTransfer = resolve));
    const held: TwilioPort = Object.create(real) as TwilioPort;
    held.transferPhoneNumber = async (from, sid, to) => {
      atTransfer();
      await gate;
      return real.transferPhoneNumber(from, sid, to);
    };
    let applied: Promise<unknown> | null = null;
    // The second plan: the apply begins once it has read which moves are under way; it
    // reads the account half moved, and the apply finishes before the plan builds.
    const racing: TwilioPort = Object.create(real) as TwilioPort;
    let started = false;
    racing.listServices = async (accountSid) => {
      if (!started) {
        started = true;
        applied = withDb(loc, (db) =>
          runApply(input, {
            twilio: held,
            db,
            clock: systemClock,
            runner: TEST_RUNNER,
            sleep: async () => undefined,
          }),
        );
        await transferReached;
      }
      return real.listServices(accountSid);
    };
    let finished = false;
    racing.readMessagesPage = (async (...args: Parameters<TwilioPort['readMessagesPage']>) => {
      if (!finished && applied !== null) {
        finished = true;
        openGate();
        await applied;
      }
      return real.readMessagesPage(...args);
    }) as TwilioPort['readMessagesPage'];

    await expect(plan(racing)).rejects.toThrow(/began moving 1 number/);
    expect(finished).toBe(true);
    expect(await listed()).toEqual([Q]);
  }, 60_000);
});
