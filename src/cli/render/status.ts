/** `status` as it is printed: the apply runs, the latest snapshot run, one run's steps. */

import type { LockStatus } from '../../apply/lock-status.js';
import type { RunStatus } from '../../apply/run-status.js';
import { continueCommand, lockElsewhereAdvice } from '../../apply/under-way.js';
import type { LockHolder, StepRecord } from '../../db/journal.js';
import type { SnapshotRunState } from '../../optouts/snapshot.js';
import { STATE_WORDS, stateWords } from '../../report/audit.js';
import { reconcileRunsAgain, snapshotTakesUp } from '../stopped.js';
import { lockCommand, lockLine } from './lock.js';

/**
 * What `status` read: the runs, an apply starting, one run's steps, the latest snapshot, and the
 * apply lock (whoever it names, alive or not; null when none).
 */
export interface StatusView {
  runs: RunStatus[];
  steps: (StepRecord & { phoneNumber: string | null })[] | null;
  starting: LockHolder | null;
  snapshot: SnapshotRunState | null;
  lock: LockStatus | null;
}

/** A lock's holder as status shows it: by pid and host; its token is its process's alone. */
function shown<T extends LockHolder>(holder: T): Omit<T, 'token'>;
function shown<T extends LockHolder>(holder: T | null): Omit<T, 'token'> | null;
function shown<T extends LockHolder>(holder: T | null): Omit<T, 'token'> | null {
  if (holder === null) return null;
  const { token: _token, ...named } = holder;
  return named;
}

/**
 * `status --json`: the view, each run with its `options` and `notes` as JSON beside the
 * journal's text of them (`optionsJson`, `notesJson`, kept as they were): read with `jq`,
 * they were strings to parse again (`.notesJson | fromjson`). The lock with its run's plan
 * (`planPath`) and the command the text names (`command`), `db` as the user gave it. No
 * lock's token is shown (`shown`).
 */
export function statusJson(view: StatusView, db: string): string {
  const runs = view.runs.map((status) => ({
    ...status,
    process: shown(status.process),
    run: {
      ...status.run,
      options: JSON.parse(status.run.optionsJson) as unknown,
      notes: JSON.parse(status.run.notesJson) as unknown,
    },
  }));
  const lock =
    view.lock === null
      ? null
      : (({ run, ...lock }) => ({
          ...shown(lock),
          planPath: run?.planPath ?? null,
          command: lockCommand(view.lock!, db),
        }))(view.lock);
  return JSON.stringify({ ...view, runs, starting: shown(view.starting), lock }, null, 2);
}

/**
 * The lines on stdout, in order. `asked`: --run and --db as given, the database's path as
 * shown (relative to the working folder), and this process's pid and hostname (a lock whose
 * process cannot be seen from here is told with the command that takes the run over).
 */
