/**
 * An emulator whose clock the test moves a step at a time, and snapshot, plan, apply and
 * reconcile run in this process over one SQLite file at that clock: the hand-move stories the
 * randomized oracle finds, written out one by one (real SDK, emulator over HTTP, SQLite file).
 */

import { afterEach, expect } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { withDb } from '../../src/db/open.js';
import { listViolations, reconcileTotals } from '../../src/db/reconcile.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import { failsOnViolation } from '../../src/reconcile/result.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import type { SeedDocument } from '../../src/emulator/seed.js';
import {
  inbound,
  moveNumberByHand,
  ownClient,
  startTestEmulator,
  type TestEmulator,
} from './emulator.js';
import { applyInputOf } from './plan-builders.js';
import {
  fixedClock,
  MIGRATIONS_DIR,
  snapshotInto,
  TEST_RUNNER,
  tempDir,
  type TempDir,
} from './snapshot-harness.js';

/** How far each `step` moves the clock. */
export const STEP = 5 * 60_000;

/**
 * `start(seed)` for each test of a file: an emulator seeded with `seed`, its clock twelve hours
 * back to the minute, and the steps of a story at that clock; closed and removed after each.
 */
export function useClockedMigration(prefix: string) {
  let env: TestEmulator | null = null;
  let dir: TempDir | null = null;
  afterEach(async () => {
    await env?.close();
    dir?.remove();
    env = null;
    dir = null;
  });

  return async function start(seed: SeedDocument) {
    let t = Math.floor((Date.now() - 12 * 3_600_000) / 60_000) * 60_000;
    const e = await startTestEmulator({ now: () => t });
    env = e;
    dir = tempDir(prefix);
    const db = dir.file('h.db');
    await e.seed(seed);
    const at = () => ({
      path: db,
      migrationsDir: MIGRATIONS_DIR,
      clock: fixedClock(t),
    });
    const deps = (d: Parameters<Parameters<typeof withDb>[1]>[0]) => ({
      twilio: e.port(),
      db: d,
      clock: fixedClock(t),
      runner: TEST_RUNNER,
    });
    return {
      e,
      db,
      /** The clock moved on by `ms` (a step by default). */
      step: (ms = STEP) => (t += ms),
      sidOf: async (name: string) =>
        (await e.state()).accounts.find((a) => a.friendly_name === name)!.sid,
      /** Someone moves `phone` in the console from account `from` into account `to`. */
      moveByHand: (phone: string, from: string, to: string) => moveNumberByHand(e, phone, from, to),
      snapshot: () => snapshotInto(db, e.port(), fixedClock(t)),
      /**
       * A trip through the parent: `to` says STOP to `phone` in account `from`, a step on the
       * number is moved by hand into the parent, texts `to` from there (delivered: the parent
       * never heard that STOP), and is moved back into `from`, a step apart each. The send's SID.
       */
      stopThenTripThroughParent: async (to: string, phone: string, from: string) => {
        await inbound(e, { from: to, to: phone, body: 'STOP' });
        t += STEP;
        await moveNumberByHand(e, phone, from, e.parentSid);
        t += STEP;
        const send = await ownClient(e, e.parentSid).messages.create({
          from: phone,
          to,
          body: 'Hi',
        });
        expect(send.status).not.toBe('failed');
        t += STEP;
        await moveNumberByHand(e, phone, e.parentSid, from);
        return send.sid;
      },
      /**
       * A step on, `from` says STOP to `to` (in the account that holds it), and a step on a
       * snapshot reads it; the clock then a step on again.
       */
      stopReadBySnapshot: async (from: string, to: string) => {
        t += STEP;
        await inbound(e, { from, to, body: 'STOP' });
        t += STEP;
        await snapshotInto(db, e.port(), fixedClock(t));
        t += STEP;
      },
      /** A plan of `mappingCsv` (with a snapshot) and its apply, expected to complete. */
      planAndApply: (mappingCsv: string) =>
        withDb(at(), async (d) => {
          const { plan } = await runPlan(
            {
              mapping: parseMapping('m.csv', mappingCsv),
              snapshot: true,
              credentials: 'auth-token',
            },
            deps(d),
          );
          const done = await runApply(applyInputOf(plan), {
            ...deps(d),
            sleep: async () => undefined,
          });
          expect(done.status).toBe('completed');
        }),
      /** A reconcile pass now: its result, the violations named, and whether it exits 3. */
      pass: () =>
        withDb(at(), async (d) => {
          const result = await runReconcile({ since: null }, deps(d));
          return {
            result,
            violations: listViolations(d),
            exit3: failsOnViolation(result, reconcileTotals(d).violations),
          };
        }),
      /** The database opened at the story's clock. */
      withDbNow: <T>(fn: Parameters<typeof withDb<T>>[1]) => withDb(at(), fn),
      now: () => t,
    };
  };
}
