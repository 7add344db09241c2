/**
 * What passes read and what they could not judge: the windows earlier passes read, where the
 * Messages API window begins, where a pass starts, the spans not read yet (`unread`) and those
 * none can read now (`notChecked`), as a pass and the reports say them.
 */

import { isoSeconds } from '../clock.js';
import type { Db } from '../db/open.js';
import {
  movedNumbers,
  numberStays,
  reconcileWindows,
  type MovedNumber,
  type NumberStay,
} from '../db/reconcile.js';
import { DEFAULT_RETENTION_DAYS, recordedRetention } from '../db/snapshot-runs.js';
import { RULES_VERSION } from '../optouts/keywords.js';
import {
  DAY_MS,
  INCREMENTAL_OVERLAP_MS,
  mergeRanges,
  uncoveredSpans,
  type TimeRange,
} from '../optouts/windows.js';
import type { ReconcileResult, Unread, NotChecked } from './result.js';
import { latest } from './instants.js';
import { subaccountsNow, bySubaccount, movedSince, arrivedSince } from './moved.js';
import { arrivalsBeforeSource, arrivalStays, type ArrivalStay } from './whereabouts.js';
import { unjudgedStays, cameInto } from './stays.js';
import { awaySpans } from './away.js';

/**
 * The windows earlier passes read of an account: all of them, or (`current`) only those read
 * under the current keyword rules.
 */
export function passWindows(
  db: Db,
  accountSid: string,
  which: 'all' | 'current' = 'all',
): TimeRange[] {
  return reconcileWindows(db, accountSid)
    .filter((w) => which === 'all' || w.rulesVersion >= RULES_VERSION)
    .map((w) => ({ start: new Date(w.windowStart), end: new Date(w.windowEnd) }));
}

/**
 * The parts of `target` that `readNow` (the windows read under the current keyword rules) does
 * not cover, in order, each said to be `older-rules` where a window of `readAny` (read under
 * any rules) covers it, else `skipped`. Pure.
 */
export function unreadSpans(
  target: TimeRange,
  readNow: readonly TimeRange[],
  readAny: readonly TimeRange[],
): (TimeRange & { reason: Unread['reason'] })[] {
  return uncoveredSpans(target, readNow).flatMap((span) => {
    const skipped = uncoveredSpans(span, readAny);
    return [
      ...skipped.map((s) => ({ ...s, reason: 'skipped' as const })),
      ...uncoveredSpans(span, skipped).map((s) => ({ ...s, reason: 'older-rules' as const })),
    ].sort((a, b) => a.start.getTime() - b.start.getTime());
  });
}

/**
 * Where each account's Messages API window begins at `now`: as far back as the retention last
 * given for it with --retention-days, else Twilio's 400 days.
 */
export function readableFrom(db: Db, now: Date): (accountSid: string) => Date {
  const retention = recordedRetention(db);
  return (accountSid) =>
    new Date(now.getTime() - (retention.get(accountSid) ?? DEFAULT_RETENTION_DAYS) * DAY_MS);
}

/**
 * The spans since a subaccount's `numbers` began to move, up to `end`, that no pass read under
 * the current rules (`readNow`), as `unreadSpans` says them; nothing older than the Messages
 * API shows (`readable`), which is not checked instead.
 */
export function unreadSinceMove(
  numbers: readonly MovedNumber[],
  readable: Date,
  end: Date,
  readNow: readonly TimeRange[],
  readAny: readonly TimeRange[],
): (TimeRange & { reason: Unread['reason'] })[] {
  return unreadSpans({ start: latest(readable, movedSince(numbers)), end }, readNow, readAny);
}

/**
 * Spans since a move that no pass read and none can now (`ReconcileResult.notChecked`): older
 * than the Messages API window (`readable`), or while a number was in a subaccount it has left
 * since. `read`: the windows passes read of an account; `current`: each moved number's
 * subaccount now (`subaccountsNow`).
 */
