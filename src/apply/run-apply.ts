/**
 * `submigrate apply PLAN`: the plan, checked (seal, parent account) → the lock (one apply per
 * database) → the live state, read → any step a killed apply left in flight, settled from it
 * → drift (a change this run's journal does not explain refuses the plan, exit 4) → the
 * opt-out gate (a number no completed snapshot covers is not moved, exit 4) → the carry check
 * (a plan made with --carry-optouts whose records leave out opt-outs the ledger holds by now is
 * refused, exit 4) → the steps, run → the run's outcome. Re-running the same plan continues
 * the same run; on a finished plan it sends no write at all. `--dry-run` (`rehearseApply`)
 * makes the checks that need no request to Twilio (not drift) and lists the writes instead of
 * sending them.
 */

import { isoSeconds } from '../clock.js';
import { listRunConsentItems } from '../db/consent-journal.js';
import { recordCustomerSubaccount, settleMovedNumbers } from '../db/customers.js';
import {
  acquireLock,
  addNote,
  createApplyRun,
  findRunByPlan,
  finishApplyRun,
  listSteps,
  lockHeldAgainst,
  recordOutcome,
  releaseLock,
  requeueUnfinished,
  resumeApplyRun,
  setLockRun,
  type StepRecord,
} from '../db/journal.js';
import type { Db } from '../db/open.js';
import { recordRouteChecks } from '../db/route-checks.js';
import { tellAfter } from '../errors.js';
import { serializePlan } from '../plan/plan-file.js';
import { replanAdvice, snapshotCommand } from '../plan/replan.js';
import type { Plan } from '../plan/types.js';
import type { AdoptedStep, ApplyDeps, ApplyInput, ApplyResult } from './apply-types.js';
import { describeOptions, describeTriedAgain, stepFailure } from './describe-run.js';
import { dryRunRequests, notReadSinceThePlan } from './dry-run.js';
import { executeSteps } from './execute.js';
import {
  describeLeftAfterCarry,
  describeLeftAfterMoves,
  leftOutOfCarry,
  recordsIn,
} from './left-out-of-carry.js';
import { prepareRun } from './prepare-run.js';
import { historyRead, readUpToTheMoves } from './read-up-to-moves.js';
import { lockRefusal, refuseUnfit } from './refusals.js';
import { checkRoutes, failedCheck, toCheckRecord } from './routes-check.js';
import { describeLeftover, findLeftovers } from './leftovers.js';
import { countStates } from './step-counts.js';
import { targetsFrom } from './targets.js';

/**
 * Lets go of the lock as the run ends. After a run that failed, a release that fails too (the
 * full disk that stopped the run) is not told: thrown, it replaced the run's own error, and
 * the lines told after that one (its reports not written) went with it. The lock is left to
 * this process, which ends now, and the next apply on this machine takes it.
 */
function letGoOfLock(db: Db, runner: ApplyDeps['runner'], runFailed: boolean): void {
  try {
    releaseLock(db, runner);
  } catch (error) {
    if (!runFailed) throw error;
  }
}

