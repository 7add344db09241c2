/**
 * An apply run begun by an earlier submigrate, from a plan with customer_ids this one's
 * mappings refuse (CON, a Windows device name; ACME beside acme), is continued from its plan
 * file: the run is half done (a subaccount made, a number moved, another's transfer failed).
 * Refusing that plan file would strand the migration: the same mapping cannot be planned
 * again either. A new run of such a plan is still refused. The first run is made in-process
 * from the plan read as the earlier version read it; the rest by the built CLI, emulator over
 * HTTP.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { systemClock } from '../../src/clock.js';
import { createApplyRun } from '../../src/db/journal.js';
import { withDb } from '../../src/db/open.js';
import { TwilioError } from '../../src/errors.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { readSealedPlan, serializePlan } from '../../src/plan/plan-file.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { Plan } from '../../src/plan/types.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { useCliWorkspace } from '../support/migration.js';
import { MIGRATIONS_DIR } from '../support/snapshot-harness.js';
import { TEST_RUNNER } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550911';
const N2 = '+14155550912';
const N3 = '+14155550913';

const RENAMED = new Map([
  ['conco', 'CON'],
  ['acme', 'acme'],
  ['acme2', 'ACME'],
]);

/** The plan as an earlier submigrate made it from a mapping with CON, acme and ACME. */
function asEarlierVersionMadeIt(plan: Plan): string {
  const id = (v: string) => RENAMED.get(v) ?? v;
  for (const c of plan.customers) c.customer_id = id(c.customer_id);
  // Steps per customer are named by it (create_subaccount:CON), and depended on by that name.
  const step = (v: string) => v.replace(/:([^:]+)$/, (_, c: string) => `:${id(c)}`);
  for (const s of plan.steps) {
    if (s.customer_id !== null) s.customer_id = id(s.customer_id);
    s.id = step(s.id);
    s.depends_on = s.depends_on.map(step);
  }
  for (const w of plan.warnings) if (w.customer_id !== null) w.customer_id = id(w.customer_id);
  return serializePlan(plan);
}

describe('an apply run of a plan made before CON, and ids differing only in case, were refused', () => {
  const ws = useCliWorkspace(
    { numbers: [{ phone_number: N1 }, { phone_number: N2 }, { phone_number: N3 }] },
    NOW,
  );

  it('is continued from its plan file, and finishes; a new run of such a plan is refused', async () => {
    const snapshot = await ws.cli(['snapshot', '--db', 'a.db']);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const loc = { path: ws.dir.file('a.db'), migrationsDir: MIGRATIONS_DIR, clock: systemClock };
    const mapping = parseMapping(
      'm.csv',
      'customer_id,customer_name,phone_number,messaging_service\n' +
        `conco,Console Co,${N1},\nacme,Acme,${N2},\nacme2,Acme Two,${N3},\n`,
    );
    const real = ws.env.port();
    const text = await withDb(loc, async (db) => {
      const { plan } = await runPlan(
        { mapping, snapshot: true, credentials: 'auth-token', carry: { batchSize: 25 } },
        { twilio: real, db, clock: systemClock, runner: TEST_RUNNER },
      );
      return asEarlierVersionMadeIt(plan);
    });
    writeFileSync(ws.dir.file('p.json'), text);
    // The earlier version read the plan with the rules its mapping had then (as a run's
    // recorded plan is read now), and applied it: N3's transfer failed.
    const { plan, integrity } = readSealedPlan('p.json', text, 'journal');
    const n3Sid = plan.customers
      .flatMap((c) => c.numbers)
      .find((n) => n.phone_number === N3)!.number_sid;
    const flaky: TwilioPort = Object.create(real) as TwilioPort;
    flaky.transferPhoneNumber = (from, sid, to) =>
      sid === n3Sid
        ? Promise.reject(
            new TwilioError({ status: 400, code: 21452, message: 'injected', retryable: false }),
          )
        : real.transferPhoneNumber(from, sid, to);
    const first = await withDb(loc, (db) => {
      // The run as the earlier version began it (this one begins none of such a plan).
      createApplyRun(
        db,
        {
          planPath: 'p.json',
          planIntegrity: integrity,
          planFingerprint: plan.fingerprint,
          parentAccountSid: plan.parent_account_sid,
          startedAt: new Date(NOW).toISOString().slice(0, 19) + 'Z',
          optionsJson: '{}',
          planJson: text,
        },
        plan.steps.map((s) => ({ id: s.id, action: s.action, customerId: s.customer_id })),
      );
      return runApply(
        {
          plan,
          planPath: 'p.json',
          planIntegrity: integrity,
          planText: text,
          concurrency: 1,
          rate: 0,
          allowMissingSnapshot: false,
        },
        {
          twilio: flaky,
          db,
          clock: systemClock,
          runner: TEST_RUNNER,
          sleep: async () => undefined,
        },
      );
    });
    expect(first.failures.map((f) => f.step)).toEqual([`transfer_number:${n3Sid}`]);

    // This version continues that run from the same plan file.
    const again = await ws.cli(['apply', 'p.json', '--db', 'a.db', '--rate', '1000']);
    expect(again.stderr).not.toMatch(/not one a mapping allows|differ only in case/);
    expect(again.code, again.stderr).toBe(0);
    const state = await ws.env.state();
    const owner = (n: string) => state.numbers.find((x) => x.phone_number === n)!.account_sid;
    expect(new Set([owner(N1), owner(N2), owner(N3)]).size).toBe(3);
    expect(owner(N3)).not.toBe(ws.env.parentSid);

    // A plan of the same kind no run has begun is still refused, before anything is sent.
    const { plan: fresh } = readSealedPlan('p.json', text, 'journal');
    fresh.created_at = '2000-01-01T00:00:00Z';
    writeFileSync(ws.dir.file('q.json'), serializePlan(fresh));
    const refused = await ws.cli(['apply', 'q.json', '--db', 'a.db', '--rate', '1000']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /q.json: customer_id "CON" is a name Windows keeps for a device.*no apply run of it has begun.*nothing was sent/,
    );
  });
});
