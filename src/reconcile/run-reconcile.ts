/**
 * `submigrate reconcile`: each migrated subaccount's history since its numbers moved (or
 * since the last pass, with a little overlap), read through the port (GET only). Its keyword
 * messages and refusals join the ledger — a START after the move lifts a suppression from
 * then on — and every send from a moved number is held against the suppression list the
 * number carried out of the parent: a violation, blocked (refused with 21610), or neither.
 */

import { isoSeconds, type Clock } from '../clock.js';
import { insertEvents, tollFreeTypes, type LedgerEvent } from '../db/ledger.js';
import type { Db } from '../db/open.js';
import {
  movedNumbers,
  judgedNotWhole,
  markJudgedNotWhole,
  neverJudgedWhole,
  numberStays,
  optInsIn,
  pendingSends,
  recordNumbersAway,
  recordPass,
  type BlockedSend,
  type MovedNumber,
  type NumberStay,
} from '../db/reconcile.js';
import { createRun, finishRun, unrecordedPassRuns } from '../db/snapshot-runs.js';
import { UserError } from '../errors.js';
import { isPhoneNumber, splitAddress } from '../optouts/channels.js';
import { classifyMessage } from '../optouts/classify.js';
import { olderRulesNote, readCoverage } from '../optouts/export.js';
import { compareText } from '../text-order.js';
import { KEYWORD_LISTS } from '../optouts/keywords.js';
import { PageTrail } from '../twilio/page-trail.js';
import type { TwilioPort } from '../twilio/port.js';
import { findViolations, type Placement, type SentMessage } from './violations.js';
import type { ReconcileResult } from './result.js';
import { latest, earliest } from './instants.js';
import { subaccountsNow, bySubaccount, movedSince } from './moved.js';
import { awayInParent, awaySpans } from './away.js';
import { passWindows, readableFrom, unreadSinceMove, notCheckedSpans, passStart } from './spans.js';
import { judgedLists } from './marks.js';
import { judgeDue } from './judge-due.js';
import { sendersThrough } from './senders.js';
import { suppressionLists } from './suppression-lists.js';
import { historyBeginnings } from './history-beginnings.js';

export interface ReconcileInput {
  /** Read from here instead of from the move (or the last pass). */
  since: Date | null;
}

export interface ReconcileDeps {
  twilio: TwilioPort;
  db: Db;
  clock: Clock;
  /** Who runs the pass; `isAlive` tells an earlier pass's run left stopped from one judging. */
  runner: { pid: number; hostname: string; isAlive?(pid: number): boolean };
}

const PAGE_SIZE = 1000;

export async function runReconcile(
  input: ReconcileInput,
  deps: ReconcileDeps,
): Promise<ReconcileResult> {
  const { db, twilio, clock } = deps;
  const now = clock.now();
  const moved = movedToReconcile(input, db, now);
  const bySub = bySubaccount(moved);
  const { stays, away } = await numbersAway(deps, moved, now);
  const scope = await passScope(input, deps, { moved, bySub, stays, now });
  const { windows } = scope;
  const { evidence, sends, messagesRead } = await readWindows(db, twilio, windows, moved);
  // The pass is a snapshot of the subaccounts: its evidence joins the ledger, and its windows
  // are where the next pass goes on from.
  const at = isoSeconds(clock.now());
  const runId = createPassRun(input, deps, windows, now);
  const evidenceAdded = insertEvents(db, runId, evidence);
  const held = holdSends(db, { moved, bySub, stays, sends });
  const unread = unreadSince(scope, bySub, now);
  const judged = judgeSends(db, { moved, sends, unread, ...held });
  const { verdicts, stillPending } = judged;
  const blocked = blockedSends(moved, verdicts.blocked);
  const { pass, listed, abandoned } = recordPassOf(deps, {
    runId,
    at,
    moved,
    scope,
    stays,
    now,
    blocked,
    away,
    judged,
  });
  const notChecked = notCheckedAfter(db, moved, scope.notChecked);
  return {
    passId: pass.id,
    abandonedPassRuns: abandoned.map((run) => ({ id: run.id, pid: run.pid })),
    subaccounts: windows.length,
    windows: windows.map((w) => ({
      accountSid: w.accountSid,
      start: isoSeconds(w.start),
      end: isoSeconds(w.end),
    })),
    messagesRead,
    sendsChecked: verdicts.checked,
    newViolations: pass.newViolations,
    newBlocked: pass.newBlocked,
    pending: stillPending.length + judged.waiting.length,
    pendingFromEarlierPasses:
      judged.waiting.length + stillPending.filter((p) => judged.keptSids.has(p.sid)).length,
    evidenceAdded,
    notChecked,
    ...notWholeOf(listed, scope.marks),
    unread: [...unread].flatMap(([accountSid, spans]) =>
      spans.map((span) => ({
        accountSid,
        start: isoSeconds(span.start),
        end: isoSeconds(span.end),
        reason: span.reason,
      })),
    ),
  };
}