export async function runApply(input: ApplyInput, deps: ApplyDeps): Promise<ApplyResult> {
  const { db, twilio, clock } = deps;
  refuseUnfit(input, twilio);
  const lock = acquireLock(db, deps.runner, isoSeconds(clock.now()), input.takeOverLock === true);
  if (!lock.acquired) throw lockRefusal(lock.holder, deps.runner.hostname);
  // A run this plan began is the one this process continues: the lock names it from the
  // start, so that `status` shows it running while its plan is checked against live state.
  const continued = findRunByPlan(db, input.planIntegrity);
  if (continued !== undefined) setLockRun(db, continued.id);
  let failed = false;
  let runError: unknown;
  let result: ApplyResult;
  let reportsError: unknown;
  try {
    result = await applyLocked(input, deps, lock.tookOverFrom);
  } catch (error) {
    failed = true;
    runError = error;
    throw error;
  } finally {
    try {
      deps.afterRun?.();
    } catch (error) {
      if (!failed) {
        // The run has written to Twilio: what it did is the caller's to tell first, and the
        // reports' error after it (`reportsError`).
        reportsError = error;
      } else {
        // After a run that failed, its own error is the one to tell: reports that cannot be
        // written then (the folder it refused, say) would hide why it stopped. The user is
        // told beneath it that they were not written, since the run's folder may hold no
        // report of it at all (an apply killed before) or those of an earlier state of the
        // run. Reports refused for the reason the run stopped (the folder apply claimed
        // before its first step) are told once, by the run's own error.
        const same =
          error instanceof Error && runError instanceof Error && error.message === runError.message;
        if (!same) {
          const run = findRunByPlan(db, input.planIntegrity);
          tellAfter(
            runError,
            `the reports of ${run === undefined ? 'the run' : `apply run ${run.id}`} were not written: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    } finally {
      letGoOfLock(db, deps.runner, failed);
    }
  }
  return reportsError === undefined ? result : { ...result, reportsError };
}

/**
 * `apply --dry-run`: the requests apply would send, in order (`dryRunRequests`), after the
 * refusals apply would make that need no request, made the same way: the plan's parent and
 * the credentials, another apply holding the lock (looked at, not taken), the opt-out gate and
 * the carry check. Drift needs the live state, and is apply's alone. It sends no request, takes
 * no lock and starts no run in the journal.
 */
export async function rehearseApply(
  input: ApplyInput,
  deps: Pick<ApplyDeps, 'twilio' | 'db' | 'clock' | 'runner'>,
): Promise<string[]> {
  const { db, twilio } = deps;
  refuseUnfit(input, twilio);
  const holder = lockHeldAgainst(db, deps.runner);
  const released = input.takeOverLock === true && holder?.hostname !== deps.runner.hostname;
  if (holder !== undefined && !released) throw lockRefusal(holder, deps.runner.hostname);
  // No request at all: the live state is apply's to read (drift, steps left in flight).
  const { existing, uncovered, uncarried } = await prepareRun(input, deps, { readLive: false });
  // The journal as it is: a step left in flight is listed with its mark.
  const journal = new Map<string, StepRecord>(
    existing === undefined ? [] : listSteps(db, existing.id).map((r) => [r.stepId, r]),
  );
  // A carry the run has begun sends only the records Twilio has not answered for.
  const consentItems = existing === undefined ? new Map() : listRunConsentItems(db, existing.id);
  const lines = dryRunRequests(
    input.plan,
    journal,
    consentItems,
    input.credentials,
    historyRead(db),
  );
  lines.push(
    ...notReadSinceThePlan(input.plan, journal, (accounts) =>
      snapshotCommand(input.plan.parent_account_sid, accounts, input.replan?.db ?? null),
    ),
  );
  if (uncarried.length > 0) lines.push(`# ${describeLeftAfterCarry(uncarried)}`);
  if (uncovered.length > 0) {
    lines.push(
      `# --allow-missing-snapshot: would move ${uncovered.length} number(s) whose opt-outs no completed snapshot covers (the audit records them): ${uncovered.join(', ')}`,
    );
  }
  return lines;
}

async function applyLocked(
  input: ApplyInput,
  deps: ApplyDeps,
  tookOverFrom: { pid: number; hostname: string } | null,
): Promise<ApplyResult> {
  const { plan, planPath } = input;
  const { db, twilio, clock } = deps;
  const now = () => isoSeconds(clock.now());
  const { existing, records, settlements, uncovered, uncarried } = await prepareRun(input, deps);

  const options = JSON.stringify({
    concurrency: input.concurrency,
    rate: input.rate,
    ...(input.consentRate === undefined ? {} : { consent_rate: input.consentRate }),
    allow_missing_snapshot: input.allowMissingSnapshot,
  });
  let runId: number;
  // What the run being continued left failed or not run, as the journal holds it before they
  // are tried again: a step done now keeps no error, and the reports would not show that it
  // ever failed, nor why.
  const triedAgain =
    existing === undefined
      ? []
      : listSteps(db, existing.id).filter((r) => r.state === 'failed' || r.state === 'not_run');
  if (existing === undefined) {
    runId = createApplyRun(
      db,
      {
        planPath,
        planIntegrity: input.planIntegrity,
        planFingerprint: plan.fingerprint,
        parentAccountSid: plan.parent_account_sid,
        startedAt: now(),
        optionsJson: options,
        // The text already read, not the plan written out again: 0.9 s for 100,000 numbers.
        planJson: input.planText ?? serializePlan(plan),
      },
      plan.steps.map((s) => ({ id: s.id, action: s.action, customerId: s.customer_id })),
    );
    deps.beforeSteps?.(runId);
  } else {
    runId = existing.id;
    // Before the run is reopened: a refusal leaves it as it was.
    deps.beforeSteps?.(runId);
    resumeApplyRun(db, runId);
    requeueUnfinished(db, runId);
  }
  setLockRun(db, runId);
  const notes: string[] = [];
  const note = (text: string) => {
    notes.push(text);
    addNote(db, runId, now(), text);
  };
  if (tookOverFrom !== null) {
    note(
      tookOverFrom.hostname === deps.runner.hostname
        ? `took over the lock of pid ${tookOverFrom.pid} on ${tookOverFrom.hostname}, which is no longer running`
        : `took over the lock of pid ${tookOverFrom.pid} on ${tookOverFrom.hostname}, another machine, as --take-over-lock asked (whether it still ran there could not be seen from here)`,
    );
  }
  if (existing !== undefined && triedAgain.length > 0) {
    note(describeTriedAgain(triedAgain, existing.finishedAt));
  }
  if (existing !== undefined && existing.optionsJson !== options) {
    note(
      `continued with ${describeOptions(options)} (the run began with ${describeOptions(existing.optionsJson)})`,
    );
  }
  if (uncarried.length > 0) note(describeLeftAfterCarry(uncarried));
  if (uncovered.length > 0) {
    note(
      `--allow-missing-snapshot: moved ${uncovered.length} number(s) whose opt-outs no completed snapshot covers: ${uncovered.join(', ')}`,
    );
  }
  const adopted: AdoptedStep[] = [];
  for (const { step, outcome, answerLost } of settlements) {
    if (outcome.kind === 'adopt') {
      adopted.push({ step: step.id, result: outcome.result, how: outcome.how });
      note(
        answerLost
          ? `${step.id} failed in the last apply with no certain answer, but Twilio did it: ${outcome.how}, so it is done`
          : `${step.id} was left in flight by the last apply, and Twilio did it: ${outcome.how}, so it is adopted, not sent again`,
      );
      recordOutcome(
        db,
        runId,
        step.id,
        now(),
        { state: 'done', result: outcome.result, how: outcome.how },
        { kind: 'settled' },
      );
    } else if (outcome.kind === 'ambiguous') {
      recordOutcome(
        db,
        runId,
        step.id,
        now(),
        { state: 'failed', status: null, code: null, message: outcome.message },
        { kind: 'settled' },
      );
    } else if (!answerLost) {
      // A failed step sent again is told by the note of what the run tried again.
      note(
        `${step.id} was in flight when the last apply stopped: ${outcome.how}, so it is sent again`,
      );
    }
  }
  recordSubaccounts(plan, records, db, now());

  // Creates whose subaccount has a rival: told once, by their own note (not as a leftover).
  const rivalled = new Set<string>();
  await executeSteps(plan, records, {
    db,
    twilio,
    clock,
    runId,
    concurrency: input.concurrency,
    sleep: deps.sleep,
    onUnsure: deps.onUnsure,
    onRival: (step, text) => {
      rivalled.add(step.id);
      note(text);
    },
    onStep: (step, record) => {
      if (step.action === 'create_subaccount' && record.state === 'done' && record.result) {
        recordCustomerSubaccount(db, step.customer_id, record.result['subaccount_sid']!, now());
      }
      const rejected = Number(record.result?.['rejected'] ?? 0);
      if (step.action === 'carry_optouts' && record.state === 'done' && rejected > 0) {
        note(
          `${step.id}: Twilio rejected ${rejected} of ${step.optouts} opt-out record(s) (30646); they stay on the customer's suppression list, and the audit lists each with its reasons`,
        );
      }
      deps.onStep?.(step, record, plan.steps.length);
    },
  });

  const counts = countStates(records.values());
  // A number all of whose steps are done has moved: no move of it is under way any more.
  settleMovedNumbers(db, runId);
  const leftovers = (await findLeftovers(plan, records, twilio)).filter(
    (leftover) => !rivalled.has(leftover.stepId),
  );
  for (const leftover of leftovers) note(describeLeftover(leftover));
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
          const left = leftOutOfCarry(plan, records, db, targetsFrom(plan, records), true);
          return [...left.refused, ...left.noted];
        })();
  const leftAfterMoves = recordsIn(uncarriedAfter) - recordsIn(uncarried);
  if (leftAfterMoves > 0) {
    const replan = replanAdvice(plan, input.replan ?? { out: input.planPath, db: null });
    note(describeLeftAfterMoves(uncarriedAfter, replan));
  }
  const routes = await checkRoutes(plan, records, twilio, clock);
  recordRouteChecks(db, runId, routes.map(toCheckRecord));
  const routeFailures = routes.filter(failedCheck);
  const status =
    counts.failed +
      counts.not_run +
      counts.pending +
      counts.in_flight +
      routeFailures.length +
      leftovers.length >
    0
      ? 'failed'
      : 'completed';
  finishApplyRun(db, runId, status, now());
  // By id: a run of 100,000 numbers can fail most of its steps (a limit, a refused token).
  const stepsById = new Map(plan.steps.map((step) => [step.id, step]));
  const failures = [...records.values()]
    .filter((r) => r.state === 'failed')
    .map((r) => stepFailure(stepsById, r));
  return {
    runId,
    resumed: existing !== undefined,
    status,
    counts,
    notes,
    adopted,
    failures,
    routes,
    routeFailures,
    ...(ledgerUnread === undefined ? {} : { ledgerUnread }),
    ...(leftAfterMoves > 0 ? { uncarriedAfterMoves: leftAfterMoves } : {}),
  };
}

/** Every customer's subaccount, once known: the next plan reuses it. */
function recordSubaccounts(plan: Plan, records: Map<string, StepRecord>, db: Db, at: string): void {
  const targets = targetsFrom(plan, records);
  for (const customer of plan.customers) {
    const sid = targets.subaccountOf(customer.customer_id);
    if (sid !== null) recordCustomerSubaccount(db, customer.customer_id, sid, at);
  }
}
