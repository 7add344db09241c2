/**
 * Apply runs as `status` shows them (`runStatuses`, `withPhoneNumbers`), and which run a
 * command means: the one asked for or the latest (`chooseRun`), or, for reconcile, every run
 * that moved numbers (`reconciledRuns`).
 */

import {
  getApplyRun,
  latestApplyRun,
  listApplyRuns,
  listSteps,
  lockHeldAgainst,
  runPlanJson,
  runsThatMovedNumbers,
  type ApplyRun,
  type LockHolder,
  type LockRunner,
  type StepRecord,
} from '../db/journal.js';
import type { Db } from '../db/open.js';
import { listRouteChecks } from '../db/route-checks.js';
import { UserError } from '../errors.js';
import { readPlan } from '../plan/plan-file.js';
import { lostRoute, type RouteVerdict } from '../plan/routes.js';
import { shownResult } from '../report/audit.js';
import { countStates } from './step-counts.js';
import { heldBy } from './under-way.js';

/** The run asked for; else the latest that had steps to take (`latestApplyRun`). */
export function chooseRun(db: Db, runId: number | undefined, me?: LockRunner) {
  if (runId !== undefined) {
    const run = getApplyRun(db, runId);
    if (run === undefined)
      throw new UserError(`--run ${runId}: no such apply run in this database`);
    return run;
  }
  const latest = latestApplyRun(db);
  if (latest === undefined) {
    // The first apply holds the lock while it checks its plan, before its run begins: told
    // "apply PLAN makes one", the engineer would start a second apply beside it.
    const starting = me === undefined ? undefined : lockHeldAgainst(db, me);
    if (starting !== undefined && starting.runId === null) {
      throw new UserError(
        `this database holds no apply run yet: an apply (${heldBy(starting)}) is starting the first one, checking its plan against the live account; \`submigrate status\` shows when it begins`,
      );
    }
    throw new UserError('this database holds no apply run yet: `submigrate apply PLAN` makes one');
  }
  return latest;
}

/** An apply run as `status` shows it. */
export interface RunStatus {
  run: ApplyRun;
  counts: ReturnType<typeof countStates>;
  /**
   * The process that holds the apply lock for the run, or null when none does (for a run
   * recorded as `running`: the apply was killed or crashed; applying the plan again continues
   * it). A run that ended has one while an apply of its plan checks the plan, before resuming.
   */
  process: LockHolder | null;
  /**
   * For a run recorded as `running` that no process runs: the run that came after it for one
   * of its customers (a plan made again for them; applying this run's plan again would meet
   * that run's changes as drift), else null. Only a step that later run sent or settled for one
   * of this run's customers counts: a run that sent none (refused before its first, or of an
   * empty plan) changed nothing, and one of other customers only (the next wave) changed
   * nothing this run's plan checks, which applying again still continues.
   */
  followedBy: number | null;
  /**
   * Moved numbers whose inbound route was lost at the run's last routing check (apply's, or
   * `submigrate routes`' since): a run can fail with every step done for them.
   */
  routesLost: number;
}

/**
 * Every run (or the one asked for, with its steps). A run the journal records as `running`
 * is running only while a live process holds the apply lock for it.
 */
export function runStatuses(
  db: Db,
  runId: number | undefined,
  me: LockRunner,
): {
  runs: RunStatus[];
  steps: StepRecord[] | null;
  starting: LockHolder | null;
} {
  const holder = lockHeldAgainst(db, me) ?? null;
  const chosen = runId === undefined ? undefined : chooseRun(db, runId).id;
  const all = listApplyRuns(db);
  const changedFor = (later: ApplyRun, customers: ReadonlySet<string>) =>
    listSteps(db, later.id).some(
      (s) => s.state !== 'pending' && s.state !== 'not_run' && customers.has(s.customerId),
    );
  const runs = all
    .filter((run) => chosen === undefined || run.id === chosen)
    .map((run) => {
      // The lock names the run it continues from the start, whatever the run's status: one
      // that ended (completed, or failed with steps to try again) is running again while its
      // plan is checked, as a stopped one is.
      const process = holder?.runId === run.id ? holder : null;
      const stopped = run.status === 'running' && process === null;
      const steps = listSteps(db, run.id);
      const customers = new Set(steps.map((s) => s.customerId));
      return {
        run,
        counts: countStates(steps),
        process,
        followedBy: stopped
          ? (all.find((later) => later.id > run.id && changedFor(later, customers))?.id ?? null)
          : null,
        routesLost: listRouteChecks(db, run.id).filter(
          (check) => check.verdict === 'missing' || lostRoute(check.verdict as RouteVerdict),
        ).length,
      };
    });
  return {
    runs,
    // A webhook URL a step set is shown without its password, in text and in --json.
    steps:
      chosen === undefined
        ? null
        : listSteps(db, chosen).map((s) => ({ ...s, result: shownResult(s.result) })),
    // An apply of a plan no run has begun yet holds the lock while it checks the plan
    // against live state: its run begins when the checks pass (and not if they refuse).
    starting: holder !== null && holder.runId === null ? holder : null,
  };
}

/**
 * A run's steps as `status --run` shows them, a number's step with its phone number
 * (`phoneNumber`, null for another step): its id names the number by its SID alone, which no
 * one in the window can read. Apart from runStatuses, whose other callers need no plan read.
 */
export function withPhoneNumbers<Step extends StepRecord>(
  db: Db,
  runId: number,
  steps: readonly Step[],
): (Step & { phoneNumber: string | null })[] {
  const plan = readPlan(`apply run ${runId}`, runPlanJson(db, runId), 'journal');
  const phones = new Map(
    plan.customers.flatMap((c) => c.numbers.map((n) => [n.number_sid, n.phone_number] as const)),
  );
  return steps.map((s) => ({
    ...s,
    phoneNumber: phones.get(s.stepId.slice(s.stepId.indexOf(':') + 1)) ?? null,
  }));
}

/**
 * The runs whose reports reconcile writes again: every run that moved numbers, each holding
 * the violations of its own customers, so that a migration made in waves has every violation
 * in some run's violations.csv (else the latest run, as `chooseRun` finds it).
 */
export function reconciledRuns(db: Db) {
  const moved = runsThatMovedNumbers(db);
  return moved.length > 0 ? moved : [chooseRun(db, undefined)];
}
