/**
 * Runs a plan's pending steps in dependency order, `concurrency` at a time (every request
 * also passes the one limiter and retry policy). Per step: the intent is committed, the write
 * sent, the outcome committed. A write without a certain answer (no answer, a 5xx) is
 * settled from live state before it is ever sent again. A failed step does not stop the
 * others; the steps that depend on it, directly or not, are `not_run`. A `carry_optouts`
 * step is many writes with a journal of its own (carry.ts); to the executor it is one step.
 * A subaccount created, and journaled, is looked for a rival of (rivals.ts): another apply of
 * the plan, from another database, that created one for the same customer. Then none of that
 * customer's further steps run here.
 */

import pLimit from 'p-limit';

import { isoSeconds, type Clock } from '../clock.js';
import { TwilioError } from '../errors.js';
import {
  LockLostError,
  markNotRun,
  recordIntent,
  recordOutcome,
  type LockTaker,
  type StepOutcome,
  type StepRecord,
} from '../db/journal.js';
import type { Db } from '../db/open.js';
import type { CreateSubaccountStep, Plan, PlanStep } from '../plan/types.js';
import { countingAttempts, type AttemptCounter } from '../twilio/attempts.js';
import type { TwilioPort } from '../twilio/port.js';
import { carryOptOuts } from './carry.js';
import { observeStep } from './observe-step.js';
import { describeIntent, performStep } from './perform.js';
import { describeRivals, describeUnchecked, findRivals } from './rivals.js';
import { answerWasLost, settleInFlight } from './settle.js';
import { targetsFrom } from './targets.js';

export interface ExecuteDeps {
  db: Db;
  twilio: TwilioPort;
  clock: Clock;
  runId: number;
  concurrency: number;
  /** Waits between sends of a write whose earlier answer was uncertain. */
  sleep(ms: number): Promise<void>;
  onStep?(step: PlanStep, record: StepRecord): void;
  /**
   * A write got no certain answer (`error`: none, a 5xx, or a transfer's 404) on its `sends`th
   * send, and its effect is about to be read from live state: a send unanswered waits out the
   * request timeout, so without a word a stalled Twilio looks like a stalled apply.
   */
  onUnsure?(step: PlanStep, sends: number, maxSends: number, error: string): void;
  /**
   * A subaccount this run created has a rival (another apply of the plan made one too), or
   * whether it has could not be read: `note` says so, and the customer's next steps are not run.
   */
  onRival?(step: CreateSubaccountStep, note: string): void;
  /**
   * The apply sending the steps: each step is sent only while it holds the lock (`recordIntent`).
   * Once another apply has taken it over, no step more is sent nor marked, nor is the answer
   * to one sent before recorded (`recordOutcome`: that apply found it in flight and settles it
   * from Twilio's state), and `executeSteps` throws LockLostError. (A request whose
   * intent was written before is held back as it would leave by the port's gate, `runApply`'s,
   * and a carry's batch by `recordBatchSend`: the step stays in flight, for that apply.)
   */
  lockedBy?: LockTaker;
}

/** How many times a write with uncertain answers is settled and sent again. */
const MAX_SENDS = 6;

const uncertain = (step: PlanStep, outcome: StepOutcome) =>
  outcome.state === 'failed' && answerWasLost(step.action, outcome.status);

