/**
 * A send judged pending (a `--since` pass skipped the span before it, where a START could have
 * lifted it) whose number a later wave then moves on to another customer's subaccount: no
 * pass reads the first subaccount again, so the send is judged with what is known — a
 * violation (the fail-safe reading), listed and counted — rather than dropped as a send of
 * an account the number is no longer in.
 */

import { writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { withDb } from '../../src/db/open.js';
import { listViolations } from '../../src/db/reconcile.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { migrateOneCustomer, planAndApply, seededStop } from '../support/migration.js';
import {
  cliEnv,
  fixedClock,
  MIGRATIONS_DIR,
  runCli,
  snapshotInto,
  TEST_RUNNER,
  tempDir,
  type TempDir,
} from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const A = '+14155550811';
const R1 = '+12025550811';
const R2 = '+12025550812';

describe('reconcile judges a pending send whose number moved on in a later wave', () => {
  let env: TestEmulator;
  let dir: TempDir;
  let now = NOW;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => now });
    await env.seed({
      numbers: [{ phone_number: A }],
      messages: [seededStop(R1, A, NOW - 20 * DAY), seededStop(R2, A, NOW - 20 * DAY)],
    });
    dir = tempDir();
    writeFileSync(dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
  });
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  it('lists it once its number has moved on', async () => {
    const db = dir.file('p.db');
    const sub = await migrateOneCustomer(cli, {
      mapping: dir.file('m.csv'),
      db,
      out: dir.file('p.plan.json'),
    });
    // Two hours after the move the subaccount texts R1, who said STOP to A before it moved.
    const seeded = await env.seed({
      messages: [
        {
          from: A,
          to: R1,
          body: 'Sale!',
          direction: 'outbound-api' as const,
          date_sent: new Date(NOW + 3 * HOUR).toISOString(),
          account_sid: sub,
        },
      ],
    });
    const toR1 = seeded.messages[0]!.sid;
    const pass = async (at: number, since: number | null) => {
      now = at;
      return withDb({ path: db, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(at) }, (d) =>
        runReconcile(
          { since: since === null ? null : new Date(since) },
          { twilio: env.port(), db: d, clock: fixedClock(at), runner: TEST_RUNNER },
        ),
      );
    };
    // The --since pass skips the first two hours after the move: the send to R1 is pending.
    const skipped = await pass(NOW + 4 * HOUR, NOW + 2 * HOUR);
    expect(skipped).toMatchObject({ newViolations: 0, pending: 1 });

    // A later wave moves A on, to Beta's subaccount.
    now = NOW + 5 * HOUR;
    writeFileSync(dir.file('m2.csv'), `customer_id,customer_name,phone_number\nbeta,Beta,${A}\n`);
    await snapshotInto(db, env.port(), fixedClock(now), { accounts: [sub], useExport: false });
    await planAndApply(cli, { mapping: dir.file('m2.csv'), db, out: dir.file('p2.plan.json') });

    // No pass reads Acme's subaccount again, nor the span the --since pass skipped there: the
    // send to R1 is judged now, with what is known.
    const late = await pass(NOW + 6 * HOUR, null);
    expect(late.newViolations).toBe(1);
    const listed = await withDb(
      { path: db, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(NOW + 6 * HOUR) },
      (d) => listViolations(d),
    );
    expect(listed.map((v) => [v.violatingMessageSid, v.recipient, v.customerId])).toEqual([
      [toR1, R1, 'acme'],
    ]);
    // Judged once: a later pass finds nothing new.
    const later = await pass(NOW + 7 * HOUR, null);
    expect(later.newViolations).toBe(0);
  });
});
