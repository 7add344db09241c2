/**
 * A reconcile pass's verdicts and record: its run, the sends held to their lists and judged,
 * and the one transaction that records the pass, with what it could not check.
 */

import { isoSeconds } from '../clock.js';
import type { Db } from '../db/open.js';
import {
  markJudgedNotWhole,
  neverJudgedWhole,
  optInsIn,
  pendingSends,
  recordNumbersAway,
  recordPass,
  type BlockedSend,
  type MovedNumber,
  type NumberStay,
} from '../db/reconcile.js';
import { createRun, finishRun, unrecordedPassRuns } from '../db/snapshot-runs.js';
import { compareText } from '../text-order.js';
import { KEYWORD_LISTS } from '../optouts/keywords.js';
import { findViolations, type Placement, type SentMessage } from './violations.js';
import type { ReconcileResult } from './result.js';
import { bySubaccount, movedSince } from './moved.js';
import { awayInParent, awaySpans } from './away.js';
import { unreadSinceMove } from './spans.js';
import { judgedLists } from './marks.js';
import type { ArrivalStay } from './whereabouts.js';
import { judgeDue } from './judge-due.js';
import { sendersThrough } from './senders.js';
import { suppressionLists } from './suppression-lists.js';
import type { ReconcileInput, ReconcileDeps } from './run-reconcile.js';
import type { PassScope } from './pass-read.js';

/** The pass's snapshot run, begun with the windows it read. */
export function createPassRun(
  input: ReconcileInput,
  deps: ReconcileDeps,
  windows: PassScope['windows'],
  now: Date,
): number {
  const { db, twilio } = deps;
  return createRun(
    db,
    {
      parentAccountSid: twilio.parentAccountSid,
      startedAt: isoSeconds(now),
      pid: deps.runner.pid,
      hostname: deps.runner.hostname,
      partitions: 1,
      keywordsJson: JSON.stringify(KEYWORD_LISTS),
      explicitWindow: input.since !== null,
      madeBy: 'reconcile',
    },
    windows.map((w) => ({
      accountSid: w.accountSid,
      source: 'api' as const,
      windowStart: isoSeconds(w.start),
      windowEnd: isoSeconds(w.end),
    })),
    [],
  );
}

/** The sends read, held to the lists of the numbers they went from (the ledger as it is now). */
export function holdSends(
  db: Db,
  {
    moved,
    bySub,
    stays,
    sends,
    senders = moved,
    arrivals = [],
  }: {
    moved: readonly MovedNumber[];
    bySub: ReturnType<typeof bySubaccount>;
    stays: readonly NumberStay[];
    sends: readonly SentMessage[];
    /** Stays in subaccounts numbers reached by hand before a later transfer (`arrivalStays`). */
    arrivals?: readonly ArrivalStay[];
    /**
     * The numbers whose sends are held to their lists: the moved numbers, and those whose
     * transfer failed or was not run (`notMovedSenders`). Not given: the moved numbers.
     */
    senders?: readonly MovedNumber[];
  },
) {
  const lists = suppressionLists(db, senders);
  const optIns = optInsIn(db, [...bySub.keys()]);
  const sendersOf = sendersThrough(db, moved);
  // A moved number sending from an account no transfer put it in, or one a later transfer took
  // it out of before the send, was moved there by hand (with no plan since that saw it): its
  // sends there are still held to its list.
  const placedIn = new Map<string, Placement[]>();
  for (const stay of stays) {
    const placed = placedIn.get(stay.numberSid) ?? [];
    placed.push({ accountSid: stay.accountSid, began: stay.began, left: stay.left });
    placedIn.set(stay.numberSid, placed);
  }
  const arrivedIn = new Map<string, ArrivalStay[]>();
  for (const a of arrivals) arrivedIn.set(a.numberSid, [...(arrivedIn.get(a.numberSid) ?? []), a]);
  const found = findViolations(senders, lists, sends, optIns, sendersOf, placedIn, arrivedIn);
  return { lists, optIns, sendersOf, found };
}

