/**
 * How an apply run closes, once its steps have run: the leftovers of steps sent again, told;
 * the history read up to the moves, and opt-outs it found that the carry left out, told; the
 * inbound routes checked and recorded; and the run's outcome.
 */

import type { StepRecord, StepState } from '../db/journal.js';
import { recordRouteChecks } from '../db/route-checks.js';
import { replanAdvice } from '../plan/replan.js';
import type { Uncarried } from '../plan/carry.js';
import type { Plan } from '../plan/types.js';
import type { ApplyDeps, ApplyInput, StepFailure } from './apply-types.js';
import { stepFailure } from './describe-run.js';
import { describeLeftAfterMoves, leftOutOfCarry, recordsIn } from './left-out-of-carry.js';
import { describeLeftover, findLeftovers, type Leftover } from './leftovers.js';
import { readUpToTheMoves } from './read-up-to-moves.js';
import { checkRoutes, failedCheck, toCheckRecord, type RouteCheck } from './routes-check.js';
import type { Note } from './run-opening.js';
import { targetsFrom } from './targets.js';

/** What steps sent again left behind, each told; not those `rivalled` (told by their own note). */
export async function noteLeftovers(
  plan: Plan,
  records: Map<string, StepRecord>,
  twilio: ApplyDeps['twilio'],
  rivalled: ReadonlySet<string>,
  note: Note,
): Promise<Leftover[]> {
  const leftovers = (await findLeftovers(plan, records, twilio)).filter(
    (leftover) => !rivalled.has(leftover.stepId),
  );
  for (const leftover of leftovers) note(describeLeftover(leftover));
  return leftovers;
}

/**
 * The history read up to the moves, and what the read left to tell: why the ledger is not read
 * up to them (`ledgerUnread`), and how many opt-out records it found that the carry leaves out
 * (`leftAfterMoves`).
 */
export async function readAfterMoves(
  input: ApplyInput,
  deps: ApplyDeps,
  runId: number,
  records: Map<string, StepRecord>,
  uncarried: readonly Uncarried[],
  note: Note,
): Promise<{ ledgerUnread: string | undefined; leftAfterMoves: number }> {
  const { plan } = input;
  let eventsAdded = 0;
  const ledgerUnread = await readUpToTheMoves(
    plan,
    records,
    deps,
    runId,
    input.replan?.db ?? null,
    (text) => note(`the read after the moves: snapshot ${text}`),
    (added) => (eventsAdded = added),
  );
  if (ledgerUnread !== undefined) note(ledgerUnread);
  // A STOP said after the plan was made and before the move is on its customer's list now, but
  // the plan's carry records were sealed without it: Twilio does not refuse it in the
  // subaccount. Told here, as the gate tells one found before the steps, with the command that
  // carries it (the ledger is read again only when the read added something).
  const uncarriedAfter =
    eventsAdded === 0
      ? []
      : (() => {
          const left = leftOutOfCarry(plan, records, deps.db, targetsFrom(plan, records), true);
          return [...left.refused, ...left.noted];
        })();
  const leftAfterMoves = recordsIn(uncarriedAfter) - recordsIn(uncarried);
  if (leftAfterMoves > 0) {
    const replan = replanAdvice(plan, input.replan ?? { out: input.planPath, db: null });
    note(describeLeftAfterMoves(uncarriedAfter, replan));
  }
  return { ledgerUnread, leftAfterMoves };
}

/** Every moved number's inbound route, checked and recorded; those that fail the check. */
export async function checkRoutesAfter(
  plan: Plan,
  records: Map<string, StepRecord>,
  deps: ApplyDeps,
  runId: number,
): Promise<{ routes: RouteCheck[]; routeFailures: RouteCheck[] }> {
  const routes = await checkRoutes(plan, records, deps.twilio, deps.clock);
  recordRouteChecks(deps.db, runId, routes.map(toCheckRecord), deps.runner);
  return { routes, routeFailures: routes.filter(failedCheck) };
}

/** A run is completed only with every step done, every route reached and nothing left over. */
export function runOutcome(
  counts: Record<StepState, number>,
  routeFailures: readonly RouteCheck[],
  leftovers: readonly Leftover[],
): 'completed' | 'failed' {
  return counts.failed +
    counts.not_run +
    counts.pending +
    counts.in_flight +
    routeFailures.length +
    leftovers.length >
    0
    ? 'failed'
    : 'completed';
}

/** Each failed step and why. */
export function stepFailures(plan: Plan, records: Map<string, StepRecord>): StepFailure[] {
  // By id: a run of 100,000 numbers can fail most of its steps (a limit, a refused token).
  const stepsById = new Map(plan.steps.map((step) => [step.id, step]));
  return [...records.values()]
    .filter((r) => r.state === 'failed')
    .map((r) => stepFailure(stepsById, r));
}
