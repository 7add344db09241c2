/**
 * `takeSnapshot`: rebuild the opt-out evidence from Twilio's message history into the
 * ledger. History starts when the account was created (its `date_created`, no probing). The
 * Messages API shows only its retention window (`--retention-days`; not given, the one
 * recorded for the account, else Twilio's default 400):
 * that part of each account's window is cut into slices read side by side through the
 * limiter, page after page (PageSize 1000, following next_page_uri); anything older is read
 * from Bulk Export day files (export-reader.ts). Each page's or day's evidence and its
 * progress are committed together, so memory stays flat and a killed run resumes after the
 * last page or day it recorded. Where the API turns out to show less than assumed (its oldest
 * record well after the window's start), the days in between are read from Bulk Export too,
 * or, without it, the coverage says they were not read. A run records its windows, each with
 * its source, and its keyword lists: coverage.
 */

import { isoSeconds, type Clock } from '../clock.js';
import {
  countEvents,
  countCurrentOptOuts,
  recordServices,
  replaceAccountsNumbers,
  replaceNumbers,
  tollFreeTypes,
  type LedgerCounts,
  type NumberRow,
} from '../db/ledger.js';
import type { Db } from '../db/open.js';
import {
  adoptRun,
  claimingRun,
  listRunningRuns,
  createRun,
  completedRunsWithoutExport,
  findRunningRun,
  findRunningSnapshotBefore,
  finishRun,
  completedWindows,
  DEFAULT_RETENTION_DAYS,
  getRun,
  latestRun,
  reconcilePassOf,
  knownHistoryStart,
  listExportDays,
  listSlices,
  listWindows,
  narrowApiWindow,
  recordedRetention,
  recordHistoryStart,
  recordToldRetention,
  splitSlice,
  type NewSlice,
  type RunMaker,
  type SnapshotRun,
  type SnapshotSlice,
  type NewWindow,
  type SnapshotWindow,
} from '../db/snapshot-runs.js';
import { RefusedError, TwilioError, UserError } from '../errors.js';
import type { TwilioPort } from '../twilio/port.js';
import { readExportDays } from './export-reader.js';
import { KEYWORD_LISTS, RULES_VERSION } from './keywords.js';
import {
  LedgerWriter,
  readSlice,
  type SliceContext,
  type SnapshotProgress,
} from './slice-reader.js';
import {
  apiBoundary,
  DAY_MS,
  daysBetween,
  HISTORY_FLOOR,
  lastExportableDay,
  MIN_RETENTION_DAYS,
  MAX_RETENTION_DAYS,
  planSlices,
  splitAtBoundary,
  windowsToRead,
  type TimeRange,
} from './windows.js';

export const DEFAULT_PARTITIONS = 8;
/** A day: Twilio can take hours to make a job's files, but not forever. */
export const DEFAULT_EXPORT_WAIT_MINUTES = 24 * 60;
export { DEFAULT_RETENTION_DAYS };
/** More slices than this per window only adds requests: concurrency is what reads faster. */
export const MAX_PARTITIONS = 256;
export type { SnapshotProgress };

export interface SnapshotInput {
  /** Subaccounts to read besides the parent (`--account`). */
  accounts: readonly string[];
  since: Date | null;
  until: Date | null;
  partitions: number;
  /**
   * Slices to keep under way (the request slots): a slice that turns out large is cut in two
   * while it is read whenever fewer are. Default: `partitions`.
   */
  inFlight?: number;
  /**
   * How many days back the Messages API shows records (Twilio: 7–400), as the user said it:
   * recorded for the run's accounts. Not given: each account's as last given, else Twilio's
   * default 400.
   */
  retentionDays?: number;
  /** Whether history older than that is read from Bulk Export day files (default yes). */
  useExport?: boolean;
  /**
   * Minutes the run waits in all for Twilio's Bulk Export jobs to make their files, counted
   * from when it begins to read them (default DEFAULT_EXPORT_WAIT_MINUTES). Past it the run
   * stops with an error, the days not read not counted as read; run again, it takes the job up.
   */
  exportWaitMinutes?: number;
  /**
   * The numbers (with their services) of some accounts, read just before by the caller
   * (`plan` reads them anyway): recorded as they are instead of read again.
   */
  knownNumbers?: ReadonlyMap<string, readonly Omit<NumberRow, 'accountSid'>[]>;
  /**
   * (ISO 8601 UTC, this machine's clock) When the caller began to read `knownNumbers`: they are
   * recorded as seen then, not when this run began. A number moved by hand after it was read
   * was last seen where it was then, and reconcile judges its sends from that listing on.
   * Default: when the run records them.
   */
  knownNumbersAt?: string;
  /**
   * The Messaging Services of some of those accounts, listed by the caller with them: an
   * account whose numbers are given without them has only its numbers' services recorded.
   */
  knownServices?: ReadonlyMap<string, readonly string[]>;
  /** The command that asks (recorded with a run it starts); default `snapshot`. */
  madeBy?: Exclude<RunMaker, 'reconcile'>;
  /**
   * (`--take-over-run`) A run recorded running by a process on another machine (or container),
   * whose processes this one cannot see, is treated as stopped: taken up when asked for the
   * same, else abandoned. Without it such a run is refused: it may still run there.
   */
  takeOverRun?: boolean;
}

