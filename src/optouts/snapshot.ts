/**
 * `takeSnapshot`: rebuild the opt-out evidence from Twilio's message history into the
 * ledger. Each account's window is cut into slices read side by side through the limiter,
 * page after page (PageSize 1000, following next_page_uri); each page's evidence and the
 * slice's progress are committed together, so memory stays flat and a killed run resumes
 * after the last page it recorded. A run records its windows and keyword lists: coverage.
 */

import { isoSeconds, type Clock } from '../clock.js';
import {
  countEvents,
  currentOptOuts,
  numberTypes,
  replaceNumbers,
  type LedgerCounts,
  type NumberRow,
} from '../db/ledger.js';
import type { Db } from '../db/open.js';
import {
  adoptRun,
  createRun,
  findRunningRun,
  finishRun,
  completedWindows,
  getRun,
  knownHistoryStart,
  listSlices,
  listWindows,
  recordHistoryStart,
  type SnapshotSlice,
  type SnapshotWindow,
} from '../db/snapshot-runs.js';
import { RefusedError, UserError } from '../errors.js';
import type { TwilioPort } from '../twilio/port.js';
import { KEYWORD_LISTS } from './keywords.js';
import { LedgerWriter, readSlice, type SnapshotProgress } from './slice-reader.js';
import { planSlices, probeOldestMessage, windowsToRead, type TimeRange } from './windows.js';

export const DEFAULT_PARTITIONS = 8;
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
   * The numbers (with their services) of some accounts, read just before by the caller
   * (`plan` reads them anyway): recorded as they are instead of read again.
   */
  knownNumbers?: ReadonlyMap<string, readonly Omit<NumberRow, 'accountSid'>[]>;
}

export interface SnapshotDeps {
  twilio: TwilioPort;
  db: Db;
  clock: Clock;
  /** Who runs this snapshot, to tell a live run from a killed one. */
  runner: { pid: number; hostname: string; isAlive(pid: number): boolean };
  onProgress?(progress: SnapshotProgress): void;
}

export interface SnapshotResult {
  runId: number;
  resumed: boolean;
  windows: SnapshotWindow[];
  slices: number;
  /** Read by this invocation (a resumed run's earlier pages are not counted again). */
  messagesRead: number;
  pagesRead: number;
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
  for (const sid of input.accounts) {
    if (!/^AC[0-9a-fA-F]{32}$/.test(sid)) {
      throw new UserError(`--account ${sid}: not an Account SID (AC followed by 32 hex digits)`);
    }
  }
}

export async function takeSnapshot(
  input: SnapshotInput,
  deps: SnapshotDeps,
): Promise<SnapshotResult> {
  const { twilio, db, clock, runner } = deps;
  const parentSid = twilio.parentAccountSid;
  validateSnapshotInput(input, clock.now());
  const accounts = [parentSid, ...new Set(input.accounts.filter((sid) => sid !== parentSid))];
  for (const sid of accounts.slice(1)) {
    const account = await twilio.fetchAccount(sid);
    if (account.ownerAccountSid !== parentSid) {
      throw new UserError(`--account ${sid} is not a subaccount of ${parentSid}`);
    }
  }

  let runId: number;
  let resumed = false;
  const running = findRunningRun(db, parentSid);
  if (
    running !== undefined &&
    running.pid !== runner.pid &&
    running.hostname === runner.hostname &&
    runner.isAlive(running.pid)
  ) {
    throw new RefusedError(
      `snapshot run ${running.id} is still in progress (pid ${running.pid}); wait for it or stop it first`,
    );
  }
  if (running !== undefined && resumable(db, running.id, running.explicitWindow, accounts, input)) {
    runId = running.id;
    resumed = true;
    adoptRun(db, runId, runner.pid, runner.hostname);
  } else {
    if (running !== undefined) finishRun(db, running.id, 'abandoned', isoSeconds(clock.now()));
    runId = await startRun(input, accounts, deps);
  }

  await recordNumbers(runId, accounts, input.knownNumbers ?? new Map(), deps);

  const slices = listSlices(db, runId);
  const progress: SnapshotProgress = {
    messagesRead: 0,
    pagesRead: 0,
    slicesDone: slices.filter((s) => s.status === 'done').length,
    slicesTotal: slices.length,
    eventsAdded: 0,
  };
  deps.onProgress?.({ ...progress });
  const types = numberTypes(db);
  // The last slice of each window also reads the window's final second.
  const windowEnds = new Set(listWindows(db, runId).map((w) => `${w.accountSid}|${w.windowEnd}`));

  const writer = new LedgerWriter(db, runId, clock, progress);
  const context = {
    twilio,
    writer,
    numberTypes: types,
    progress,
    onProgress: deps.onProgress,
  };
  const outcomes = await Promise.allSettled(
    slices
      .filter((slice) => slice.status === 'pending')
      .map((slice) =>
        readSlice(slice, windowEnds.has(`${slice.accountSid}|${slice.sliceEnd}`), context),
      ),
  );
  // Whatever was read before a failure is kept: the next run goes on from there.
  writer.flush();
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure !== undefined) throw failure.reason;

  finishRun(db, runId, 'completed', isoSeconds(clock.now()));
  const run = getRun(db, runId)!;
  return {
    runId,
    resumed,
    windows: listWindows(db, runId),
    slices: slices.length,
    messagesRead: progress.messagesRead,
    pagesRead: progress.pagesRead,
    eventsAdded: progress.eventsAdded,
    ledger: countEvents(db),
    optedOutPairs: currentOptOuts(db).length,
    keywords: JSON.parse(run.keywordsJson) as typeof KEYWORD_LISTS,
  };
}

