/**
 * The mapped numbers whose transfer failed or was not run (`numbersNotMoved`), as senders: one
 * moved by hand out of the account it comes from (which is why Twilio refused its transfer)
 * sends from where it is with the STOPs said to it there forgotten. Its sends in the accounts a
 * pass reads are held to its list, as a moved number's moved on by hand are; found in such an
 * account, it is judged there rather than named `number-away`, once the pass's reading proves
 * it: every moment it may have been there read, its list whole, and nowhere else it may have
 * been on its way there (a stop-over in an account no pass reads) holding a message of it.
 */

import { CLOCK_SKEW_MS, isoSeconds } from '../clock.js';
import { ledgerHoldsOptOut } from '../db/ledger.js';
import { unmadeTransferEnds, type MovedNumber, type NumberAway } from '../db/reconcile.js';
import type { Db } from '../db/open.js';
import {
  knownSubaccounts,
  recordTransferFailedReads,
  transferFailedReads,
  type TransferFailedRead,
} from '../db/update-checks.js';
import { listsNotWhole, readCoverage } from '../optouts/export.js';
import { uncoveredSpans, type TimeRange } from '../optouts/windows.js';
import type { TwilioPort } from '../twilio/port.js';
import type { NotChecked } from './result.js';
import { readableFrom } from './spans.js';
import { checkUpdated } from './updated-check.js';

/**
 * The numbers whose transfer failed or was not run, as a pass holds their sends: to the list
 * of the account they come from as it stands at `now` (when they left it by hand is not known:
 * every opt-out said to them there counts, the safe side). Pure.
 */
export function notMovedSenders(notMoved: readonly MovedNumber[], now: Date): MovedNumber[] {
  return notMoved.map((m) => ({ ...m, movedAt: isoSeconds(now) }));
}

/**
 * Of `away`, the spans of numbers whose transfer failed or was not run (`notMoved`) found in an
 * account the pass reads (`read`): each such account with when those numbers may have come
 * (the run that was to move them began), so that its window starts no later than the first
 * moment since then that no pass read. Pure.
 */
export function notMovedIn(
  away: readonly NumberAway[],
  notMoved: readonly MovedNumber[],
  read: ReadonlySet<string>,
): Map<string, { moveBegan: string }[]> {
  const bySid = new Map(notMoved.map((m) => [m.numberSid, m]));
  const found = new Map<string, { moveBegan: string }[]>();
  for (const span of away) {
    const number = bySid.get(span.numberSid);
    if (number === undefined || !read.has(span.accountSid)) continue;
    const there = found.get(span.accountSid) ?? [];
    there.push({ moveBegan: number.moveBegan });
    found.set(span.accountSid, there);
  }
  return found;
}

/**
 * The spans of `away` a pass judges rather than names: a number whose transfer failed found in
 * an account the pass reads, each of its sends there held to its list, when
 * - the passes have read that account (`read`: the earlier passes' windows of each account and
 *   this one's) from the run that was to move it began up to `now`, counting only the windows
 *   of passes that began after Twilio refused its transfer: each of those held every send it
 *   made there to its list, found there or not (one of a submigrate before this that found it
 *   there named the span, kept for good), while a pass that began before knew nothing of it;
 * - Twilio last changed it there (`changedAt`, its listing's `date_updated`) no later than that
 *   refusal, by more than the clocks may differ: it came there by the move that made Twilio
 *   refuse the transfer, and has not moved since (a later change may be a move by hand through
 *   an account no pass reads, or a webhook edited: either way, named);
 * - its list is whole: its customer's list is (`listsNotWhole`), and a completed snapshot read
 *   the account it comes from up to when Twilio refused its transfer (it had left by then). A
 *   transfer that was not run dates nothing: the number is named.
 * Every other span is still named (`number-away`), its sends judged all the same.
 */