export interface SnapshotDeps {
  twilio: TwilioPort;
  db: Db;
  clock: Clock;
  /** Who runs this snapshot, to tell a live run from a killed one. */
  runner: { pid: number; hostname: string; isAlive(pid: number): boolean };
  onProgress?(progress: SnapshotProgress): void;
  /** A line for the person waiting (e.g. that Twilio is still making export files). */
  onNotice?(text: string): void;
  /** Waits between polls of an export job (tests may hurry it). */
  sleep?(ms: number): Promise<void>;
}

export interface SnapshotResult {
  runId: number;
  resumed: boolean;
  windows: SnapshotWindow[];
  slices: number;
  /**
   * Messages read by this invocation, each once though the sources overlap (a resumed run's
   * earlier pages are not counted again).
   */
  messagesRead: number;
  /** Of those, read from Bulk Export day files (older than the API's window). */
  exportMessagesRead: number;
  pagesRead: number;
  /** Bulk Export days of this run: read from a file, or empty by Twilio's account. */
  exportDays: number;
  eventsAdded: number;
  ledger: LedgerCounts;
  optedOutPairs: number;
  keywords: typeof KEYWORD_LISTS;
}

/**
 * Bad input is refused before anything happens: before the database is created, before a
 * request is sent.
 */
export function validateSnapshotInput(input: SnapshotInput, now: Date): void {
  if (
    !Number.isInteger(input.partitions) ||
    input.partitions < 1 ||
    input.partitions > MAX_PARTITIONS
  ) {
    throw new UserError(
      `--partitions must be a whole number from 1 to ${MAX_PARTITIONS}, got ${input.partitions}`,
    );
  }
  if (input.since !== null && input.since > now) {
    throw new UserError(
      `--since ${isoSeconds(input.since)} is in the future (now is ${isoSeconds(now)}): there is no history there to read.`,
    );
  }
  if (input.since !== null && input.until !== null && input.since > input.until) {
    throw new UserError('--since is after --until');
  }
  if (input.retentionDays !== undefined) validateRetentionDays(input.retentionDays);
  const wait = input.exportWaitMinutes;
  if (wait !== undefined && !(Number.isFinite(wait) && wait >= 0)) {
    throw new UserError(`--export-wait must be a number of minutes, 0 or more, got ${wait}`);
  }
  for (const sid of input.accounts) {
    if (!/^AC[0-9a-fA-F]{32}$/.test(sid)) {
      throw new UserError(`--account ${sid}: not an Account SID (AC followed by 32 hex digits)`);
    }
  }
}

/** `--retention-days` (snapshot's, or plan's for its refresh): what Twilio allows. */
export function validateRetentionDays(retentionDays: number): void {
  if (
    !Number.isInteger(retentionDays) ||
    retentionDays < MIN_RETENTION_DAYS ||
    retentionDays > MAX_RETENTION_DAYS
  ) {
    throw new UserError(
      `--retention-days must be a whole number from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS} (what Twilio allows), got ${retentionDays}`,
    );
  }
}

type Options = SnapshotInput & {
  /** Each account's window, in days. */
  retention: ReadonlyMap<string, number>;
  /** The run's: the widest of its accounts' (each API window starts within it). */
  retentionDays: number;
  useExport: boolean;
};

/**
 * Refuses (exit 4) while another live process on this host runs a snapshot on this database,
 * or while one is recorded running by a process on another machine (or container), whose pid
 * means nothing here: it cannot be told stopped from running, so it is neither taken up nor
 * abandoned unless `takeOver` (`--take-over-run`) says it no longer runs. A look without the
 * write lock: a run that is reading commits page after page, and waiting for the lock between
 * its commits could outlast the busy timeout, ending in "database is locked" rather than this
 * refusal. Asks Twilio nothing, so `plan` calls it before it reads the account too.
 */
export function refuseLiveSnapshot(
  db: Db,
  parentAccountSid: string,
  runner: SnapshotDeps['runner'],
  takeOver = false,
): void {
  refuseLiveRun(db, findRunningRun(db, parentAccountSid), runner, takeOver);
}

/** A run as recorded by the process that runs it: who, where. */
const recordedAs = (run: SnapshotRun) => `${run.id} ${run.pid} ${run.hostname}`;

/**
 * `takeOver`: false, or true (`--take-over-run`, any run another machine recorded), or the runs
 * (`recordedAs`) another machine had recorded running when the snapshot began, the only ones it
 * takes over: one taken up by, or started on, another machine since (by a second
 * `--take-over-run` there, in the seconds this one asked Twilio about the accounts) runs there.
 */
