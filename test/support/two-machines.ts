/**
 * Two applies of one database on machines that cannot see each other (a container and a
 * laptop, the same pid on each): the setting of the tests that take the first apply's lock
 * over in the middle of its work. The first's plan is made in process: one number seeded,
 * snapshotted and mapped to Acme.
 */

import type { ApplyInput } from '../../src/apply/apply-types.js';
import { systemClock } from '../../src/clock.js';
import { withDb } from '../../src/db/open.js';
import type { SeedDocument } from '../../src/emulator/seed.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { readSealedPlan, serializePlan } from '../../src/plan/plan-file.js';
import { runPlan } from '../../src/plan/run-plan.js';
import type { CliWorkspace } from './migration.js';
import { MIGRATIONS_DIR, snapshotInto } from './snapshot-harness.js';

/** The apply whose lock is taken over (on a machine the second cannot see: a container). */
export const FIRST = {
  pid: 4242,
  hostname: 'ops-container-3f2a',
  token: 'first-apply',
  isAlive: () => true,
};
/** The apply that takes it over with --take-over-lock. */
export const SECOND = {
  pid: 4242,
  hostname: 'ops-laptop',
  token: 'second-apply',
  isAlive: () => true,
};

type SeedNumber = NonNullable<SeedDocument['numbers']>[number];

/**
 * Seeds `number` alone, snapshots it into the database file `file` of the workspace and plans
 * Acme onto it as FIRST: what the first apply is then given (one at a time, no rate limit).
 */
export async function planOneNumber(ws: CliWorkspace, number: SeedNumber, file: string) {
  await ws.env.seed({ numbers: [number], messages: [] });
  const dbPath = ws.dir.file(file);
  const loc = { path: dbPath, migrationsDir: MIGRATIONS_DIR, clock: systemClock };
  await snapshotInto(dbPath, ws.env.port(), systemClock);
  const mapping = parseMapping(
    'm.csv',
    `customer_id,customer_name,phone_number\nacme,Acme,${number.phone_number}\n`,
  );
  const real = ws.env.port();
  const { plan } = await withDb(loc, (db) =>
    runPlan(
      { mapping, snapshot: false, credentials: 'auth-token' },
      { twilio: real, db, clock: systemClock, runner: FIRST },
    ),
  );
  const { integrity } = readSealedPlan('p.json', serializePlan(plan));
  const input: ApplyInput = {
    plan,
    planPath: 'p.json',
    planIntegrity: integrity,
    concurrency: 1,
    rate: 0,
    allowMissingSnapshot: false,
  };
  return { loc, real, input };
}