export function notCheckedSpans(
  current: ReadonlyMap<string, string>,
  bySub: ReadonlyMap<string, readonly MovedNumber[]>,
  stays: readonly NumberStay[],
  read: (accountSid: string) => readonly TimeRange[],
  readable: (accountSid: string) => Date,
  now: Date,
): NotChecked[] {
  const notChecked: NotChecked[] = [...bySub].flatMap(([accountSid, numbers]) =>
    uncoveredSpans({ start: movedSince(numbers), end: readable(accountSid) }, read(accountSid)).map(
      (span) => ({
        accountSid,
        start: isoSeconds(span.start),
        end: isoSeconds(span.end),
        reason: 'retention' as const,
      }),
    ),
  );
  // A number a later wave moved on is held to its list only in the subaccount it is in now: a
  // pass after it left skips what it sent where it was before (and, once every number has
  // left, reads that subaccount no more). What no pass read while it was there is never
  // checked either.
  // A stay a later transfer ended, a later apply moved it on; one none ended, it is held to
  // another subaccount now with no step of apply's that took it there (moved by hand).
  for (const leftBy of ['apply', 'hand'] as const) {
    const left = stays.filter((s) => (s.left !== null) === (leftBy === 'apply'));
    for (const [accountSid, spans] of unjudgedStays(left, current, read, now)) {
      for (const span of spans) {
        notChecked.push({
          accountSid,
          start: isoSeconds(span.start),
          end: isoSeconds(span.end),
          reason: 'numbers-left',
          leftBy,
        });
      }
    }
  }
  return notChecked;
}

/**
 * What the passes recorded so far leave unjudged, judged at `now` as a pass would: spans since a
 * move no pass has read yet, up to the end of the last one's read of each subaccount, or, for
 * numbers moved after it (into a subaccount no pass has read, or one a pass read before they
 * came), from their move up to `now` (`unread`), and spans none can read now
 * (`notChecked`). The reports read it once a pass has run, so that they never say "nobody was
 * texted" over a span no pass read.
 */
export function spansNotJudged(db: Db, now: Date): Pick<ReconcileResult, 'unread' | 'notChecked'> {
  const moved = movedNumbers(db);
  const bySub = bySubaccount(moved);
  const read = new Map([...bySub.keys()].map((sid) => [sid, passWindows(db, sid)]));
  const readable = readableFrom(db, now);
  const stays = numberStays(db, subaccountsNow(moved));
  // Each number as it came into its subaccount now, looked up once for all subaccounts.
  const came = bySubaccount(cameInto(moved, stays));
  const unread = [...bySub].flatMap(([accountSid, numbers]) => {
    const any = read.get(accountSid)!;
    const readNow = passWindows(db, accountSid, 'current');
    const lastRead =
      any.length === 0 ? null : new Date(Math.max(...any.map((w) => w.end.getTime())));
    // Numbers that came after the last pass read the subaccount (a later wave's, into a
    // subaccount no pass has read, or into one a pass read before they came): nothing of
    // theirs is judged, up to now. Came when moved into it: a number a later wave moved on
    // from another subaccount began to move (`moveBegan`) in the first wave, before that pass.
    const late = movedAfterRead(came.get(accountSid)!, lastRead);
    return [
      ...(lastRead === null
        ? []
        : unreadSinceMove(numbers, readable(accountSid), lastRead, readNow, any)),
      ...(late.length === 0 ? [] : unreadSinceMove(late, readable(accountSid), now, readNow, any)),
    ].map((span) => ({
      accountSid,
      start: isoSeconds(span.start),
      end: isoSeconds(span.end),
      reason: span.reason,
    }));
  });
  const notChecked = notCheckedSpans(
    subaccountsNow(moved),
    arrivedSince(bySub, arrivalsBeforeSource(db, moved)),
    stays,
    (accountSid) => read.get(accountSid) ?? passWindows(db, accountSid),
    readable,
    now,
  );
  notChecked.push(
    ...arrivalsNotChecked(
      arrivalStays(db, moved),
      (accountSid) => read.get(accountSid) ?? passWindows(db, accountSid),
      readable,
    ),
  );
  notChecked.push(...awaySpans(db, moved));
  return { unread, notChecked };
}