function refuseLiveRun(
  db: Db,
  running: ReturnType<typeof findRunningRun>,
  runner: SnapshotDeps['runner'],
  takeOver: boolean | ReadonlySet<string>,
): void {
  if (running === undefined) return;
  if (running.hostname !== runner.hostname) {
    if (takeOver === false) throw new RefusedError(elsewhereRefusal(db, running));
    if (takeOver !== true && !takeOver.has(recordedAs(running))) {
      throw new RefusedError(
        `${elsewhereRefusal(db, running)}. --take-over-run took nothing over: the run was recorded so only after this snapshot began (another machine took it up or started it meanwhile), and --take-over-run takes over only what was recorded before`,
      );
    }
    return;
  }
  if (running.pid !== runner.pid && runner.isAlive(running.pid)) {
    // A pass records its run once it has read the subaccounts: what is left of it is judging.
    throw new RefusedError(
      running.madeBy === 'reconcile'
        ? `a reconcile pass (snapshot run ${running.id}) is still judging what it read (pid ${running.pid}); wait for it or stop it first`
        : `snapshot run ${running.id} is still in progress (pid ${running.pid}); wait for it or stop it first`,
    );
  }
}

/** Why a run another machine recorded running is left alone, and what takes it over. */
function elsewhereRefusal(db: Db, run: SnapshotRun): string {
  // The run's start, not the process's: a run taken up keeps when it began.
  const where = `pid ${run.pid} on ${run.hostname} (the run began ${run.startedAt}); another machine (or container), whose processes this one cannot see`;
  const ifGone = 'if it no longer runs (it was stopped, its machine or container is gone)';
  if (run.madeBy === 'reconcile') {
    return `a reconcile pass's run (snapshot run ${run.id}) is recorded running by ${where}. If that pass still runs there, wait for it to finish; ${ifGone}, \`submigrate snapshot --take-over-run\` (with this --db) abandons it (and goes on to a snapshot of its own, as \`submigrate snapshot\` does), and the next \`submigrate reconcile\` reads its span again`;
  }
  const again = ['submigrate', 'snapshot', ...resumeArguments(db, run), '--take-over-run'].join(
    ' ',
  );
  return `snapshot run ${run.id} is recorded running by ${where}. If it still runs there, wait for it to finish; ${ifGone}, \`${again}\` (with this --db) takes it up from its last commit`;
}

/** The latest snapshot run as `status` tells it. */
export interface SnapshotRunState {
  id: number;
  /**
   * `running`: a live process on this host runs it; `elsewhere`: recorded running by a process
   * on another host, which this one cannot see; `stopped`: recorded running, its process gone.
   */
  state: 'running' | 'elsewhere' | 'stopped' | 'completed' | 'abandoned';
  pid: number;
  hostname: string;
  startedAt: string;
  finishedAt: string | null;
  /**
   * For a stopped run: the `snapshot` arguments that take it up (its accounts, window and
   * source, as the resume check compares them); for one recorded running on another host
   * (`elsewhere`), the same and `--take-over-run`, once it no longer runs there; null otherwise
   * (a reconcile pass's run among them: no snapshot takes it up).
   */
  resumeArguments: string[] | null;
  /** The command that started the run. */
  madeBy: RunMaker;
  /**
   * The reconcile pass this run is, when it is one (a pass is recorded as a snapshot run of the
   * subaccounts it read); null for a run of `snapshot` or `plan`.
   */
  reconcilePass: number | null;
  /**
   * Whether the run is a reconcile pass's, recorded or not (`madeBy` is `reconcile`). One
   * stopped with no pass recorded (the process killed while it judged) is taken up by no
   * snapshot: `reconcile` runs the pass again.
   */
  reconcileRun?: boolean;
  /**
   * For a pass's run left stopped with no pass recorded: a snapshot recorded running before it
   * (stopped, most often), which the next `snapshot` asked for the same takes up once it has
   * abandoned the pass's run. Present only then.
   */
  behind?: SnapshotRunState;
}

/** The database's latest snapshot run, and whether a process still runs it; null if none. */
export function latestSnapshotState(
  db: Db,
  runner: SnapshotDeps['runner'],
): SnapshotRunState | null {
  const run = latestRun(db);
  if (run === undefined) return null;
  const latest = runState(db, run, runner);
  if (latest.state !== 'stopped' || !latest.reconcileRun || latest.reconcilePass !== null) {
    return latest;
  }
  const behind = findRunningSnapshotBefore(db, run.parentAccountSid, run.id);
  return behind === undefined ? latest : { ...latest, behind: runState(db, behind, runner) };
}