/**
 * The spans since the move that no pass has read yet, this one included, and a later one
 * still can (one a --since pass skipped, or one only an older submigrate's pass read). A send
 * after such a span is judged once it is read: a START there would lift it, and a violation
 * found once stays found.
 */
export function unreadSince(scope: PassScope, bySub: ReturnType<typeof bySubaccount>, now: Date) {
  const { windows, readable, passReadNow, passRead } = scope;
  return new Map(
    windows.map((w) => [
      w.accountSid,
      unreadSinceMove(
        bySub.get(w.accountSid)!,
        readable(w.accountSid),
        now,
        [...passReadNow.get(w.accountSid)!, w],
        passRead.get(w.accountSid)!,
      ),
    ]),
  );
}

/**
 * The pass's verdicts: what it found, but for sends after a span not read yet (still pending),
 * and the sends earlier passes left pending that can be judged now (due) or still wait.
 */
export function judgeSends(
  db: Db,
  {
    moved,
    sends,
    unread,
    lists,
    optIns,
    sendersOf,
    found,
  }: {
    moved: readonly MovedNumber[];
    sends: readonly SentMessage[];
    unread: ReturnType<typeof unreadSince>;
  } & ReturnType<typeof holdSends>,
) {
  const afterUnread = (send: { accountSid: string; sentAt: string }) =>
    (unread.get(send.accountSid) ?? []).some((span) => span.start < new Date(send.sentAt));
  const judged = found.violations.filter((v) => !afterUnread(v));
  // A send an earlier pass left pending is judged by the pass that reads the span before it,
  // which reads the send again. When that span fell out of the Messages API window first (not
  // checked now), no pass ever will, nor read the send: it is judged from what that pass kept,
  // with what the ledger knows, rather than dropped from every list.
  const readNow = new Set(sends.map((s) => s.sid));
  const kept = pendingSends(db);
  const due = kept.filter((p) => !readNow.has(p.sid) && !afterUnread(p));
  const dueSids = new Set(due.map((p) => p.sid));
  // A later wave may have moved the number on, out of the account it sent from: no pass reads
  // that account for it again, and the list the number is held to now is not the one the send
  // broke. Such a send is judged from what was kept with it, not dropped as another account's.
  const late = judgeDue(due, {
    moved,
    lists,
    optIns,
    sendersOf,
    optInsOf: (accountSid) => optInsIn(db, [accountSid]),
  });
  const verdicts = { ...found, violations: [...judged, ...late] };
  // Kept by an earlier pass, not read by this one and not yet judgeable: they still wait, and
  // are counted as pending with the ones this pass found, so "pending: 0" means none waits.
  const waiting = kept.filter((p) => !readNow.has(p.sid) && !dueSids.has(p.sid));
  const keptSids = new Set(kept.map((p) => p.sid));
  const sentBy = new Map(sends.map((s) => [s.sid, s]));
  const stillPending = found.violations
    .filter((v) => afterUnread(v))
    .map((v) => ({
      ...sentBy.get(v.violatingMessageSid)!,
      customerId: v.customerId,
      stopMessageSid: v.stopMessageSid,
      optedOutAt: v.optedOutAt,
    }));
  const settled = kept.filter((p) => readNow.has(p.sid) || dueSids.has(p.sid)).map((p) => p.sid);
  return { verdicts, waiting, keptSids, stillPending, settled };
}

/** The sends Twilio refused, each with the customer whose list refused it. */
export function blockedSends(
  moved: readonly MovedNumber[],
  refused: ReturnType<typeof judgeSends>['verdicts']['blocked'],
): BlockedSend[] {
  const customerOf = new Map(moved.map((m) => [m.phoneNumber, m.customerId]));
  // A send with no sender is the customer's whose subaccount it was made in.
  const customerIn = new Map(moved.map((m) => [m.subaccountSid, m.customerId]));
  return refused.map((s) => ({
    messageSid: s.sid,
    recipient: s.to,
    senderNumber: s.from,
    customerId: customerOf.get(s.from) ?? customerIn.get(s.accountSid)!,
    sentAt: s.sentAt,
    accountSid: s.accountSid,
  }));
}