export function renderStatus(
  view: StatusView,
  asked: { run: number | undefined; db: string; dbShown: string; pid: number; hostname: string },
): string[] {
  const lines: string[] = [];
  if (view.runs.length === 0 && view.starting === null) lines.push('No apply run yet.');
  for (const { run, counts, process, followedBy, routesLost } of view.runs) {
    const states = inShownOrder(Object.entries(counts))
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${n} ${shownState(state, stoppedFor(run, process, followedBy))}`)
      .join(', ');
    const stopped = run.status === 'running' && process === null;
    lines.push(
      `run ${run.id}  ${(stopped ? 'stopped' : process !== null ? 'running' : run.status).padEnd(9)}  ${run.startedAt} → ${run.finishedAt ?? '…'}  ${run.planPath}  (${states})${
        process === null
          ? stopped
            ? followedBy === null
              ? `  no process is running it: \`${continueCommand(run, asked.db)}\` (${run.planPath} as its apply named its plan) continues it`
              : `  no process is running it, and run ${followedBy} (another plan) came after it${givenUp(counts, followedBy)}`
            : ''
          : `  pid ${process.pid} on ${process.hostname} since ${process.acquiredAt}${elsewhere(run, process, asked)}`
      }${whyFailed(run, counts, routesLost)}`,
    );
  }
  if (view.starting !== null) {
    const { pid, hostname, acquiredAt } = view.starting;
    lines.push(
      `an apply is starting a new run: pid ${pid} on ${hostname} since ${acquiredAt}, checking its plan against the live account (its run begins when the checks pass)`,
    );
  }
  if (view.lock !== null) lines.push(lockLine(view.lock, asked.db));
  if (asked.run === undefined && view.snapshot !== null) {
    lines.push(snapshotLine(view.snapshot, asked.dbShown));
    // A snapshot stopped before a pass's stopped run: the next `snapshot` takes it up.
    const behind = view.snapshot.behind;
    if (behind !== undefined) {
      lines.push(`  before it: ${snapshotLine(behind, asked.dbShown)}`);
    }
  }
  if (view.steps === null) return lines;
  const byState = new Map<string, typeof view.steps>();
  for (const step of view.steps) {
    const steps = byState.get(step.state);
    if (steps === undefined) byState.set(step.state, [step]);
    else steps.push(step);
  }
  // A stopped run's in-flight steps are no longer being sent: say what becomes of them. Of a
  // run given up for a plan made again, nothing: neither they nor those not sent ever are.
  const shown = view.runs[0];
  const stopped = shown?.run.status === 'running' && shown.process === null;
  const after = stopped ? (shown?.followedBy ?? null) : null;
  for (const [state, steps] of inShownOrder([...byState])) {
    const note =
      after !== null && (state === 'in_flight' || state === 'pending')
        ? ` ${givenUpSteps(state, after)}`
        : stopped && state === 'in_flight'
          ? ` ${STOPPED_IN_FLIGHT}`
          : '';
    lines.push(`\n${shownState(state, after)} (${steps.length}):${note}`);
    for (const s of steps) {
      lines.push(
        `  ${s.stepId}${s.phoneNumber === null ? '' : ` (${s.phoneNumber})`}  attempts ${s.attempts}${resultText(s.result)}${s.errorMessage === null ? '' : `  error ${s.errorCode === null ? '' : `${s.errorCode}: `}${s.errorMessage}`}`,
      );
    }
  }
  return lines;
}

/**
 * For a run whose lock another machine (or container) holds: that whether its apply still runs
 * cannot be seen from here, and the `apply PLAN --take-over-lock` that takes the run over once
 * it no longer does, as `report`, `routes` and `reconcile` say. Empty on this machine.
 */
function elsewhere(
  run: RunStatus['run'],
  holder: LockHolder,
  asked: { db: string; pid: number; hostname: string },
): string {
  const advice = lockElsewhereAdvice(run, holder, asked, asked.db);
  return advice === null ? '' : `: ${advice}`;
}

/**
 * States in the order apply's summary gives them (done, skipped, failed, not run), then those of
 * a run not over (in flight, not sent yet): the journal's order put `pending` first.
 */
function inShownOrder<T>(entries: [string, T][]): [string, T][] {
  const order = [...STATE_WORDS.keys()];
  const rank = (state: string) => (order.includes(state) ? order.indexOf(state) : order.length);
  return entries.sort(([a], [b]) => rank(a) - rank(b));
}

/** The run a stopped run was given up for (`followedBy`), else null. */
const stoppedFor = (run: { status: string }, process: unknown, followedBy: number | null) =>
  run.status === 'running' && process === null ? followedBy : null;

/** A state's words; of a run given up for another (`after`), steps not sent are never sent. */
const shownState = (state: string, after: number | null) =>
  after !== null && state === 'pending' ? 'not sent' : stateWords(state);

/**
 * The run line's end for a stopped run that a run of another plan for its customers came after
 * (a plan made again for them): its steps in flight and not sent will never be sent, nor
 * settled, by any apply. Empty when it left none.
 */
function givenUp(counts: Record<string, number>, followedBy: number): string {
  const left = [
    counts['in_flight']! > 0 ? `${counts['in_flight']} in flight` : null,
    counts['pending']! > 0 ? `${counts['pending']} not sent` : null,
  ].filter((part) => part !== null);
  if (left.length === 0) return '';
  return `: its steps left (${left.join(', ')}) are never sent nor settled by any apply, since applying its plan no longer continues it; run ${followedBy} sent steps for its customers since, and \`submigrate status --run ${followedBy}\` shows what it did`;
}

/** The heading's note on a given-up run's steps in flight or not sent (`givenUp`). */
function givenUpSteps(state: 'in_flight' | 'pending', followedBy: number): string {
  const what =
    state === 'in_flight'
      ? 'begun by the apply that stopped, whether Twilio took them not known; none is settled or sent again'
      : 'none will be sent';
  return `${what}: run ${followedBy} (another plan) came after this run, and applying its plan no longer continues it (\`submigrate status --run ${followedBy}\` shows what that run did)`;
}

const STOPPED_IN_FLIGHT =
  "begun by the apply that stopped, whether Twilio took them not known: an apply that continues the run settles each from Twilio's state first, never sends one blind";

/**
 * What else a run's line must say: the routes it lost at the last check, and why a run failed
 * with every step done (`failed (6 done)` alone left the reader to guess).
 */
function whyFailed(
  run: { id: number; status: string },
  counts: Record<string, number>,
  routesLost: number,
): string {
  if (routesLost > 0) {
    return `  ${routesLost} moved number(s) lost their inbound route at the last check: \`submigrate routes --run ${run.id}\` names them`;
  }
  const unfinished = ['pending', 'in_flight', 'failed', 'not_run'].some((s) => counts[s]! > 0);
  return run.status === 'failed' && !unfinished
    ? `  every step done, but apply could not vouch for the result (a lost inbound route, or a create that took effect twice): its report.html says what`
    : '';
}

/** A step's result, each value named (`written=3 rejected=0`: bare values said nothing). */
function resultText(result: Record<string, string> | null): string {
  const shown = Object.entries(result ?? {}).map(([key, value]) => `${key}=${value}`);
  return shown.length === 0 ? '' : `  ${shown.join(' ')}`;
}

/** `submigrate snapshot` with the stopped run's accounts, window and source, on this database. */
function resumeCommand(run: SnapshotRunState, db: string): string {
  return snapshotTakesUp(run.resumeArguments ?? [], db);
}

/**
 * Who made a run that is not a `snapshot`'s, and what it read. Bare, plan's refresh read as
 * the snapshot the engineer was told to run: `completed`, just after apply had refused the plan
 * because no completed snapshot covers the history before the Messages API's window.
 */
function madeByNote(madeBy: SnapshotRunState['madeBy']): string {
  switch (madeBy) {
    case 'plan':
      return " (plan's refresh of the ledger: the Messages API's window only, not the history before it, which `submigrate snapshot` reads)";
    case 'apply':
      return " (apply's read of the history its numbers left, up to their moves)";
    default:
      return '';
  }
}

/**
 * What goes on with a run another machine recorded running, once it no longer runs there
 * (`snapshot` refuses it until `--take-over-run` says so): a snapshot's is taken up, a pass's
 * abandoned, its span read again by the next pass.
 */
function elsewhereTakeOver(run: SnapshotRunState, db: string): string {
  const ifGone = 'if it no longer runs (it was stopped, its machine or container is gone)';
  if (run.reconcileRun === true) {
    return `${ifGone}, \`${snapshotTakesUp(['--take-over-run'], db)}\` abandons it (and goes on to a snapshot of its own, as \`submigrate snapshot\` does), and the next \`${reconcileRunsAgain(db)}\` reads its span again`;
  }
  return `${ifGone}, \`${resumeCommand(run, db)}\` takes it up from its last commit`;
}

/** The latest snapshot run in a line: whether it runs, stopped (and how it is taken up), or ended. */
function snapshotLine(run: SnapshotRunState, db: string): string {
  // A reconcile pass is recorded as a snapshot run: said so, or a pass read as the snapshot
  // the engineer ran before a plan (it read the subaccounts, not the parent's history).
  // One killed before its pass was recorded has no pass number, and no snapshot takes it up.
  const unrecorded = (run.reconcilePass ?? null) === null && run.reconcileRun === true;
  const head = unrecorded
    ? `snapshot run ${run.id} (a reconcile pass${run.state === 'stopped' ? ', not recorded' : ''}: the subaccounts' messages, not the parent's history)`
    : (run.reconcilePass ?? null) !== null
      ? `snapshot run ${run.id} (reconcile pass ${run.reconcilePass}: the subaccounts' messages, not the parent's history)`
      : `snapshot run ${run.id}${madeByNote(run.madeBy)}`;
  if (unrecorded && run.state === 'stopped') {
    return `${head}  stopped  started ${run.startedAt}, no process is running it (pid ${run.pid} gone) and it recorded no pass: nothing it judged was kept and none of its span counts as read (what it read is in the ledger if it stopped after keeping it, and the next pass reads the span again either way); \`${reconcileRunsAgain(db)}\` runs the pass again`;
  }
  switch (run.state) {
    case 'running':
      // When the run began: a process that took it up began later.
      return `${head}  running  pid ${run.pid} on ${run.hostname} (the run began ${run.startedAt})`;
    case 'elsewhere':
      return `${head}  running?  recorded running by pid ${run.pid} on ${run.hostname} (the run began ${run.startedAt}), a machine (or container) whose processes this one cannot see: if it still runs there, wait for it to finish; ${elsewhereTakeOver(run, db)}`;
    case 'stopped':
      return `${head}  stopped  started ${run.startedAt}, no process is running it (pid ${run.pid} gone): \`${resumeCommand(run, db)}\` takes it up from its last commit; until then what it has not read counts as not read`;
    default:
      return `${head}  ${run.state}  ${run.startedAt} → ${run.finishedAt ?? '…'}`;
  }
}