/** The moved numbers a pass holds to their lists; refused when it cannot vouch for any. */
function movedToReconcile(input: ReconcileInput, db: Db, now: Date): MovedNumber[] {
  if (input.since !== null && input.since > now) {
    throw new UserError(`--since ${isoSeconds(input.since)} is in the future`);
  }
  const moved = movedNumbers(db);
  if (moved.length === 0) {
    throw new UserError(
      'no number has been moved with this database yet: reconcile reads the subaccounts `submigrate apply` moved numbers into.',
    );
  }
  // No list, no verdict: a source account nobody read would make every send look clean.
  const movedCustomers = new Set(moved.map((m) => m.customerId));
  const neverRead = readCoverage(db).never_read.filter((w) =>
    w.customer_ids.some((c) => movedCustomers.has(c)),
  );
  if (neverRead.length > 0) {
    throw new UserError(
      `no completed snapshot has read ${neverRead.map((w) => w.account_sid).join(', ')}${olderRulesNote(db)}, where moved numbers came from (customers ${[...new Set(neverRead.flatMap((w) => w.customer_ids))].join(', ')}): there is no suppression list to hold their sends to, so reconcile cannot vouch for any. Run \`submigrate snapshot${neverRead.map((w) => ` --account ${w.account_sid}`).join('')}\` first.`,
    );
  }
  return moved;
}

/** Each moved number's stays, and those found back in the parent, moved there by hand. */
async function numbersAway(deps: ReconcileDeps, moved: readonly MovedNumber[], now: Date) {
  const { db, twilio } = deps;
  // A pass reads a moved number's sends only in the subaccount it is held to. One moved out of
  // it by hand, back into the parent, sends from the parent, where no pass reads: found here
  // (one list of the parent's numbers), it is named, never taken for "0 violations".
  const stays = numberStays(db);
  const away = awayInParent(
    moved,
    await twilio.listPhoneNumbers(twilio.parentAccountSid),
    twilio.parentAccountSid,
    now,
    stays,
  );
  return { stays, away };
}

/** Where the pass reads in each subaccount, and what no pass read there. */
type PassScope = Awaited<ReturnType<typeof passScope>>;

/**
 * The window the pass reads in each subaccount (from the move, the last pass or a mark, not
 * older than the Messages API shows), what earlier passes read, and what no pass read since a
 * move and none can now.
 */
async function passScope(
  input: ReconcileInput,
  deps: ReconcileDeps,
  {
    moved,
    bySub,
    stays,
    now,
  }: {
    moved: readonly MovedNumber[];
    bySub: ReturnType<typeof bySubaccount>;
    stays: readonly NumberStay[];
    now: Date;
  },
) {
  const { db, twilio } = deps;
  // Sends an earlier pass held to a list that was not whole are read again from then.
  const marks = judgedNotWhole(db);
  const markOf = (numbers: readonly MovedNumber[]) =>
    numbers.flatMap((n) => {
      const since = marks.get(n.customerId);
      return since === undefined ? [] : [new Date(since)];
    });
  const beginnings = await historyBeginnings(db, twilio, bySub, now);
  // The Messages API shows each account's window (as last given with --retention-days, else
  // Twilio's 400 days): a pass reads, and records as read, nothing older, which stays not read.
  const readable = readableFrom(db, now);
  // What earlier passes read. One of an older submigrate held the sends to the lists as this
  // one does, but classified the messages by older keyword rules (RULES_VERSION): what only
  // the current rules count there (a STOP with an invisible character, a send refused before a
  // sender was chosen) is not in the ledger, so, as for a snapshot, it counts as not read and
  // is read again. It still counts as read for "not checked": its sends were checked.
  const passRead = new Map([...bySub.keys()].map((sid) => [sid, passWindows(db, sid)]));
  const passReadNow = new Map(
    [...bySub.keys()].map((sid) => [sid, passWindows(db, sid, 'current')]),
  );
  const windows = [...bySub].map(([accountSid, numbers]) => ({
    accountSid,
    start: latest(
      readable(accountSid),
      input.since ??
        earliest(
          passStart(
            numbers,
            passReadNow.get(accountSid)!,
            numbers[0]!.subaccountCreatedAt === null ? null : (beginnings.get(accountSid) ?? null),
            now,
          ),
          ...markOf(numbers),
        ),
    ),
    end: now,
  }));
  // What no pass read since a move and none can now: said, never shown as "0 violations".
  const current = subaccountsNow(moved);
  const notChecked = notCheckedSpans(
    current,
    bySub,
    stays,
    (accountSid) => passRead.get(accountSid) ?? passWindows(db, accountSid),
    readable,
    now,
  );
  return { marks, readable, passRead, passReadNow, windows, notChecked };
}

