/**
 * The shapes apply is called with and answers with: what `runApply` and `rehearseApply` are
 * given (the plan and its options, the ports and callbacks) and what a run returns (its
 * outcome, the steps it adopted, those that failed and why).
 */

import type { Clock } from '../clock.js';
import type { LockHolder, LockRunner, StepRecord, StepState } from '../db/journal.js';
import type { Db } from '../db/open.js';
import type { ReplanPaths } from '../plan/replan.js';
import type { Plan, PlanStep } from '../plan/types.js';
import type { TwilioPort } from '../twilio/port.js';
import type { ExecuteDeps } from './execute.js';
import type { RouteCheck } from './routes-check.js';

export interface ApplyInput {
  plan: Plan;
  planPath: string;
  /** The plan's integrity seal: which run this is. */
  planIntegrity: string;
  /**
   * The plan file's text as read, its seal checked: kept with the run as the exact bytes
   * applied. Absent: the plan written out again (the same text, for a plan this version wrote).
   */
  planText?: string;
  concurrency: number;
  rate: number;
  /** Consent API requests a minute the limiter allows (recorded in the audit). */
  consentRate?: number;
  allowMissingSnapshot: boolean;
  /**
   * `--take-over-lock`: the apply lock held by a process on another host (which this one cannot
   * see) is taken over, with a note in the audit: the person says it no longer runs. One whose
   * renewal reads as stale by this machine's clock is watched first (`watchBeforeTakeOver`).
   */
  takeOverLock?: boolean;
  /**
   * The kind of credentials the run has. An API key cannot move a number out of a subaccount
   * (that takes the parent's Auth Token): such a plan is refused before anything is written.
   */
  credentials?: 'auth-token' | 'api-key';
  /**
   * Where a plan made again goes (the plan file applied, as an absolute path) and the
   * database apply used (absolute): what a refusal's "Make the plan again" command names.
   * Absent: `planPath`, and no `--db`.
   */
  replan?: ReplanPaths;
}

export interface ApplyDeps {
  twilio: TwilioPort;
  db: Db;
  clock: Clock;
  runner: LockRunner;
  sleep(ms: number): Promise<void>;
  /**
   * Said before `--take-over-lock` watches another machine's lock for a renewal
   * (src/apply/lock-watch.ts), whose lock `holder` is: the command waits LOCK_WATCH_MS, and
   * the person is told why (and, stopped meanwhile, that nothing was taken).
   */
  onWatchingLock?(line: string, holder: LockHolder): void;
  onStep?(step: PlanStep, record: StepRecord, total: number): void;
  /** A write with no certain answer, about to be settled from live state (execute.ts). */
  onUnsure?: ExecuteDeps['onUnsure'];
  /**
   * Once the run is known, before its first write and before a run it continues is reopened:
   * a refusal here sends nothing and leaves an earlier run as it was.
   */
  beforeSteps?(runId: number): void;
  /**
   * Once the lock is taken: `continues`, the run of this plan an earlier apply began (null for
   * none: this apply would begin one); and `giveBack`, called when the process is stopped (a
   * signal) before its run began (or was taken up), which puts back the lock of an apply on
   * another machine that this one took over (--take-over-lock), as it was, and says whose it
   * was; null when there is none to give back (none was taken over from another machine, the
   * run has begun, or the lock is no longer this process's). Stopped before it took up the
   * run `continues` names, it also puts back a lock it took over from an apply of this machine
   * (the one killed part way), or, when the lock was free, leaves it naming no run: the next
   * apply's note names the apply that last ran the run, never this one, which did not
   * (lock-hand-back.ts, `whenStopped`). A give-back whose write fails (a full disk, a database
   * kept busy) returns that apply with the `error`: the lock is left naming this process
   * (`self`). And `lostTo`, asked when the process is stopped after its run began: the apply
   * that took this one's lock over with --take-over-lock meanwhile (whose run it is now), or
   * null while the lock is still this process's.
   */
  onLockTaken?(lock: {
    continues: number | null;
    giveBack: () => GivenBack | null;
    lostTo: () => { pid: number; hostname: string } | null;
  }): void;
  /**
   * At the end, complete or not (a refusal after the lock was taken included), before the lock
   * is let go: the run's reports are written by the apply that holds the database, never by
   * one the lock refused, whose view of the run would be another process's, half way. An error
   * here is returned as the result's `reportsError`; when the run failed, the run's own error is
   * thrown, and this one told beneath it (`tellAfter`).
   */
  afterRun?(): void;
}

export interface ApplyResult {
  runId: number;
  resumed: boolean;
  status: 'completed' | 'failed';
  counts: Record<StepState, number>;
  notes: string[];
  /**
   * Each step a killed or failed apply left unsettled that this run found done in Twilio and
   * adopted (not sent again), with what it found (the SIDs); each is also told in a note.
   */
  adopted: AdoptedStep[];
  /** Each failed step and why. */
  failures: StepFailure[];
  /** The routing check of the moved numbers, and the numbers that lost their route. */
  routes: RouteCheck[];
  routeFailures: RouteCheck[];
  /**
   * Why the history of the accounts the numbers left could not be read up to the moves, when
   * it could not (with the command that reads it): the lists of their customers are not whole.
   */
  ledgerUnread?: string;
  /**
   * Opt-out records the read after the moves found that the plan does not carry (STOPs said
   * between the plan and the moves), when there are any: a note says which, and how to carry them.
   */
  uncarriedAfterMoves?: number;
  /**
   * Why the run's reports could not be written (`afterRun` threw), when they could not: the
   * run itself went as the rest says.
   */
  reportsError?: unknown;
}

/** A step settled from live state as done: its result (the SIDs it found) and how it was seen. */
export interface AdoptedStep {
  step: string;
  result: Record<string, string>;
  how: string;
}

/** A failed step, told with whose it is and, for a limit of Twilio's, what to do. */
export interface StepFailure {
  step: string;
  customer_id: string | null;
  /** The number a number's step moves or joins; null for a subaccount, service or carry. */
  phone_number: string | null;
  error: string;
  /** What lifts the limit Twilio refused the step for; null when the error is no such limit. */
  advice: string | null;
}

/**
 * The apply on another machine whose lock, taken over with --take-over-lock, is given back
 * (pid, host); with `error` and `self` when the write that gives it back failed, and the lock
 * still names this process (`self`).
 */
export type GivenBack =
  | { pid: number; hostname: string; error?: undefined }
  | { pid: number; hostname: string; error: string; self: { pid: number; hostname: string } };
