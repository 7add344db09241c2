/**
 * A reconcile pass run in this process, against the test's emulator, at a business time the
 * test chooses: what the reconcile tests that move their clock pass after pass call.
 */

import { withDb } from '../../src/db/open.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import type { TestEmulator } from './emulator.js';
import { fixedClock, MIGRATIONS_DIR, TEST_RUNNER } from './snapshot-harness.js';

/**
 * One pass over `db` at `at` (ms), reading from `since` (ms), or every span not yet read when
 * `since` is null; its result.
 */
export function reconcileAt(
  env: TestEmulator,
  db: string,
  at: number,
  since: number | null = null,
) {
  return withDb({ path: db, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(at) }, (d) =>
    runReconcile(
      { since: since === null ? null : new Date(since) },
      { twilio: env.port(), db: d, clock: fixedClock(at), runner: TEST_RUNNER },
    ),
  );
}
