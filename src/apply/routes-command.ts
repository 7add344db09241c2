/**
 * `submigrate routes`: the routing check of an apply run, again, against Twilio as it is now
 * (someone may have changed a service since): recorded in the journal, returned for printing.
 */

import type { Clock } from '../clock.js';
import { listSteps, runPlanJson, type LockRunner, type StepRecord } from '../db/journal.js';
import type { Db } from '../db/open.js';
import { recordRouteChecks } from '../db/route-checks.js';
import { readPlan } from '../plan/plan-file.js';
import type { TwilioPort } from '../twilio/port.js';
import { RefusedError } from '../errors.js';
import { chooseRun, runStatuses } from './run-status.js';
import { applyUnderWay, routesNotFinishedWarning, routesUnderWayRefusal } from './under-way.js';
import { checkRoutes, toCheckRecord, type RouteCheck } from './routes-check.js';

export async function recheckRoutes(
  db: Db,
  runId: number | undefined,
  deps: {
    twilio: TwilioPort;
    clock: Clock;
    /** This process, and the --db as typed: a run another apply runs is refused. */
    runner: LockRunner;
    dbShown: string;
  },
): Promise<{
  runId: number;
  checks: RouteCheck[];
  /** Of a stopped run: the checked numbers whose move is part way, and what to say of it. */
  notFinished: { numbers: string[]; warning: string } | null;
}> {
  const run = chooseRun(db, runId, deps.runner);
  // Before any request: the numbers of a run under way are not all moved yet.
  const holder = applyUnderWay(db, run.id, deps.runner);
  if (holder !== undefined) {
    throw new RefusedError(routesUnderWayRefusal(run, holder, deps.runner, deps.dbShown));
  }
  const plan = readPlan(`apply run ${run.id}`, runPlanJson(db, run.id), 'journal');
  const records = new Map(listSteps(db, run.id).map((r) => [r.stepId, r]));
  const checks = await checkRoutes(plan, records, deps.twilio, deps.clock);
  recordRouteChecks(db, run.id, checks.map(toCheckRecord));
  // A run the journal records as running and no apply runs (refused above) is stopped.
  if (run.status !== 'running') return { runId: run.id, checks, notFinished: null };
  const numbers = checks
    .filter((check) => !moveFinished(check.numberSid, records))
    .map((c) => c.phoneNumber);
  const followedBy = runStatuses(db, run.id, deps.runner).runs[0]?.followedBy ?? null;
  return {
    runId: run.id,
    checks,
    notFinished: {
      numbers,
      warning: routesNotFinishedWarning(
        run,
        numbers.length,
        checks.length,
        deps.dbShown,
        followedBy,
      ),
    },
  };
}

/** Every step of a number's own in the run is done (or found already so). */
function moveFinished(numberSid: string, records: ReadonlyMap<string, StepRecord>): boolean {
  const ACTIONS = ['detach_number', 'transfer_number', 'attach_number', 'set_number_webhook'];
  return ACTIONS.every((action) => {
    const state = records.get(`${action}:${numberSid}`)?.state;
    return state === undefined || state === 'done' || state === 'skipped';
  });
}