export function judgedAway(
  db: Db,
  {
    away,
    notMoved,
    read,
    now,
  }: {
    away: readonly NumberAway[];
    notMoved: readonly MovedNumber[];
    read: ReadonlyMap<string, readonly TimeRange[]>;
    now: Date;
  },
): Set<NumberAway> {
  const bySid = new Map(notMoved.map((m) => [m.numberSid, m]));
  // One found in the account it comes from (its plan found it elsewhere) sends there with no
  // pass holding its sends to its list: never judged there.
  const candidates = away.filter(
    (s) =>
      bySid.has(s.numberSid) &&
      read.has(s.accountSid) &&
      s.accountSid !== bySid.get(s.numberSid)!.sourceAccountSid,
  );
  if (candidates.length === 0) return new Set();
  const refused = unmadeTransferEnds(db);
  const coverage = readCoverage(db);
  const notWhole = listsNotWhole(db, coverage);
  const readUpTo = (accountSid: string): number =>
    Math.max(
      -Infinity,
      ...coverage.windows.filter((w) => w.account_sid === accountSid).map((w) => Date.parse(w.end)),
    );
  return new Set(
    candidates.filter((span) => {
      const number = bySid.get(span.numberSid)!;
      return vouchedThere(span, number, {
        refusedAt: refused.get(number.numberSid) ?? null,
        listWhole: !notWhole.has(number.customerId),
        sourceReadUpTo: readUpTo(number.sourceAccountSid),
        read: read.get(span.accountSid)!,
        now,
      });
    }),
  );
}

/**
 * Whether a pass judges `span` (a number whose transfer failed, found in an account the passes
 * read) rather than names it, as `judgedAway` says. `refusedAt`: when Twilio refused its
 * transfer, null when it was not run; `sourceReadUpTo`: how far completed snapshots read the
 * account it comes from (ms since the epoch); `read`: the passes' windows of the account it was
 * found in, this one's included. Pure.
 */
export function vouchedThere(
  span: Pick<NumberAway, 'changedAt'>,
  number: Pick<MovedNumber, 'moveBegan'>,
  {
    refusedAt,
    listWhole,
    sourceReadUpTo,
    read,
    now,
  }: {
    refusedAt: string | null;
    listWhole: boolean;
    sourceReadUpTo: number;
    read: readonly TimeRange[];
    now: Date;
  },
): boolean {
  if (refusedAt === null || !listWhole) return false;
  const at = Date.parse(refusedAt);
  if (span.changedAt === undefined || Date.parse(span.changedAt) > at + CLOCK_SKEW_MS) return false;
  if (sourceReadUpTo < at) return false;
  const since = { start: new Date(number.moveBegan), end: now };
  return (
    uncoveredSpans(
      since,
      read.filter((w) => w.end.getTime() > at),
    ).length === 0
  );
}

/**
 * Of `judged` (`judgedAway`'s spans), those that no stop-over leaves unread. Its listing's
 * `date_updated` in the account it was found in dates only its last move: from when the run
 * that was to move it began to then, it may have been moved by hand through an account no pass
 * reads (a subaccount no mapping uses), and sent there with its opt-outs forgotten. So that
 * span is read as a `number-updated` span is (updated-check.ts): the family's messages of the
 * number in every account but the one it was found in, from that run's start (less the clocks'
 * allowance) to now, those of the account it comes from only from Twilio's refusal on (before,
 * it was there, where Twilio keeps its opt-outs). None found, every account read: judged. One
 * found (in any account, one a pass reads too: the safe side), or an account that could not be
 * read or whose Messages API window does not reach back: named `number-away`, as before. A
 * vouch is kept (`transfer_failed_reads`, migration 035), by the number, the account it was
 * found in, its `date_updated` there, the run and Twilio's refusal. A later pass that finds all
 * of those the same reads the family only from when that reading was made (less the clocks'
 * allowance: a message dated then by Twilio may have been listed only after) to now, and moves
 * the vouch on when that too holds none; once a reading reached more than Twilio's longest
 * validity period past `date_updated`, none: the number has been there since, and a send of it
 * queued elsewhere before has gone out or been given up. Anything else differing (moved again,
 * a new run, a new refusal) reads it whole again. One found or unreadable keeps nothing: each
 * pass reads again (one named is kept named for good).
 */
