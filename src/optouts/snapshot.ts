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
  listNumbers,
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
  getRun,
  lastCoveredEnd,
  listSlices,
  listWindows,
  type SnapshotSlice,
  type SnapshotWindow,
} from '../db/snapshot-runs.js';
import { RefusedError, UserError } from '../errors.js';
import type { TwilioPort } from '../twilio/port.js';
import { KEYWORD_LISTS } from './keywords.js';
import { LedgerWriter, readSlice, type SnapshotProgress } from './slice-reader.js';
import {
  INCREMENTAL_OVERLAP_MS,
  planSlices,
  probeOldestMessage,
  type TimeRange,
} from './windows.js';

export const DEFAULT_PARTITIONS = 8;
export type { SnapshotProgress };

export interface SnapshotInput {
  /** Subaccounts to read besides the parent (`--account`). */
  accounts: readonly string[];
  since: Date | null;
  until: Date | null;
  partitions: number;
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

export async function takeSnapshot(
  input: SnapshotInput,
  deps: SnapshotDeps,
): Promise<SnapshotResult> {
  const { twilio, db, clock, runner } = deps;
  const parentSid = twilio.parentAccountSid;
  if (!Number.isInteger(input.partitions) || input.partitions < 1) {
    throw new UserError(`--partitions must be a whole number ≥ 1, got ${input.partitions}`);
  }
  if (input.since !== null && input.until !== null && input.since > input.until) {
    throw new UserError('--since is after --until');
  }
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

  await recordNumbers(runId, accounts, deps);

  const slices = listSlices(db, runId);
  const progress: SnapshotProgress = {
    messagesRead: 0,
    pagesRead: 0,
    slicesDone: slices.filter((s) => s.status === 'done').length,
    slicesTotal: slices.length,
    eventsAdded: 0,
  };
  deps.onProgress?.({ ...progress });
  const numberTypes = knownNumberTypes(db);
  const lastIndex = new Map<string, number>();
  for (const s of slices)
    lastIndex.set(s.accountSid, Math.max(lastIndex.get(s.accountSid) ?? 0, s.sliceIndex));

  const writer = new LedgerWriter(db, runId, clock, progress);
  const context = { twilio, writer, numberTypes, progress, onProgress: deps.onProgress };
  const outcomes = await Promise.allSettled(
    slices
      .filter((slice) => slice.status === 'pending')
      .map((slice) =>
        readSlice(slice, slice.sliceIndex === lastIndex.get(slice.accountSid), context),
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
  const sameAccounts =
    windows.length === accounts.length &&
    accounts.every((sid) => windows.some((w) => w.accountSid === sid));
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
    const window = await chooseWindow(accountSid, input, now, deps);
    windows.push({
      accountSid,
      windowStart: isoSeconds(window.start),
      windowEnd: isoSeconds(window.end),
    });
    planSlices(window, input.partitions).forEach((slice, sliceIndex) =>
      slices.push({
        accountSid,
        sliceIndex,
        sliceStart: isoSeconds(slice.start),
        sliceEnd: isoSeconds(slice.end),
      }),
    );
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

/** --since/--until if given; else on from the last completed window; else all history. */
async function chooseWindow(
  accountSid: string,
  input: SnapshotInput,
  now: Date,
  deps: SnapshotDeps,
): Promise<TimeRange> {
  // Never past now: coverage must not claim time not yet read (the next run starts there).
  const end = input.until !== null && input.until < now ? input.until : now;
  if (input.since !== null) return { start: input.since, end };
  const covered = lastCoveredEnd(deps.db, accountSid);
  if (covered !== null) {
    return {
      start: new Date(Math.min(Date.parse(covered) - INCREMENTAL_OVERLAP_MS, end.getTime())),
      end,
    };
  }
  const oldest = await probeOldestMessage(deps.twilio, accountSid, end);
  return { start: oldest ?? end, end };
}

/** The numbers each account holds now and the Messaging Service each one is in. */
async function recordNumbers(
  runId: number,
  accounts: readonly string[],
  deps: SnapshotDeps,
): Promise<void> {
  const observedAt = isoSeconds(deps.clock.now());
  for (const accountSid of accounts) {
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

function knownNumberTypes(db: Db): Map<string, string | null> {
  return new Map(listNumbers(db).map((n) => [n.phoneNumber, n.numberType]));
}