function runState(db: Db, run: SnapshotRun, runner: SnapshotDeps['runner']): SnapshotRunState {
  const state =
    run.status !== 'running'
      ? run.status
      : run.hostname !== runner.hostname
        ? 'elsewhere'
        : run.pid === runner.pid || runner.isAlive(run.pid)
          ? 'running'
          : 'stopped';
  const { id, pid, hostname, startedAt, finishedAt, madeBy } = run;
  const reconcileRun = madeBy === 'reconcile';
  // Another machine's run is taken up only when `--take-over-run` says it no longer runs
  // there: without it, the command named would be refused (exit 4).
  const resume =
    (state === 'stopped' || state === 'elsewhere') && !reconcileRun
      ? [...resumeArguments(db, run), ...(state === 'elsewhere' ? ['--take-over-run'] : [])]
      : null;
  return {
    id,
    state,
    pid,
    hostname,
    startedAt,
    finishedAt,
    resumeArguments: resume,
    madeBy,
    reconcilePass: reconcilePassOf(db, id),
    reconcileRun,
  };
}

/**
 * What `resumable` asks of a run, as `snapshot` arguments: the accounts besides the parent;
 * for an explicit window its start, and its end when that came before the run started (one
 * asked to end later ends then, and needs no `--until` to be taken up); `--no-export`. The
 * retention window is not given: the run recorded it for its accounts, and it is their default.
 *
 * A run given `--until` alone began each account at its own history's start: `--since` is
 * given only when every account's windows begin at one moment (as `--since` makes them), for
 * no one `--since` asks for two starts; `--until` then keeps the window explicit, even one
 * that ended when the run started (the same window: see `resumable`).
 */
function resumeArguments(db: Db, run: SnapshotRun): string[] {
  const windows = listWindows(db, run.id);
  const accounts = [...new Set(windows.map((w) => w.accountSid))];
  const args = accounts
    .filter((sid) => sid !== run.parentAccountSid)
    .flatMap((sid) => ['--account', sid]);
  if (run.explicitWindow && windows.length > 0) {
    const starts = new Set(
      accounts.map((sid) =>
        windows
          .filter((w) => w.accountSid === sid)
          .reduce((a, w) => (w.windowStart < a ? w.windowStart : a), '~'),
      ),
    );
    const since = starts.size === 1 ? [...starts][0]! : null;
    const last = windows.reduce((a, w) => (w.windowEnd > a ? w.windowEnd : a), '');
    const until = last < run.startedAt || since === null ? ['--until', last] : [];
    args.unshift(...(since === null ? [] : ['--since', since]), ...until);
  }
  if (!run.useExport) args.push('--no-export');
  return args;
}

