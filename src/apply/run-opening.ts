/**
 * How an apply run opens, before its first write to Twilio: the run begun in the journal, or
 * the one this plan began reopened; the notes told at its start (a lock taken over, steps tried
 * again, options changed, opt-outs left out of the carry, numbers no snapshot covers); and the
 * steps a killed apply left in flight, recorded as the live state settled them.
 */

import {
  addNote,
  createApplyRun,
  listSteps,
  LockLostError,
  lockHolder,
  recordOutcome,
  requeueUnfinished,
  resumeApplyRun,
  setLockRun,
  unseenFrom,
  type ApplyRun,
  type LockHolder,
  type LockTaker,
  type StepRecord,
} from '../db/journal.js';
import type { Db } from '../db/open.js';
import { RefusedError } from '../errors.js';
import { serializePlan } from '../plan/plan-file.js';
import type { AdoptedStep, ApplyDeps, ApplyInput } from './apply-types.js';
import { describeOptions, describeTriedAgain } from './describe-run.js';
import { describeLeftAfterCarry } from './left-out-of-carry.js';
import type { Prepared } from './prepare-run.js';

/** Tells a line of the run: kept in its result and, at once, in the journal. */
export type Note = (text: string) => void;

/** The options a run is applied with, as the journal keeps them. */
export function runOptions(input: ApplyInput): string {
  return JSON.stringify({
    concurrency: input.concurrency,
    rate: input.rate,
    ...(input.consentRate === undefined ? {} : { consent_rate: input.consentRate }),
    allow_missing_snapshot: input.allowMissingSnapshot,
  });
}

/**
 * What the run being continued left failed or not run, as the journal holds it before they
 * are tried again: a step done now keeps no error, and the reports would not show that it
 * ever failed, nor why.
 */
export function triedAgainIn(db: Db, existing: ApplyRun | undefined): StepRecord[] {
  return existing === undefined
    ? []
    : listSteps(db, existing.id).filter((r) => r.state === 'failed' || r.state === 'not_run');
}

/** The run begun in the journal, or the one continued reopened; the lock names it. */
export function openRun(
  input: ApplyInput,
  deps: ApplyDeps,
  existing: ApplyRun | undefined,
  options: string,
  now: () => string,
): number {
  const { plan, planPath } = input;
  const { db } = deps;
  let runId: number;
  if (existing === undefined) {
    runId = beginUnderLock(
      () =>
        createApplyRun(
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
          // The lock names the run from the moment it exists (same transaction): an apply killed
          // after this continues it, and the one that takes the lock over says it took over this
          // run's.
          deps.runner,
        ),
      deps,
    );
    deps.beforeSteps?.(runId);
  } else {
    runId = existing.id;
    beginUnderLock(() => {
      if (!setLockRun(db, runId, deps.runner)) throw new LockLostError();
      return runId;
    }, deps);
    // Before the run is reopened: a refusal leaves it as it was.
    deps.beforeSteps?.(runId);
    resumeApplyRun(db, runId);
    requeueUnfinished(db, runId);
  }
  setLockRun(db, runId, deps.runner);
  return runId;
}

/**
 * Begins (or takes up) the run only while this process still holds the lock: one whose lock
 * another apply took over with --take-over-lock (it was said to run no more, on another
 * machine) while it checked its plan would otherwise run beside that apply.
 */
function beginUnderLock(begin: () => number, deps: ApplyDeps): number {
  try {
    return begin();
  } catch (error) {
    if (!(error instanceof LockLostError)) throw error;
    const holder = lockHolder(deps.db);
    throw new RefusedError(
      `another apply took this database's lock over while this one checked its plan${holder === undefined ? '' : ` (pid ${holder.pid} on ${holder.hostname}, with --take-over-lock)`}: two applies must not run at once, so this one began no run and wrote nothing to Twilio or the journal. \`submigrate status\` shows the apply that holds it.`,
    );
  }
}

/** The run's notes: each one kept, in order, and added to the journal as it is told. */
export function noteTaker(
  db: Db,
  runId: number,
  now: () => string,
  /** The apply telling them: a note is written only while it holds the lock (`addNote`). */
  lockedBy?: LockTaker,
): { notes: string[]; note: Note } {
  const notes: string[] = [];
  const note = (text: string) => {
    addNote(db, runId, now(), text, lockedBy);
    notes.push(text);
  };
  return { notes, note };
}

/** What is told as the run opens, before any step is settled or sent. */
export function noteOpening(
  note: Note,
  opening: {
    tookOverFrom: LockHolder | null;
    /** The apply that took it (its pid and host). */
    runner: { pid: number; hostname: string };
    existing: ApplyRun | undefined;
    triedAgain: readonly StepRecord[];
    options: string;
    uncarried: Prepared['uncarried'];
    uncovered: readonly string[];
  },
): void {
  const { tookOverFrom, existing, triedAgain, options, uncarried, uncovered } = opening;
  if (tookOverFrom !== null) {
    // Whose lock it was: this run's own apply, one stopped before it began any run (Ctrl-C
    // while it checked its plan), or another run's. Said bare, the report called each a
    // take-over of this run.
    // One on another machine cannot be seen to have stopped: it is not said to have. Should
    // it still run, it is refused as it would begin a run (`createApplyRun` under a lock lost).
    const held = tookOverFrom.runId ?? null;
    const elsewhere = unseenFrom(tookOverFrom, opening.runner);
    const whose =
      held === null
        ? elsewhere
          ? ': it had begun no run (it was checking its plan; should it still run there, it is refused as it would begin one), so nothing of this run was its'
          : ': it had begun no run (stopped while it checked its plan), so nothing of this run was its'
        : held !== existing?.id
          ? `: it held it for run ${held}, not this one`
          : '';
    const of = `took over the lock of pid ${tookOverFrom.pid} on ${tookOverFrom.hostname}`;
    note(
      !elsewhere
        ? `${of}, which is no longer running${whose}`
        : tookOverFrom.hostname === opening.runner.hostname
          ? `${of}, this process's own pid and hostname but another process's lock (another container sharing the hostname, or a process from before a restart), as --take-over-lock asked (whether it still ran could not be seen from here)${whose}`
          : `${of}, another machine, as --take-over-lock asked (whether it still ran there could not be seen from here)${whose}`,
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
}

/**
 * The steps a killed apply left in flight, as the live state settled them: done in Twilio
 * (adopted), ambiguous (failed, for a person to look at), or not done (sent again). Returns the
 * steps adopted.
 */
export function recordSettlements(
  db: Db,
  runId: number,
  settlements: Prepared['settlements'],
  note: Note,
  now: () => string,
): AdoptedStep[] {
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
  return adopted;
}
