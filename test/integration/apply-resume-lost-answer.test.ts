/**
 * A transfer whose every send went unanswered fails (the emulator's `hold_after` holds each,
 * the client gives up on it), and Twilio does it all the same once the hold lifts. Run again,
 * apply settles the failed step from live state, as it settles one left in flight: the number
 * is in its subaccount, so the step is done and the run completes. Taken for not done, the
 * drift check found the number moved and refused the run as changed by someone else, telling
 * the user to plan again (runApply in-process on a real SQLite file, the real SDK over real
 * HTTP to the emulator, with a short request timeout).
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { withDb } from '../../src/db/open.js';
import { listSteps } from '../../src/db/journal.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import { startTestEmulator } from '../support/emulator.js';
import { applyInputOf } from '../support/plan-builders.js';
import { fixedClock, MIGRATIONS_DIR, tempDir, TEST_RUNNER } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';
/** Reads sent again when unanswered (a busy machine), writes never: apply settles those. */
const CLIENT = { retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 }, timeoutMs: 1_000 };

describe('a transfer that failed unanswered, then took effect', () => {
  it('is settled from live state when apply runs again: done, not a drift', async () => {
    const env = await startTestEmulator({ now: () => NOW }, CLIENT);
    const dir = tempDir();
    try {
      const { numbers } = await env.seed({ numbers: [{ phone_number: N1 }] });
      const clock = fixedClock(NOW);
      await withDb({ path: dir.file('a.db'), migrationsDir: MIGRATIONS_DIR, clock }, async (db) => {
        const twilio = env.port();
        const { plan } = await runPlan(
          {
            mapping: parseMapping(
              'm.csv',
              `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`,
            ),
            snapshot: true,
            credentials: 'auth-token',
          },
          { twilio, db, clock, runner: TEST_RUNNER },
        );
        const input = applyInputOf(plan);
        const deps = { twilio, db, clock, runner: TEST_RUNNER, sleep: async () => undefined };

        // The subaccount is made; every send of the transfer is held unanswered.
        await env.control('POST', '/__emulator/faults', { hold_after: 1, hold_methods: ['POST'] });
        const first = await runApply(input, deps);
        expect(first.status).toBe('failed');
        const transfer = `transfer_number:${numbers[0]!.sid}`;
        const failed = listSteps(db, first.runId).find((s) => s.stepId === transfer);
        expect(failed).toMatchObject({ state: 'failed', errorStatus: 0 });

        // Twilio does the held transfers after all, nobody hearing the answer.
        await env.control('POST', '/__emulator/faults', { hold_after: 0 });
        const subaccount = (await env.state()).accounts.find((a) => a.friendly_name === 'Acme')!;
        for (let i = 0; i < 200; i++) {
          const now = (await env.state()).numbers.find((n) => n.phone_number === N1);
          if (now?.account_sid === subaccount.sid) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect((await env.state()).numbers.find((n) => n.phone_number === N1)?.account_sid).toBe(
          subaccount.sid,
        );

        const again = await runApply(input, deps);
        expect(again).toMatchObject({ runId: first.runId, resumed: true, status: 'completed' });
        expect(again.notes).toContain(
          `${transfer} failed in the last apply with no certain answer, but Twilio did it: the number is in ${subaccount.sid} already, so it is done`,
        );
        const steps = listSteps(db, first.runId);
        expect(steps.find((s) => s.stepId === transfer)).toMatchObject({
          state: 'done',
          errorStatus: null,
        });
        expect(steps.every((s) => s.state === 'done')).toBe(true);
      });
    } finally {
      await env.close();
      dir.remove();
    }
  });
});