export async function withoutStopOver(
  db: Db,
  twilio: TwilioPort,
  {
    judged,
    notMoved,
    now,
  }: {
    judged: ReadonlySet<NumberAway>;
    notMoved: readonly MovedNumber[];
    now: Date;
  },
): Promise<Set<NumberAway>> {
  if (judged.size === 0) return new Set();
  const bySid = new Map(notMoved.map((m) => [m.numberSid, m]));
  const refused = unmadeTransferEnds(db);
  const spans = [...judged];
  // Held to the account it was found in, as if moved there when Twilio refused its transfer:
  // its messages in the account it comes from count from then on. From the refusal itself, not
  // the clocks' allowance after it, as a transfer's own is read (updated-check.ts, `refused`):
  // the completed snapshot `judgedAway` asks for need have read that account no further than the
  // refusal, and a number moved back there by hand within the allowance hears STOPs and sends
  // there that no list holds. Before it, an opt-out it heard there that the ledger does not hold
  // counts too (`boundsIn`). A message of it there just after the refusal, dated by a clock ahead
  // of this machine's, names it (the safe side).
  const numbers = spans.map((span) => ({
    ...bySid.get(span.numberSid)!,
    subaccountSid: span.accountSid,
  }));
  const updated: NotChecked[] = spans.map((span, i) => ({
    accountSid: span.accountSid,
    start: isoSeconds(new Date(numbers[i]!.moveBegan)),
    end: span.changedAt!,
    reason: 'number-updated',
    customerId: span.customerId,
    phoneNumber: span.phoneNumber,
    subaccountSid: span.accountSid,
  }));
  // What an earlier pass vouched for under the same evidence: read on from when it read.
  const kept = transferFailedReads(db);
  const keyOf = (span: NumberAway, i: number) => ({
    numberSid: span.numberSid,
    accountSid: span.accountSid,
    runBegan: updated[i]!.start,
    dateUpdated: span.changedAt!,
    refusedAt: refused.get(span.numberSid)!,
  });
  const same = (a: ReturnType<typeof keyOf>, b: TransferFailedRead) =>
    a.numberSid === b.numberSid &&
    a.accountSid === b.accountSid &&
    a.runBegan === b.runBegan &&
    a.dateUpdated === b.dateUpdated &&
    a.refusedAt === b.refusedAt;
  const readOnFrom = new Map<NotChecked, number>();
  // Read up to well past the longest a send waits in Twilio's queue after the number came into
  // where it is: vouched for as it stands, not read again.
  const settled = new Set<NumberAway>();
  spans.forEach((span, i) => {
    const before = kept.find((k) => same(keyOf(span, i), k));
    if (before === undefined) return;
    const readUpTo = Date.parse(before.readUpTo);
    // Kept as read up to a moment more than the allowance after this pass's now: a clock that
    // ran ahead (or this one put back), whose reading may stand for hours no request read. It
    // stands for nothing: read whole again (the new reading takes its place).
    if (readUpTo > now.getTime() + CLOCK_SKEW_MS) return;
    if (readUpTo > Date.parse(before.dateUpdated) + MAX_VALIDITY_MS + CLOCK_SKEW_MS) {
      settled.add(span);
    } else {
      readOnFrom.set(updated[i]!, readUpTo - CLOCK_SKEW_MS);
    }
  });
  const toRead = spans.flatMap((span, i) => (settled.has(span) ? [] : [i]));
  if (toRead.length === 0) return settled;
  const { notChecked, checks } = await checkUpdated(twilio, {
    updated: toRead.map((i) => updated[i]!),
    numbers: toRead.map((i) => numbers[i]!),
    kept: [],
    readable: readableFrom(db, now),
    now,
    known: knownSubaccounts(db),
    onLedger: (sid) => ledgerHoldsOptOut(db, sid),
    readOnFrom,
    refused: new Map(spans.map((span) => [span.numberSid, refused.get(span.numberSid)!])),
  });
  const vouched = new Set(
    toRead
      .map((i) => spans[i]!)
      .filter(
        (span) =>
          !notChecked.some(
            (n) => n.phoneNumber === span.phoneNumber && n.subaccountSid === span.accountSid,
          ),
      ),
  );
  recordTransferFailedReads(
    db,
    toRead.flatMap((i) => {
      const span = spans[i]!;
      const check = checks.find(
        (c) => c.numberSid === span.numberSid && c.subaccountSid === span.accountSid,
      );
      if (!vouched.has(span) || check?.outcome !== 'vouched') return [];
      return [
        {
          ...keyOf(span, i),
          readUpTo: isoSeconds(now),
          accountsRead: check.accountsRead,
          requests: check.requests,
        },
      ];
    }),
  );
  return new Set([...settled, ...vouched]);
}

/**
 * The longest Twilio keeps a send in its queue before it gives up (a Messaging Service's
 * `validity_period`, 1–36,000 seconds; a send's `ValidityPeriod` the same).
 */
const MAX_VALIDITY_MS = 36_000_000;