export async function takeSnapshot(
  given: SnapshotInput,
  deps: SnapshotDeps,
): Promise<SnapshotResult> {
  const { twilio, db, clock, runner } = deps;
  const useExport = given.useExport ?? true;
  const parentSid = twilio.parentAccountSid;
  validateSnapshotInput(given, clock.now());
  // Before Twilio is asked anything: that another process runs a snapshot on this database
  // is known from the database alone, and the refusal should not wait on (or fail with) a
  // Twilio that stalls or is down. Looked at again below, write-locked, as the run starts.
  const takeOver = given.takeOverRun === true;
  refuseLiveSnapshot(db, parentSid, runner, takeOver);
  // What --take-over-run was asked to take over: another machine's runs as recorded now, not
  // one that machine takes up or starts while this one asks Twilio about the accounts.
  const elsewhereNow: false | ReadonlySet<string> =
    takeOver &&
    new Set(
      listRunningRuns(db, parentSid)
        .filter((run) => run.hostname !== runner.hostname)
        .map(recordedAs),
    );
  const accounts = [parentSid, ...new Set(given.accounts.filter((sid) => sid !== parentSid))];
  // Side by side: each account's creation date is where its history starts.
  const created = new Map<string, Date | null>();
  await Promise.all(
    accounts.map(async (sid) => {
      const account = await twilio.fetchAccount(sid).catch((error: unknown) => {
        // Twilio answers 404 for an account the credentials may not see: not one of ours.
        if (sid !== parentSid && error instanceof TwilioError && error.status === 404) {
          throw new UserError(
            `--account ${sid}: Twilio knows no such account for these credentials (404); it is not a subaccount of ${parentSid}`,
          );
        }
        throw error;
      });
      if (sid !== parentSid && account.ownerAccountSid !== parentSid) {
        throw new UserError(`--account ${sid} is not a subaccount of ${parentSid}`);
      }
      created.set(sid, account.dateCreated);
    }),
  );

  // A run without Bulk Export (a plan's refresh, which sends only GETs) took the Messages
  // API's window on trust. With Bulk Export at hand, that trust is checked now, as this run
  // checks its own: where the API showed less than the window, the window is narrowed to what
  // it showed, and this run reads the days before (a shorter retention would otherwise hide
  // their STOPs for good).
  if (useExport) {
    for (const earlier of completedRunsWithoutExport(db, parentSid)) {
      checkApiWindows(db, earlier.id, earlier.retentionDays, new Date(earlier.startedAt), false);
    }
  }
  // Not told: each account's window as last given. Twilio's default in its place would have a
  // run without Bulk Export (a plan's refresh) mark as read the spans a shorter window hides.
  // (What a run with Bulk Export finds the API to show is not kept: a quiet spell at a
  // window's start looks just like a shorter window.)
  const recorded = recordedRetention(db);
  const retention = new Map(
    accounts.map((sid) => [
      sid,
      given.retentionDays ?? recorded.get(sid) ?? DEFAULT_RETENTION_DAYS,
    ]),
  );
  const input: Options = {
    ...given,
    retention,
    retentionDays: Math.max(...retention.values()),
    useExport,
  };

  // The check for a running run and the start (or take-over) of one, in one write-locked
  // transaction: of two snapshots started at once, the second sees the first's run.
  const { runId, resumed, abandoned, takenUp } = claimingRun(db, () => {
    const abandoned: SnapshotRun[] = [];
    let running = findRunningRun(db, parentSid);
    refuseLiveRun(db, running, runner, elsewhereNow);
    // A pass's run left stopped (its process gone before it recorded its pass) is no snapshot's
    // to take up: abandoned, and the run it was made after is looked at in its place. A
    // snapshot stopped before the pass is the one `status` told the user to take up.
    while (running?.madeBy === 'reconcile') {
      finishRun(db, running.id, 'abandoned', isoSeconds(clock.now()));
      abandoned.push(running);
      running = findRunningRun(db, parentSid);
      refuseLiveRun(db, running, runner, elsewhereNow);
    }
    if (
      running !== undefined &&
      resumable(db, running.id, running.explicitWindow, accounts, input)
    ) {
      adoptRun(db, running.id, runner.pid, runner.hostname);
      return { runId: running.id, resumed: true, abandoned, takenUp: running };
    }
    if (running !== undefined) {
      finishRun(db, running.id, 'abandoned', isoSeconds(clock.now()));
      abandoned.push(running);
    }
    return {
      runId: startRun(input, accounts, created, deps),
      resumed: false,
      abandoned,
      takenUp: null,
    };
  });
  // The stopped run's own command was told to take it up: that it no longer can is said. A
  // pass's run was never a snapshot's to take up, and `reconcile` reads its span again.
  // Another machine's run is touched only as --take-over-run asked: said, with the machine.
  const elsewhere = (run: SnapshotRun) =>
    run.hostname === runner.hostname
      ? ''
      : ` (recorded by pid ${run.pid} on ${run.hostname}, another machine, taken over as --take-over-run asked: whether it still ran there could not be seen from here)`;
  if (takenUp !== null && takenUp.hostname !== runner.hostname) {
    deps.onNotice?.(`run ${runId} is taken up${elsewhere(takenUp)}.`);
  }
  for (const run of abandoned) {
    deps.onNotice?.(
      elsewhere(run) !== ''
        ? `run ${run.id}${elsewhere(run)} is abandoned: ${run.madeBy === 'reconcile' ? 'none of its span counts as read, and the next `submigrate reconcile` reads it again' : `none of its windows counts as read; run ${runId} reads its own from the start`}.`
        : run.madeBy === 'reconcile'
          ? `run ${run.id}, a reconcile pass's that stopped before it recorded its pass (pid ${run.pid}), is abandoned: no snapshot takes a pass's run up. What it read is in the ledger only if it stopped after keeping it; none of its span counts as read, and the next \`submigrate reconcile\` reads it again.`
          : `run ${run.id}, stopped part way (pid ${run.pid}), was for other accounts, another window or source, or older keyword rules than run ${runId}: it is abandoned and will not be taken up. What it read stays in the ledger, but none of its windows counts as read; run ${runId} reads its own from the start.`,
    );
  }
  if (given.retentionDays !== undefined) {
    recordToldRetention(db, runId, accounts, given.retentionDays, isoSeconds(clock.now()));
  }
  const run = getRun(db, runId)!;

  // The numbers (and their types: toll-free changes what YES means) are listed while the
  // first pages are fetched; each page waits for them only to be classified.
  const types = recordNumbers(runId, accounts, input, deps).then(() => tollFreeTypes(db));

  const slices = listSlices(db, runId);
  const days = listExportDays(db, runId);
  const progress: SnapshotProgress = {
    messagesRead: 0,
    exportMessagesRead: 0,
    pagesRead: 0,
    slicesDone: slices.filter((s) => s.status === 'done').length,
    slicesTotal: slices.length,
    daysDone: days.filter((d) => d.status === 'done').length,
    daysTotal: days.length,
    eventsAdded: 0,
  };
  deps.onProgress?.({ ...progress });
  // The last slice of each window also reads the window's final second.
  const windowEnds = new Set(listWindows(db, runId).map((w) => `${w.accountSid}|${w.windowEnd}`));

  const writer = new LedgerWriter(db, runId, clock, progress);
  // Slices under way, and more started as large ones are cut while idle slots remain.
  const inFlight = Math.max(1, input.inFlight ?? input.partitions);
  const tasks = new Set<Promise<void>>();
  const failures: unknown[] = [];
  let reading = 0;
  const track = (task: Promise<void>) => {
    const tracked: Promise<void> = task
      .catch((error: unknown) => {
        failures.push(error);
      })
      .finally(() => tasks.delete(tracked));
    tasks.add(tracked);
  };
  // Where each slice starts: the second a slice ends on is counted by the one starting there.
  const sliceStarts = new Set(slices.map((s) => `${s.accountSid}|${s.sliceStart}`));
  const context: SliceContext = {
    twilio,
    writer,
    numberTypes: types,
    progress,
    onProgress: deps.onProgress,
    ownsEnd: (slice) => !sliceStarts.has(`${slice.accountSid}|${slice.sliceEnd}`),
    splitting: {
      wanted: () => failures.length === 0 && reading < inFlight,
      split: (slice, at, recounted) => {
        sliceStarts.add(`${slice.accountSid}|${at.mid}`);
        const half = splitSlice(db, runId, slice, at, recounted);
        progress.slicesTotal += 1;
        start(half, false);
      },
    },
  };
  const start = (slice: SnapshotSlice, lastOfWindow: boolean) => {
    reading += 1;
    track(readSlice(slice, lastOfWindow, context).finally(() => (reading -= 1)));
  };
  const waitMinutes = given.exportWaitMinutes ?? DEFAULT_EXPORT_WAIT_MINUTES;
  const exportContext = {
    twilio,
    db,
    runId,
    resumed,
    clock,
    numberTypes: types,
    progress,
    onProgress: deps.onProgress,
    onNotice: deps.onNotice,
    sleep: deps.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms))),
    waitLimit: { minutes: waitMinutes, until: clock.now().getTime() + waitMinutes * 60_000 },
  };
  // The API's window and the export's days side by side: a job that takes minutes to make its
  // files does not hold up a single page.
  for (const slice of slices) {
    if (slice.status === 'pending') {
      start(slice, windowEnds.has(`${slice.accountSid}|${slice.sliceEnd}`));
    }
  }
  track(readExportDays(exportContext));
  track(types.then(() => undefined));
  while (tasks.size > 0) await Promise.all([...tasks]);
  // Whatever was read before a failure is kept: the next run goes on from there.
  writer.flush();
  if (failures.length > 0) throw failures[0];

  // Where the API showed less than its window, the days it hid come from Bulk Export.
  if (run.useExport && checkApiWindows(db, runId, run.retentionDays, new Date(run.startedAt))) {
    const all = listExportDays(db, runId);
    progress.daysTotal = all.length;
    deps.onProgress?.({ ...progress });
    await readExportDays(exportContext);
  }

  finishRun(db, runId, 'completed', isoSeconds(clock.now()));
  return {
    runId,
    resumed,
    windows: listWindows(db, runId),
    slices: listSlices(db, runId).length,
    messagesRead: progress.messagesRead,
    exportMessagesRead: progress.exportMessagesRead,
    pagesRead: progress.pagesRead,
    exportDays: listExportDays(db, runId).length,
    eventsAdded: progress.eventsAdded,
    ledger: countEvents(db),
    optedOutPairs: countCurrentOptOuts(db),
    keywords: JSON.parse(run.keywordsJson) as typeof KEYWORD_LISTS,
  };
}

