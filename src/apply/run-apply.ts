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
  findRunByPlan,
  finishApplyRun,
  holdsLockNow,
  listSteps,
  lockHeldAgainst,
  lockHolder,
  LockLostError,
  renewedLately,
  setLockRun,
  unseenFrom,
  type LockHolder,
  type StepRecord,
} from '../db/journal.js';
import type { Db } from '../db/open.js';
import { RefusedError, tellAfter } from '../errors.js';
import { snapshotCommand } from '../plan/replan.js';
import type { Plan } from '../plan/types.js';
import type { ApplyDeps, ApplyInput, ApplyResult } from './apply-types.js';
import { dryRunRequests, notReadSinceThePlan } from './dry-run.js';
import { executeSteps } from './execute.js';
import { describeLeftAfterCarry } from './left-out-of-carry.js';
import { lockHandBack } from './lock-hand-back.js';
import { watchBeforeTakeOver } from './lock-watch.js';
import { prepareRun } from './prepare-run.js';
import { historyRead } from './read-up-to-moves.js';
import { lockRefusal, refuseUnfit } from './refusals.js';
import {
  checkRoutesAfter,
  noteLeftovers,
  readAfterMoves,
  runOutcome,
  stepFailures,
} from './run-closing.js';
import {
  noteOpening,
  noteTaker,
  openRun,
  recordSettlements,
  runOptions,
  triedAgainIn,
  type Note,
} from './run-opening.js';
import { countStates } from './step-counts.js';
import { targetsFrom } from './targets.js';

/**
 * Why a run this apply began or took up, and sent, has no reports of it: another apply took
 * its lock over with --take-over-lock while it sent (told this one ran no more), runs the same
 * database, and writes them itself. Told after what this one did, and refused (exit 4).
 */
function lockTakenMidRun(db: Db, runId: number): RefusedError {
  const holder = lockHolder(db);
  return new RefusedError(
    `the reports of apply run ${runId} are not written by this apply: another apply${holder === undefined ? '' : ` (pid ${holder.pid} on ${holder.hostname})`} took its lock over with --take-over-lock while it ran, and writes them; the two ran at once. \`submigrate status\` shows the apply that holds the lock, and \`submigrate report --run ${runId}\` writes the run's reports once it has ended`,
  );
}