/**
 * Each window's messages, read page by page: the keyword messages and refusals as evidence for
 * the ledger, and the sends from moved numbers (or through their services) to hold to lists.
 */
async function readWindows(
  db: Db,
  twilio: TwilioPort,
  windows: PassScope['windows'],
  moved: readonly MovedNumber[],
) {
  const types = tollFreeTypes(db);
  const movedPhones = new Set(moved.map((m) => m.phoneNumber));
  const evidence: LedgerEvent[] = [];
  const sends: SentMessage[] = [];
  let messagesRead = 0;
  await Promise.all(
    windows.map(async (window) => {
      // A page named again is not read again (page-trail.ts).
      const trail = new PageTrail();
      let next: string | null = null;
      do {
        const page = await twilio.readMessagesPage(
          window.accountSid,
          next === null
            ? {
                filter: { sentAfter: window.start, sentBefore: window.end },
                pageSize: PAGE_SIZE,
              }
            : { pageUrl: next },
        );
        messagesRead += page.scanned;
        for (const m of page.messages) {
          const event = classifyMessage(m, types);
          if (event !== null) evidence.push(event);
          // A send over RCS or WhatsApp is written `rcs:+1…`: it is the number's send to the
          // person the address carries, held to the list as an SMS is (the lists key by the
          // E.164 number, whatever channel the STOP came over).
          const from = splitAddress(m.from).address;
          // A send a Messaging Service refused before it chose a sender has no `from`, and one
          // from an RCS agent (`rcs:brand_agent`), a short code or a sender ID has no number:
          // each is held to the lists of the moved numbers it went through the service for.
          const sender =
            movedPhones.has(from) ||
            (from === '' && m.messagingServiceSid !== null) ||
            (from !== '' && !isPhoneNumber(from));
          if (m.direction !== 'inbound' && sender && m.dateSent !== null) {
            sends.push({
              sid: m.sid,
              accountSid: m.accountSid,
              from,
              to: splitAddress(m.to).address,
              status: m.status,
              errorCode: m.errorCode,
              messagingServiceSid: m.messagingServiceSid,
              sentAt: isoSeconds(m.dateSent),
            });
          }
        }
        next = trail.follow(page.nextPageUrl);
      } while (next !== null);
    }),
  );
  return { evidence, sends, messagesRead };
}

/** The pass's snapshot run, begun with the windows it read. */
function createPassRun(
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
function holdSends(
  db: Db,
  {
    moved,
    bySub,
    stays,
    sends,
  }: {
    moved: readonly MovedNumber[];
    bySub: ReturnType<typeof bySubaccount>;
    stays: readonly NumberStay[];
    sends: readonly SentMessage[];
  },
) {
  const lists = suppressionLists(db, moved);
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
  const found = findViolations(moved, lists, sends, optIns, sendersOf, placedIn);
  return { lists, optIns, sendersOf, found };
}

/**
 * The spans since the move that no pass has read yet, this one included, and a later one
 * still can (one a --since pass skipped, or one only an older submigrate's pass read). A send
 * after such a span is judged once it is read: a START there would lift it, and a violation
 * found once stays found.
 */
function unreadSince(scope: PassScope, bySub: ReturnType<typeof bySubaccount>, now: Date) {
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
function judgeSends(
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
function blockedSends(
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
function recordPassOf(
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
function notCheckedAfter(
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
function notWholeOf(
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