export async function executeSteps(
  plan: Plan,
  records: Map<string, StepRecord>,
  deps: ExecuteDeps,
): Promise<void> {
  const { db, runId } = deps;
  const now = () => isoSeconds(deps.clock.now());
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const dependents = new Map<string, string[]>();
  for (const step of plan.steps) {
    for (const dep of step.depends_on) {
      const list = dependents.get(dep) ?? [];
      list.push(step.id);
      dependents.set(dep, list);
    }
  }
  const succeeded = (id: string) => {
    const state = records.get(id)?.state;
    return state === 'done' || state === 'skipped';
  };
  const update = (id: string, patch: Partial<StepRecord>) => {
    const record = records.get(id)!;
    Object.assign(record, patch);
    deps.onStep?.(byId.get(id)!, record);
  };

  /** Everything downstream of a failed step can no longer run. */
  const abandon = (id: string) => {
    const stack = [...(dependents.get(id) ?? [])];
    const gone: string[] = [];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (records.get(next)?.state !== 'pending') continue;
      update(next, { state: 'not_run' });
      gone.push(next);
      stack.push(...(dependents.get(next) ?? []));
    }
    if (gone.length > 0) markNotRun(db, runId, gone, now(), deps.lockedBy);
  };

  // Reads the records as they change: one for the whole run.
  const targets = targetsFrom(plan, records);
  const carry = (step: Extract<PlanStep, { action: 'carry_optouts' }>) =>
    carryOptOuts(plan, step, targets, deps);
  // Twice as many steps under way as requests may be in flight: while some steps write their
  // journal entries (synchronous SQLite), others' requests wait in the limiter, ready to go,
  // so the request slots never sit idle. Each intent is still committed before its request.
  const limit = pLimit(deps.concurrency * 2);
  const waiting = new Map<string, number>();
  let resolveAll: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (resolveAll = resolve));
  let active = 0;
  let failure: unknown = null;
  // The run is the other apply's now: nothing more of it is written here (no step marked
  // not run for a step that stopped short: that apply runs them).
  let lockLost = false;

  const done = () => {
    active -= 1;
    if (active === 0) resolveAll();
  };
  const launch = (id: string) => {
    active += 1;
    void limit(() => run(byId.get(id)!))
      .then((ok) => {
        for (const next of dependents.get(id) ?? []) {
          const left = (waiting.get(next) ?? 1) - 1;
          waiting.set(next, left);
          if (left === 0 && ok && records.get(next)?.state === 'pending') launch(next);
        }
        if (!ok && !lockLost) abandon(id);
      })
      // The step's error, or its journal's after it (abandon's not_run, on a disk now full):
      // the run's failure either way. Left to the promise, the second crashed the process
      // with an unhandled rejection, a stack trace instead of the error.
      .catch((error: unknown) => {
        // A write the port held back (the lock taken over after the step's intent: `gateWrites`)
        // or a carry batch not marked sent: the run is the other apply's from here too.
        if (error instanceof LockLostError) lockLost = true;
        failure ??= error;
      })
      .finally(done);
  };

  /**
   * Whether the customer of a subaccount just created (and journaled) may go on: not when
   * another subaccount with its name appeared that neither this run nor the plan knows, nor
   * when that could not be read. The look comes after the journal entry, never between
   * Twilio's answer and it: a kill there must find the create done (the next apply's drift
   * check then looks in its place).
   */
  const noRival = async (step: CreateSubaccountStep, kept: string, sends: number) => {
    let note: string;
    try {
      const rivals = await findRivals(plan, step, kept, deps.twilio);
      if (rivals.length === 0) return true;
      note = describeRivals(step, kept, rivals, sends);
    } catch (error) {
      if (!(error instanceof TwilioError)) throw error;
      note = describeUnchecked(step, kept, error.message);
    }
    deps.onRival?.(step, note);
    return false;
  };

  const run = async (step: PlanStep): Promise<boolean> => {
    if (failure !== null) return false;
    const counter: AttemptCounter = { writes: 0 };
    let sends = 0;
    let outcome: StepOutcome;
    for (;;) {
      const startedAt = now();
      try {
        recordIntent(db, runId, step.id, startedAt, describeIntent(step, targets), deps.lockedBy);
      } catch (error) {
        if (error instanceof LockLostError) lockLost = true;
        throw error;
      }
      sends += 1;
      update(step.id, { state: 'in_flight' });
      outcome = await countingAttempts(counter, () =>
        performStep(step, deps.twilio, targets, carry),
      );
      if (!uncertain(step, outcome) || sends >= MAX_SENDS) break;
      deps.onUnsure?.(step, sends, MAX_SENDS, outcome.state === 'failed' ? outcome.message : '');
      // Did the write take effect before the answer was lost? Wait first, so that a request
      // still on its way has landed; then look, and decide. (One that lands later still
      // is found after the steps: leftovers.ts.)
      await deps.sleep(Math.min(8_000, 250 * 2 ** sends));
      const live = await observeStep(step, deps.twilio, targets);
      const settled = settleInFlight(plan, step, startedAt, live, targets);
      if (settled.kind === 'adopt') {
        outcome = { state: 'done', result: settled.result, how: settled.how };
        break;
      }
      if (settled.kind === 'ambiguous') {
        outcome = { state: 'failed', status: null, code: null, message: settled.message };
        break;
      }
    }
    const at = now();
    try {
      recordOutcome(db, runId, step.id, at, outcome, {
        retries: Math.max(0, counter.writes - sends),
        lockedBy: deps.lockedBy,
      });
    } catch (error) {
      // Answered after another apply took the lock over: that apply settles the step.
      if (error instanceof LockLostError) lockLost = true;
      throw error;
    }
    const record = records.get(step.id)!;
    update(step.id, {
      state: outcome.state,
      finishedAt: at,
      attempts: record.attempts + Math.max(counter.writes, sends),
      result: outcome.state === 'failed' ? record.result : outcome.result,
      ...(outcome.state === 'failed'
        ? { errorStatus: outcome.status, errorCode: outcome.code, errorMessage: outcome.message }
        : { errorStatus: null, errorCode: null, errorMessage: null }),
    });
    if (step.action === 'create_subaccount' && outcome.state === 'done') {
      return noRival(step, outcome.result['subaccount_sid']!, sends);
    }
    return outcome.state !== 'failed';
  };

  const ready: string[] = [];
  for (const step of plan.steps) {
    if (records.get(step.id)?.state !== 'pending') continue;
    const blocked = step.depends_on.filter((dep) => !succeeded(dep));
    if (blocked.some((dep) => records.get(dep)?.state !== 'pending')) {
      abandon(blocked.find((dep) => records.get(dep)?.state !== 'pending')!);
      continue;
    }
    waiting.set(step.id, blocked.length);
    if (blocked.length === 0) ready.push(step.id);
  }
  if (ready.length === 0) return;
  for (const id of ready) launch(id);
  await finished;
  if (failure !== null) throw failure;
}