export async function runApply(input: ApplyInput, deps: ApplyDeps): Promise<ApplyResult> {
  const { db, twilio, clock } = deps;
  refuseUnfit(input, twilio);
  // Another machine's lock that reads as stale by this machine's clock is watched first: its
  // apply may run still, its clock behind this one's.
  const { watched, at: acquiredAt } = await watchBeforeTakeOver(
    input,
    deps,
    isoSeconds(clock.now()),
    (line, holder) => deps.onWatchingLock?.(line, holder),
  );
  const lock = acquireLock(db, deps.runner, acquiredAt, input.takeOverLock === true, watched);
  if (!lock.acquired) {
    throw lockRefusal(lock.holder, deps.runner, input.takeOverLock ? acquiredAt : undefined);
  }
  // A run this plan began is the one this process continues: the lock names it from the
  // start, so that `status` shows it running while its plan is checked against live state.
  const continued = findRunByPlan(db, input.planIntegrity);
  if (continued !== undefined) setLockRun(db, continued.id, deps.runner);
  // Until its run begins (or is taken up), this apply has changed nothing: stopped, refused or
  // failed by then, it hands the lock back where letting go would mislead the next apply.
  const handBack = lockHandBack(
    db,
    deps.runner,
    { acquiredAt, tookOverFrom: lock.tookOverFrom, continued: continued?.id },
    clock,
  );
  const marked: ApplyDeps = {
    ...deps,
    beforeSteps: (runId) => {
      // A run begun here is in the journal from now on; one an earlier apply began is taken
      // up only once this check passes (its reports folder claimed): refused, it is left as it
      // was, and this apply had begun none.
      if (runId !== continued?.id) handBack.runBegun();
      deps.beforeSteps?.(runId);
      handBack.runBegun();
    },
  };
  // No write leaves for Twilio once another apply has taken the lock over: asked as each
  // request leaves, after every wait in the limiter (the journal's intent is written before).
  deps.twilio.gateWrites?.(() => {
    if (!holdsLockNow(db, deps.runner)) throw new LockLostError();
  });
  deps.onLockTaken?.({
    continues: continued?.id ?? null,
    giveBack: handBack.whenStopped,
    lostTo: handBack.lostTo,
  });
  let failed = false;
  let runError: unknown;
  let result: ApplyResult;
  let reportsError: unknown;
  try {
    result = await applyLocked(input, marked, lock.tookOverFrom);
  } catch (error) {
    failed = true;
    runError = error;
    throw error;
  } finally {
    try {
      // Reports are written by the apply that holds the lock: one whose lock was taken over
      // while it checked its plan writes none (the run, if any, is the other apply's).
      // (A run that ended without an error had begun: `result` is its.)
      if (handBack.stillHeld()) deps.afterRun?.();
      else if (!failed) reportsError = lockTakenMidRun(db, result!.runId);
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
      deps.twilio.gateWrites?.(null);
      // Refused or failed before its run began (its plan checked against the live account),
      // it changed nothing: a lock taken over from another machine's apply is that apply's
      // again, as on Ctrl-C, not let go for any apply to take.
      handBack.atEnd(failed ? { error: runError } : undefined);
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
  deps: Pick<ApplyDeps, 'twilio' | 'db' | 'clock' | 'runner' | 'sleep' | 'onWatchingLock'>,
): Promise<string[]> {
  const { db, twilio } = deps;
  refuseUnfit(input, twilio);
  // As apply would: a lock that reads as stale by this machine's clock is watched first, and
  // another machine's apply that renewed the lock lately (or meanwhile) still runs there.
  const { at: now } = await watchBeforeTakeOver(
    input,
    deps,
    isoSeconds(deps.clock.now()),
    (line, holder) => deps.onWatchingLock?.(line, holder),
  );
  const holder = lockHeldAgainst(db, deps.runner);
  const released =
    input.takeOverLock === true &&
    holder !== undefined &&
    unseenFrom(holder, deps.runner) &&
    !renewedLately(holder, now);
  if (holder !== undefined && !released) {
    throw lockRefusal(holder, deps.runner, input.takeOverLock ? now : undefined);
  }
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
  tookOverFrom: LockHolder | null,
): Promise<ApplyResult> {
  const { plan } = input;
  const { db, clock } = deps;
  const now = () => isoSeconds(clock.now());
  const { existing, records, settlements, uncovered, uncarried } = await prepareRun(input, deps);
  const options = runOptions(input);
  const triedAgain = triedAgainIn(db, existing);
  const runId = openRun(input, deps, existing, options, now);
  // From here every note, step, route check and the run's end is written only while this
  // apply holds the lock (same transaction; LockLostError else): once another apply has taken
  // it over (--take-over-lock), the run is that apply's, and nothing more of this one's goes
  // into it. Also asked before each read after the steps, which that apply makes itself.
  let stepsSent = false;
  const stillMine = () => {
    if (!holdsLockNow(db, deps.runner)) throw new LockLostError();
  };
  try {
    const { notes, note } = noteTaker(db, runId, now, deps.runner);
    noteOpening(note, {
      tookOverFrom,
      runner: deps.runner,
      existing,
      triedAgain,
      options,
      uncarried,
      uncovered,
    });
    const adopted = recordSettlements(db, runId, settlements, note, now);
    recordSubaccounts(plan, records, db, now());
    const rivalled = await runSteps(input, deps, runId, records, note, now);
    stepsSent = true;
    const counts = countStates(records.values());
    stillMine();
    // A number all of whose steps are done has moved: no move of it is under way any more.
    settleMovedNumbers(db, runId);
    const leftovers = await noteLeftovers(plan, records, deps.twilio, rivalled, note);
    stillMine();
    const { ledgerUnread, leftAfterMoves } = await readAfterMoves(
      input,
      deps,
      runId,
      records,
      uncarried,
      note,
    );
    stillMine();
    const { routes, routeFailures } = await checkRoutesAfter(plan, records, deps, runId);
    const status = runOutcome(counts, routeFailures, leftovers);
    finishApplyRun(db, runId, status, now(), deps.runner);
    return {
      runId,
      resumed: existing !== undefined,
      status,
      counts,
      notes,
      adopted,
      failures: stepFailures(plan, records),
      routes,
      routeFailures,
      ...(ledgerUnread === undefined ? {} : { ledgerUnread }),
      ...(leftAfterMoves > 0 ? { uncarriedAfterMoves: leftAfterMoves } : {}),
    };
  } catch (error) {
    if (error instanceof LockLostError) {
      throw lockTaken(db, runId, records, stepsSent ? 'after' : 'sending');
    }
    throw error;
  }
}

/**
 * The plan's steps, sent: each subaccount made is recorded as its customer's at once, and each
 * carry Twilio rejected records of is told. Returns the creates whose subaccount has a rival:
 * told once, by their own note (not as a leftover).
 */
async function runSteps(
  input: ApplyInput,
  deps: ApplyDeps,
  runId: number,
  records: Map<string, StepRecord>,
  note: Note,
  now: () => string,
): Promise<Set<string>> {
  const { plan } = input;
  const { db } = deps;
  const rivalled = new Set<string>();
  const sent = executeSteps(plan, records, {
    db,
    twilio: deps.twilio,
    clock: deps.clock,
    runId,
    concurrency: input.concurrency,
    lockedBy: deps.runner,
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
  // Lost (LockLostError) while sending: `applyLocked` tells it.
  await sent;
  return rivalled;
}

/**
 * This apply's lock taken over (--take-over-lock, from another machine: its renewals had
 * stopped for 30 s, its machine suspended or its event loop held) while it sent its steps, or
 * after: it sent none after that, and the run is the other apply's to continue and finish.
 */
function lockTaken(
  db: Db,
  runId: number,
  records: Map<string, StepRecord>,
  when: 'sending' | 'after',
): RefusedError {
  const holder = lockHolder(db);
  const counts = countStates(records.values());
  const stopped =
    when === 'sending'
      ? `apply run ${runId} stopped sending`
      : `apply run ${runId} stopped after its steps`;
  return new RefusedError(
    `${stopped}: another apply${holder === undefined ? '' : ` (pid ${holder.pid} on ${holder.hostname})`} took its lock over with --take-over-lock while it ran (this apply's renewals of the lock had stopped for 30 s or more: its machine suspended, or the apply held up), and two applies must not send at once. This one sent no step after that: ${counts.done} done, ${counts.skipped} skipped, ${counts.failed} failed, ${counts.in_flight} in flight (marked to be sent, the answer not recorded: that apply reads Twilio's state for them), ${counts.pending} not sent. ${when === 'sending' ? "It did not read the numbers' history back, check their routes, mark the run finished nor write its reports" : 'It wrote nothing more into the run (no note, no route check), and did not mark it finished nor write its reports'}: the run is that apply's to finish, with its reports; \`submigrate status\` shows the apply that holds the lock`,
  );
}

/** Every customer's subaccount, once known: the next plan reuses it. */
function recordSubaccounts(plan: Plan, records: Map<string, StepRecord>, db: Db, at: string): void {
  const targets = targetsFrom(plan, records);
  for (const customer of plan.customers) {
    const sid = targets.subaccountOf(customer.customer_id);
    if (sid !== null) recordCustomerSubaccount(db, customer.customer_id, sid, at);
  }
}
