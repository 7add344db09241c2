/**
 * An apply that fails still writes its run's reports (`afterRun`) before it lets go of the
 * lock; when writing them fails too, the error the user is told is the run's own (a refused
 * report folder, a drift refusal, a crash), with the reports' that followed from it told
 * beneath it (`toldAfter`), and the lock is let go all the same; after a run that went, the
 * reports' error is returned with the run's outcome (runApply in-process on a real SQLite
 * file, the real SDK over real HTTP to the emulator).
 */

import { describe, expect, it } from 'vitest';

import { runApply } from '../../src/apply/run-apply.js';
import { withDb } from '../../src/db/open.js';
import { toldAfter } from '../../src/errors.js';
import { parseMapping } from '../../src/plan/mapping.js';
import { runPlan } from '../../src/plan/run-plan.js';
import { useCliWorkspace } from '../support/migration.js';
import { applyInputOf } from '../support/plan-builders.js';
import { fixedClock, MIGRATIONS_DIR, TEST_RUNNER } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe('an apply that fails, then fails to write its reports', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }] }, NOW);

  it("throws the run's own error, not the reports', and lets go of the lock", async () => {
    const { env, dir } = ws;
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
      const deps = {
        twilio,
        db,
        clock,
        runner: TEST_RUNNER,
        sleep: async () => undefined,
      };
      let reportsTried = 0;
      const failure = runApply(input, {
        ...deps,
        beforeSteps: () => {
          throw new Error('the run failed: its reports folder is refused');
        },
        afterRun: () => {
          reportsTried += 1;
          throw new Error('the reports could not be written either');
        },
      });
      await expect(failure).rejects.toThrow('the run failed: its reports folder is refused');
      expect(reportsTried).toBe(1);
      // The reports' error is told beneath the run's, not dropped.
      expect(toldAfter(await failure.catch((error: unknown) => error))).toEqual([
        'the reports of apply run 1 were not written: the reports could not be written either',
      ]);

      // The lock was let go: the next apply runs; a report that fails after a run that
      // succeeded is still an error, returned beside what the run did (for the CLI to tell
      // first), and the lock is let go.
      const done = await runApply(input, {
        ...deps,
        afterRun: () => {
          throw new Error('the reports could not be written');
        },
      });
      expect(done.status).toBe('completed');
      expect(String(done.reportsError)).toContain('the reports could not be written');
      await expect(runApply(input, deps)).resolves.toMatchObject({ resumed: true });
    });
  });
});