/** An unfinished run is taken up again when it was asked for the same thing. */
function resumable(
  db: Db,
  runId: number,
  explicitWindow: boolean,
  accounts: readonly string[],
  input: Options,
): boolean {
  const run = getRun(db, runId)!;
  // A pass's run (killed before it recorded its pass) has nothing left to read: taken up, its
  // windows would count as read though what it read may never have reached the ledger.
  if (run.madeBy === 'reconcile') return false;
  const windows = listWindows(db, runId);
  // The parent is always among a run's accounts, though it may have no window in it (with
  // --no-export, an --until older than what its Messages API shows).
  const runAccounts = new Set([run.parentAccountSid, ...windows.map((w) => w.accountSid)]);
  const sameAccounts =
    runAccounts.size === accounts.length && accounts.every((sid) => runAccounts.has(sid));
  if (!sameAccounts) return false;
  // A run an older submigrate started classified its pages by older keyword rules: carried on,
  // it would hold their opt-outs only, and (of their version) never count as read.
  if (run.rulesVersion !== RULES_VERSION) return false;
  if (run.retentionDays !== input.retentionDays || run.useExport !== input.useExport) return false;
  const explicit = input.since !== null || input.until !== null;
  if (!explicit) return !explicitWindow;
  // A window asked to end in the future ends when the run started (chooseWindows): the same
  // `--until` given again asks for that same window.
  const startedAt = new Date(run.startedAt);
  const until = input.until === null || input.until < startedAt ? input.until : startedAt;
  return (
    explicitWindow &&
    // Per account: its windows (API, and Bulk Export before it) span exactly since … until.
    accounts.every((sid) => {
      const own = windows.filter((w) => w.accountSid === sid);
      // An account given no window (the parent's above) has none to compare.
      if (own.length === 0) return true;
      const first = own.reduce((a, w) => (w.windowStart < a ? w.windowStart : a), '~');
      const last = own.reduce((a, w) => (w.windowEnd > a ? w.windowEnd : a), '');
      return (
        (input.since === null || first === isoSeconds(input.since)) &&
        (until === null || last === isoSeconds(until))
      );
    })
  );
}