/** An unfinished run is taken up again when it was asked for the same thing. */
function resumable(
  db: Db,
  runId: number,
  explicitWindow: boolean,
  accounts: readonly string[],
  input: SnapshotInput,
): boolean {
  const windows = listWindows(db, runId);
  const runAccounts = new Set(windows.map((w) => w.accountSid));
  const sameAccounts =
    runAccounts.size === accounts.length && accounts.every((sid) => runAccounts.has(sid));
  if (!sameAccounts) return false;
  const explicit = input.since !== null || input.until !== null;
  if (!explicit) return !explicitWindow;
  return (
    explicitWindow &&
    windows.every(
      (w) =>
        (input.since === null || w.windowStart === isoSeconds(input.since)) &&
        (input.until === null || w.windowEnd === isoSeconds(input.until)),
    )
  );
}

async function startRun(
  input: SnapshotInput,
  accounts: readonly string[],
  deps: SnapshotDeps,
): Promise<number> {
  const { db, clock, runner } = deps;
  const now = clock.now();
  const windows: SnapshotWindow[] = [];
  const slices: Omit<SnapshotSlice, 'status' | 'nextPageUrl' | 'pagesRead' | 'messagesRead'>[] = [];
  for (const accountSid of accounts) {
    let sliceIndex = 0;
    for (const window of await chooseWindows(accountSid, input, now, deps)) {
      windows.push({
        accountSid,
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
    },
    windows,
    slices,
  );
}

/**
 * --since/--until if given; else every span of the account's history that no completed run
 * has read (a run with an explicit window leaves history before and after it to the next
 * plain run), each with a little overlap, and always up to now.
 */
async function chooseWindows(
  accountSid: string,
  input: SnapshotInput,
  now: Date,
  deps: SnapshotDeps,
): Promise<TimeRange[]> {
  // Never past now: coverage must not claim time not yet read (the next run starts there).
  const end = input.until !== null && input.until < now ? input.until : now;
  if (input.since !== null) return [{ start: input.since, end }];
  const start = await historyStart(accountSid, end, deps);
  const covered = completedWindows(deps.db, accountSid).map((w) => ({
    start: new Date(w.windowStart),
    end: new Date(w.windowEnd),
  }));
  return windowsToRead(start, end, covered);
}

/** Where the account's messages begin: found once by probing, then remembered. */
async function historyStart(accountSid: string, now: Date, deps: SnapshotDeps): Promise<Date> {
  const known = knownHistoryStart(deps.db, accountSid);
  if (known !== null) return new Date(known);
  const oldest = await probeOldestMessage(deps.twilio, accountSid, now);
  // An account with no message at all has no history before now: whatever comes later,
  // the next runs read on from here.
  const start = oldest ?? now;
  recordHistoryStart(
    deps.db,
    accountSid,
    isoSeconds(start),
    oldest === null ? 'probe: no messages' : 'probe',
    isoSeconds(deps.clock.now()),
  );
  return start;
}

/** The numbers each account holds now and the Messaging Service each one is in. */
async function recordNumbers(
  runId: number,
  accounts: readonly string[],
  known: NonNullable<SnapshotInput['knownNumbers']>,
  deps: SnapshotDeps,
): Promise<void> {
  const observedAt = isoSeconds(deps.clock.now());
  for (const accountSid of accounts) {
    const given = known.get(accountSid);
    if (given !== undefined) {
      replaceNumbers(
        deps.db,
        runId,
        accountSid,
        observedAt,
        given.map((n) => ({ ...n, accountSid })),
      );
      continue;
    }
    const [numbers, services] = await Promise.all([
      deps.twilio.listPhoneNumbers(accountSid),
      deps.twilio.listServices(accountSid),
    ]);
    const membership = new Map<string, { sid: string; name: string }>();
    for (const service of services) {
      for (const member of await deps.twilio.listServicePhoneNumbers(accountSid, service.sid)) {
        membership.set(member.sid, { sid: service.sid, name: service.friendlyName });
      }
    }
    const rows: NumberRow[] = numbers.map((n) => ({
      accountSid,
      numberSid: n.sid,
      phoneNumber: n.phoneNumber,
      numberType: n.type,
      messagingServiceSid: membership.get(n.sid)?.sid ?? null,
      serviceName: membership.get(n.sid)?.name ?? null,
    }));
    replaceNumbers(deps.db, runId, accountSid, observedAt, rows);
  }
}