/**
 * Of `numbers` (each as it came into the subaccount: `cameInto`), those that came after the last
 * pass read it (`lastRead`, the end of its window: null, none has): nothing of theirs is judged.
 * One that came in the second the read ended may have come after the pass began, and is taken
 * as one that came after it: times are whole seconds, and the pass may not have read its sends
 * in that second. Pure.
 */
export function movedAfterRead<N extends Pick<MovedNumber, 'moveBegan'>>(
  numbers: readonly N[],
  lastRead: Date | null,
): N[] {
  return numbers.filter((n) => lastRead === null || new Date(n.moveBegan) >= lastRead);
}

/**
 * Where a pass starts reading a subaccount: at the first moment no earlier pass read since one
 * of its numbers began to move (`moveBegan`; less the snapshot's overlap). A snapshot or a plan may have read the
 * subaccount since, but only a pass held its sends to the lists. A subaccount an apply created
 * (`createdAt`) counts from its creation instead, so that none of its history is left unread,
 * even a span a pass with --since skipped; one that existed before has a history before the
 * move that only a snapshot reads (the coverage says so). Pure.
 */
export function passStart(
  numbers: readonly Pick<MovedNumber, 'moveBegan'>[],
  read: readonly TimeRange[],
  createdAt: Date | null,
  now: Date,
): Date {
  const unread = numbers.map((n) => {
    const moved = new Date(n.moveBegan);
    const from = createdAt !== null && createdAt < moved ? createdAt : moved;
    return uncoveredSpans({ start: from, end: now }, read)[0]?.start ?? now;
  });
  return new Date(Math.min(...unread.map((d) => d.getTime())) - INCREMENTAL_OVERLAP_MS);
}

/**
 * What of each stay a moved number had in a subaccount it reached by hand before a later
 * transfer moved it on (`arrivalStays`) no pass read (`read`: the windows passes read of an
 * account, this one's included when it reads it): older than the Messages API window
 * (`readable`), `retention`; else `numbers-left` (`leftBy` `apply`), no pass reading that
 * subaccount now (no moved number is held to it). Every window counts, whenever it ended: a pass
 * that reads the subaccount holds the number's sends there in the stay to its list. Per
 * subaccount and reason, merged. Pure.
 */
export function arrivalsNotChecked(
  arrivals: readonly ArrivalStay[],
  read: (accountSid: string) => readonly TimeRange[],
  readable: (accountSid: string) => Date,
): NotChecked[] {
  const spans = new Map<string, TimeRange[]>();
  for (const a of arrivals) {
    const unread = uncoveredSpans(
      { start: new Date(a.began), end: new Date(a.until) },
      read(a.accountSid),
    );
    const theirs = spans.get(a.accountSid);
    if (theirs === undefined) spans.set(a.accountSid, unread);
    else theirs.push(...unread);
  }
  return [...spans].flatMap(([accountSid, unread]) => {
    const from = readable(accountSid);
    return mergeRanges(unread).flatMap((span) => [
      ...(span.start < from
        ? [
            {
              accountSid,
              start: isoSeconds(span.start),
              end: isoSeconds(span.end < from ? span.end : from),
              reason: 'retention' as const,
            },
          ]
        : []),
      ...(span.end > from
        ? [
            {
              accountSid,
              start: isoSeconds(span.start > from ? span.start : from),
              end: isoSeconds(span.end),
              reason: 'numbers-left' as const,
              leftBy: 'apply' as const,
            },
          ]
        : []),
    ]);
  });
}