function startRun(
  input: Options,
  accounts: readonly string[],
  created: ReadonlyMap<string, Date | null>,
  deps: SnapshotDeps,
): number {
  const { db, clock, runner } = deps;
  const now = clock.now();
  const windows: NewWindow[] = [];
  const slices: NewSlice[] = [];
  const exportDays: { accountSid: string; day: string }[] = [];
  for (const accountSid of accounts) {
    let sliceIndex = 0;
    const spans = chooseWindows(accountSid, input, now, created.get(accountSid) ?? null, deps);
    const { api, older } = splitAtBoundary(
      spans,
      apiBoundary(now, input.retention.get(accountSid)!),
    );
    for (const window of api) {
      windows.push({
        accountSid,
        source: 'api',
        windowStart: isoSeconds(window.start),
        windowEnd: isoSeconds(window.end),
      });
      for (const slice of planSlices(window, input.partitions)) {
        slices.push({
          accountSid,
          sliceIndex: sliceIndex++,
          sliceStart: isoSeconds(slice.start),
          sliceEnd: isoSeconds(slice.end),
        });
      }
    }
    // Without Bulk Export the older spans are not read: coverage shows them as such.
    if (!input.useExport) continue;
    for (const window of older) {
      windows.push({
        accountSid,
        source: 'export',
        windowStart: isoSeconds(window.start),
        windowEnd: isoSeconds(window.end),
      });
      for (const day of daysBetween(window.start, window.end)) exportDays.push({ accountSid, day });
    }
  }
  return createRun(
    db,
    {
      parentAccountSid: deps.twilio.parentAccountSid,
      startedAt: isoSeconds(now),
      pid: runner.pid,
      hostname: runner.hostname,
      partitions: input.partitions,
      keywordsJson: JSON.stringify(KEYWORD_LISTS),
      explicitWindow: input.since !== null || input.until !== null,
      retentionDays: input.retentionDays,
      useExport: input.useExport,
      madeBy: input.madeBy ?? 'snapshot',
    },
    windows,
    slices,
    exportDays,
  );
}

/**
 * --since/--until if given; else every span of the account's history that no completed run
 * has read (a run with an explicit window leaves history before and after it to the next
 * plain run), each with a little overlap, and always up to now.
 */
function chooseWindows(
  accountSid: string,
  input: SnapshotInput,
  now: Date,
  created: Date | null,
  deps: SnapshotDeps,
): TimeRange[] {
  // Never past now: coverage must not claim time not yet read (the next run starts there).
  const end = input.until !== null && input.until < now ? input.until : now;
  // Recorded even for an explicit window: the coverage statement then shows what lies
  // between the start of the account's history and that window as not read.
  const start = historyStart(accountSid, created, deps);
  if (input.since !== null) return [{ start: input.since, end }];
  const covered = completedWindows(deps.db, accountSid).map((w) => ({
    start: new Date(w.windowStart),
    end: new Date(w.windowEnd),
  }));
  return windowsToRead(start, end, covered);
}

/**
 * Where the account's messages begin: when it was created, as Twilio says (an account has no
 * message from before it existed). Remembered for the coverage statement.
 */
function historyStart(accountSid: string, created: Date | null, deps: SnapshotDeps): Date {
  if (created === null) {
    // Twilio always gives date_created; without it, all of history is read.
    const known = knownHistoryStart(deps.db, accountSid);
    return known === null ? HISTORY_FLOOR : new Date(known);
  }
  const start = new Date(Math.floor(created.getTime() / 1000) * 1000);
  recordHistoryStart(
    deps.db,
    accountSid,
    isoSeconds(start),
    'account date_created',
    isoSeconds(deps.clock.now()),
  );
  return start;
}

/**
 * The check of the retention window assumed against what the API really showed: in an API
 * window that starts more than a week back (Twilio shows at least 7 days), an oldest record
 * more than a day after the start means the API may hide the beginning (a shorter retention
 * window than assumed, or simply no messages then: the two look alike). The window is narrowed
 * to what the API showed, and the days before are read from Bulk Export day files (for a quiet
 * span, a few empty days). Without Bulk Export the window assumed stands (`--no-export` trusts
 * `--retention-days`) until a run with Bulk Export checks it (`withExport` false: the window is
 * only narrowed, and that run reads the days before). The window the API showed is recorded
 * for the account when smaller than the one recorded: a later run not told `--retention-days`
 * assumes no more (a quiet span looks the same, and then a later run without Bulk Export lists
 * more as not read, never less). Answers whether days were added.
 */