/**
 * The run finished, the pass and the customers it held to lists that were not whole, in one
 * transaction: a run completed with no pass recorded (the process killed between them) is a
 * reconcile run that `status` shows as a snapshot of the parent's history.
 */
export function recordPassOf(
  deps: ReconcileDeps,
  {
    runId,
    at,
    moved,
    scope,
    stays,
    now,
    blocked,
    away,
    judged,
  }: {
    runId: number;
    at: string;
    moved: readonly MovedNumber[];
    scope: PassScope;
    stays: readonly NumberStay[];
    now: Date;
    blocked: readonly BlockedSend[];
    away: ReturnType<typeof awayInParent>;
    judged: ReturnType<typeof judgeSends>;
  },
) {
  const { db, twilio } = deps;
  const { marks, windows, readable } = scope;
  const { verdicts, stillPending } = judged;
  return db.transaction(() => {
    finishRun(db, runId, 'completed', at);
    // An earlier pass's run left stopped before its pass was recorded (its process gone, on
    // this machine) is taken up by nothing: abandoned here, not left `running` until a
    // snapshot abandons it. One on another machine, or still judging, is left as it is.
    const { isAlive } = deps.runner;
    const abandoned = unrecordedPassRuns(db, twilio.parentAccountSid).filter(
      (run) =>
        run.id !== runId &&
        run.hostname === deps.runner.hostname &&
        isAlive !== undefined &&
        !isAlive(run.pid),
    );
    for (const run of abandoned) finishRun(db, run.id, 'abandoned', at);
    const listed = judgedLists(db, { moved, marks, windows, readable, stays, now });
    const recorded = recordPass(
      db,
      { snapshotRunId: runId, finishedAt: at, sendsChecked: verdicts.checked },
      verdicts.violations,
      blocked,
      {
        keep: stillPending,
        settled: judged.settled,
      },
    );
    markJudgedNotWhole(db, listed.newMarks, listed.cleared, listed.lost);
    recordNumbersAway(db, away);
    return { pass: recorded, listed, abandoned };
  })();
}

/** What no pass read since a move, with the numbers away and the spans never judged whole. */
export function notCheckedAfter(
  db: Db,
  moved: readonly MovedNumber[],
  notChecked: PassScope['notChecked'],
): PassScope['notChecked'] {
  notChecked.push(...awaySpans(db, moved));
  for (const span of neverJudgedWhole(db)) {
    notChecked.push({
      accountSid: span.accountSid,
      start: span.start,
      end: span.end,
      reason: span.reason === 'retention' ? 'not-whole-retention' : 'not-whole-numbers-left',
      customerId: span.customerId,
    });
  }
  return notChecked;
}

/** The customers whose sends were held to lists not whole, and those no pass read again. */
export function notWholeOf(
  listed: ReturnType<typeof recordPassOf>['listed'],
  marks: PassScope['marks'],
): Pick<ReconcileResult, 'notWhole' | 'notJudgedAgain'> {
  return {
    notWhole:
      listed.notWholeMoved.length === 0
        ? null
        : {
            customerIds: [...new Set(listed.notWholeMoved.map((m) => m.customerId))].sort(
              compareText,
            ),
            since: isoSeconds(movedSince(listed.notWholeMoved)),
          },
    notJudgedAgain:
      listed.notReadAgain.length === 0
        ? null
        : {
            customerIds: [...new Set(listed.notReadAgain.map((m) => m.customerId))].sort(
              compareText,
            ),
            since: isoSeconds(
              new Date(
                Math.min(...listed.notReadAgain.map((m) => Date.parse(marks.get(m.customerId)!))),
              ),
            ),
          },
  };
}
