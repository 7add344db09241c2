/**
 * `submigrate routes`: the routing check of an apply run, again, against Twilio as it is now
 * (someone may have changed a service since): recorded in the journal, returned for printing.
 */

import type { Clock } from '../clock.js';
import { listSteps, runPlanJson } from '../db/journal.js';
import type { Db } from '../db/open.js';
import { recordRouteChecks } from '../db/route-checks.js';
import { readPlan } from '../plan/plan-file.js';
import type { TwilioPort } from '../twilio/port.js';
import { chooseRun } from './reports.js';
import { toCheckRecord } from './run-apply.js';
import { checkRoutes, type RouteCheck } from './routes-check.js';

export async function recheckRoutes(
  db: Db,
  runId: number | undefined,
  deps: { twilio: TwilioPort; clock: Clock },
): Promise<{ runId: number; checks: RouteCheck[] }> {
  const run = chooseRun(db, runId);
  const plan = readPlan(`apply run ${run.id}`, runPlanJson(db, run.id), 'journal');
  const records = new Map(listSteps(db, run.id).map((r) => [r.stepId, r]));
  const checks = await checkRoutes(plan, records, deps.twilio, deps.clock);
  recordRouteChecks(db, run.id, checks.map(toCheckRecord));
  return { runId: run.id, checks };
}