function checkApiWindows(
  db: Db,
  runId: number,
  retentionDays: number,
  now: Date,
  withExport = true,
): boolean {
  const slices = listSlices(db, runId);
  const floor = now.getTime() - MIN_RETENTION_DAYS * DAY_MS;
  const lastDay = lastExportableDay(now);
  let added = false;
  for (const window of listWindows(db, runId)) {
    if (window.source !== 'api') continue;
    const start = Date.parse(window.windowStart);
    if (start >= floor || start < apiBoundary(now, retentionDays).getTime() - 1000) continue;
    let oldest: number | null = null;
    for (const slice of slices) {
      if (slice.accountSid !== window.accountSid || slice.oldestSent === null) continue;
      // The window's slices: those reading any of it. A window narrowed already (a run taken
      // up after a kill checks again) starts after its slices do; counting only those starting
      // inside it found none, and narrowed it again to the last week.
      if (slice.sliceEnd <= window.windowStart || slice.sliceStart >= window.windowEnd) continue;
      const at = Date.parse(slice.oldestSent);
      if (oldest === null || at < oldest) oldest = at;
    }
    const shown = Math.max(start, Math.min(oldest ?? now.getTime(), floor));
    if (shown - start <= DAY_MS) continue;
    const exportDays = withExport
      ? daysBetween(new Date(start), new Date(shown)).filter((day) => day <= lastDay)
      : [];
    narrowApiWindow(db, runId, {
      accountSid: window.accountSid,
      plannedStart: window.windowStart,
      apiStart: isoSeconds(new Date(shown)),
      exportWindow:
        exportDays.length === 0
          ? null
          : {
              accountSid: window.accountSid,
              source: 'export',
              windowStart: window.windowStart,
              windowEnd: isoSeconds(new Date(shown)),
            },
      exportDays,
    });
    added ||= exportDays.length > 0;
  }
  return added;
}

/**
 * The numbers each account holds now and the Messaging Service each one is in, and the
 * account's services: only an opt-in through a SID seen as a service lifts that service's
 * opt-outs (`recordServices`).
 */
async function recordNumbers(
  runId: number,
  accounts: readonly string[],
  { knownNumbers = new Map(), knownServices = new Map(), knownNumbersAt }: SnapshotInput,
  deps: SnapshotDeps,
): Promise<void> {
  const observedAt = isoSeconds(deps.clock.now());
  // The numbers given were read before this run began, and are as old as that reading.
  const givenAt =
    knownNumbersAt !== undefined && knownNumbersAt < observedAt ? knownNumbersAt : observedAt;
  // The accounts whose numbers were given, all at once (`replaceAccountsNumbers`).
  const given = accounts.filter((accountSid) => knownNumbers.has(accountSid));
  replaceAccountsNumbers(
    deps.db,
    runId,
    givenAt,
    given.map((accountSid) => ({ accountSid, numbers: knownNumbers.get(accountSid)! })),
  );
  for (const accountSid of given) {
    recordServices(deps.db, accountSid, givenAt, [
      ...(knownServices.get(accountSid) ?? []),
      ...knownNumbers
        .get(accountSid)!
        .flatMap((n) => (n.messagingServiceSid === null ? [] : [n.messagingServiceSid])),
    ]);
  }
  // Every other account listed, side by side.
  await Promise.all(
    accounts
      .filter((accountSid) => !knownNumbers.has(accountSid))
      .map((accountSid) => recordAccountNumbers(accountSid)),
  );

  async function recordAccountNumbers(accountSid: string): Promise<void> {
    const [numbers, services] = await Promise.all([
      deps.twilio.listPhoneNumbers(accountSid),
      deps.twilio.listServices(accountSid),
    ]);
    const membership = new Map<string, { sid: string; name: string }>();
    const members = await Promise.all(
      services.map((service) => deps.twilio.listServicePhoneNumbers(accountSid, service.sid)),
    );
    services.forEach((service, i) => {
      for (const member of members[i]!) {
        membership.set(member.sid, { sid: service.sid, name: service.friendlyName });
      }
    });
    const rows: NumberRow[] = numbers.map((n) => ({
      accountSid,
      numberSid: n.sid,
      phoneNumber: n.phoneNumber,
      numberType: n.type,
      messagingServiceSid: membership.get(n.sid)?.sid ?? null,
      serviceName: membership.get(n.sid)?.name ?? null,
    }));
    replaceNumbers(deps.db, runId, accountSid, observedAt, rows);
    recordServices(
      deps.db,
      accountSid,
      observedAt,
      services.map((service) => service.sid),
    );
  }
}
