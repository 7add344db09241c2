/**
 * The stays of moved numbers in subaccounts (placements): when a number left one, what no pass
 * read while it was there, and each number as it came into the subaccount it is in now.
 */

import { CLOCK_SKEW_MS } from '../clock.js';
import type { MovedNumber, NumberStay } from '../db/reconcile.js';
import { mergeRanges, uncoveredSpans, type TimeRange } from '../optouts/windows.js';

/**
 * The spans in which a moved number was in a subaccount it has left since (a later wave moved
 * it on, or its customer's subaccount is another now) that no pass read while it was there: a
 * pass after it left holds its sends there to no list. Per subaccount, merged; a stay no later
 * transfer ended lasts until `now`. `current`: each moved number's subaccount now. Pure.
 */
export function unjudgedStays(
  stays: readonly NumberStay[],
  current: ReadonlyMap<string, string>,
  read: (accountSid: string) => readonly TimeRange[],
  now: Date,
): Map<string, TimeRange[]> {
  const unjudged = new Map<string, TimeRange[]>();
  for (const stay of stays) {
    const left = stayLeft(stay, current, now);
    if (left === null) continue;
    // A window that ended in the second it left is not counted: times are whole seconds, and
    // its pass may have begun after the number left (holding its sends there to no list).
    const before = read(stay.accountSid).filter((w) => w.end < left);
    const spans = uncoveredSpans({ start: new Date(stay.began), end: left }, before);
    const gaps = unjudged.get(stay.accountSid);
    if (gaps === undefined) unjudged.set(stay.accountSid, spans);
    else gaps.push(...spans);
  }
  return new Map(
    [...unjudged]
      .map(([accountSid, spans]) => [accountSid, mergeRanges(spans)] as const)
      .filter(([, spans]) => spans.length > 0),
  );
}

/**
 * When a moved number left the subaccount of one of its stays: as a later transfer recorded it,
 * or, a stay none ended in a subaccount it is not in now (`current`: each moved number's
 * subaccount now), `now`, or no later than a plan saw it where it is held now since
 * (`seenWhereHeld`, and the clocks' allowance: Twilio may date a send before it up to that much
 * later); null while it is still there. Ended at `now` alone, the stay's span grew with every
 * pass.
 */
export function stayLeft(
  stay: NumberStay,
  current: ReadonlyMap<string, string>,
  now: Date,
): Date | null {
  if (stay.left !== null) return new Date(stay.left);
  if (current.get(stay.numberSid) === stay.accountSid) return null;
  if (stay.seenWhereHeld === undefined) return now;
  return new Date(Math.min(now.getTime(), Date.parse(stay.seenWhereHeld) + CLOCK_SKEW_MS));
}

/** Stays by the account they were in, each with its place among them (`lostOfMark`). */
export type StaysIndex = ReadonlyMap<string, readonly (readonly [number, NumberStay])[]>;

/**
 * `stays` by account, once: `lostOfMark` scanned every stay for each cleared customer (3,000
 * customers of 60,000 stays took a second).
 */
export function indexStays(stays: readonly NumberStay[]): StaysIndex {
  const byAccount = new Map<string, (readonly [number, NumberStay])[]>();
  stays.forEach((stay, i) => {
    const there = byAccount.get(stay.accountSid);
    if (there === undefined) byAccount.set(stay.accountSid, [[i, stay]]);
    else there.push([i, stay]);
  });
  return byAccount;
}

export const isStaysIndex = (stays: readonly NumberStay[] | StaysIndex): stays is StaysIndex =>
  stays instanceof Map;

/**
 * Each of `numbers` with `moveBegan` when it came into the subaccount it is in now: the start of
 * its latest stay there (a number a later wave moved on arrived with that wave's transfer), else
 * when it began to move. Pure.
 */
export function cameInto(
  numbers: readonly MovedNumber[],
  stays: readonly NumberStay[],
): MovedNumber[] {
  // By number, once: scanned whole for each number, 30,000 numbers took 9 s.
  const staysOf = new Map<string, NumberStay[]>();
  for (const s of stays) {
    const theirs = staysOf.get(s.numberSid);
    if (theirs === undefined) staysOf.set(s.numberSid, [s]);
    else theirs.push(s);
  }
  return numbers.map((n) => ({
    ...n,
    moveBegan: (staysOf.get(n.numberSid) ?? [])
      .filter((s) => s.accountSid === n.subaccountSid)
      .reduce((a, s) => (Date.parse(s.began) > Date.parse(a) ? s.began : a), n.moveBegan),
  }));
}
