/**
 * The "not judged again" marks: customers whose sends a pass held to a list that was not whole,
 * kept until a pass reads them again over the whole list, and what of them no pass can read again.
 */

import { isoSeconds } from '../clock.js';
import type { Db } from '../db/open.js';
import {
  subaccountsMovedInto,
  type MovedNumber,
  type NeverJudgedWhole,
  type NumberStay,
} from '../db/reconcile.js';
import { previousSubaccounts } from '../db/customers.js';
import { listsNotWhole, readCoverage } from '../optouts/export.js';
import { latest } from './instants.js';
import { subaccountsNow, movedSince } from './moved.js';
import { stayLeft, type StaysIndex, indexStays, isStaysIndex } from './stays.js';

/**
 * What a pass leaves marked, judged with its own windows read (its run completed, in the same
 * transaction that records the pass): the moved customers whose lists are not whole
 * (`notWholeMoved`, marked from their first move: `newMarks`), those marked before whose sends
 * it did not read again from their mark (`notReadAgain`), the marks it lets go (`cleared`) and
 * the spans of theirs no pass can read again (`lost`, kept for good).
 */
export function judgedLists(
  db: Db,
  {
    moved,
    marks,
    windows,
    readable,
    stays,
    now,
  }: {
    moved: readonly MovedNumber[];
    marks: ReadonlyMap<string, string>;
    windows: readonly { accountSid: string; start: Date }[];
    readable: (accountSid: string) => Date;
    stays: readonly NumberStay[];
    now: Date;
  },
) {
  const movedCustomers = new Set(moved.map((m) => m.customerId));
  const current = subaccountsNow(moved);
  // The lists the sends were held to, judged with this pass's windows read: one that is not
  // whole cannot vouch for "no violation" to a person whose opt-out lies in what was not read.
  const notWholeIds = listsNotWhole(db, readCoverage(db));
  const notWholeMoved = moved.filter((m) => notWholeIds.has(m.customerId));
  // A customer held to a list that was not whole stays marked until a pass, the list whole, has
  // read its sends again from its mark (or from as far back as the Messages API shows).
  const readFrom = new Map(windows.map((w) => [w.accountSid, w.start]));
  const notReadAgain = moved.filter((m) => {
    const since = marks.get(m.customerId);
    if (since === undefined || notWholeIds.has(m.customerId)) return false;
    const from = latest(new Date(since), readable(m.subaccountSid));
    return readFrom.get(m.subaccountSid)!.getTime() > from.getTime();
  });
  const newMarks = new Map<string, string>();
  for (const customer of new Set(notWholeMoved.map((m) => m.customerId))) {
    newMarks.set(
      customer,
      isoSeconds(movedSince(notWholeMoved.filter((m) => m.customerId === customer))),
    );
  }
  // A mark is let go once its sends are read again as far as any pass can: what the Messages API
  // no longer shows, and what a number that has moved on sent where it was (no pass reads it
  // there again), were never judged against the whole list, and are kept as such for good. A
  // customer none of whose numbers is left with it has nothing more to read.
  const recordedSubaccount = previousSubaccounts(db);
  const movedInto = subaccountsMovedInto(db);
  const staysThere = indexStays(stays);
  const cleared = [...marks.keys()].filter((c) =>
    movedCustomers.has(c)
      ? !notWholeIds.has(c) && !notReadAgain.some((m) => m.customerId === c)
      : recordedSubaccount.has(c),
  );
  const lost = cleared.flatMap((c) => {
    const since = marks.get(c)!;
    const spans = lostOfMark(c, since, {
      // Every subaccount the customer's numbers were moved into: one it has since left (a later
      // plan gave it another) is read for it no more.
      subaccounts: new Set([
        ...moved.filter((m) => m.customerId === c).map((m) => m.subaccountSid),
        ...(recordedSubaccount.has(c) ? [recordedSubaccount.get(c)!] : []),
        ...(movedInto.get(c) ?? []),
      ]),
      stays: staysThere,
      current,
      readable,
      now,
    });
    // Nothing of a customer with no number left is read again: were no stay found, all of it.
    if (spans.length > 0 || movedCustomers.has(c)) return spans;
    const accountSid = recordedSubaccount.get(c)!;
    return [
      {
        customerId: c,
        accountSid,
        start: since,
        end: isoSeconds(now),
        reason: 'numbers-left' as const,
      },
    ];
  });

  return { notWholeMoved, notReadAgain, newMarks, cleared, lost };
}

/**
 * What no pass can read again of a customer's mark (its sends held to a list that was not
 * whole, from `since`), once a pass has read the rest: in each of its `subaccounts`, the part
 * older than what the Messages API shows (`readable`), and each stay there of a number that has
 * left it since (a later wave moved it on, or the customer's subaccount is another now), from
 * the later of `since` and its arrival until it left. Pure.
 */
export function lostOfMark(
  customerId: string,
  since: string,
  where: {
    subaccounts: ReadonlySet<string>;
    /** Every stay, or `indexStays` of them: built once for many customers. */
    stays: readonly NumberStay[] | StaysIndex;
    current: ReadonlyMap<string, string>;
    readable: (accountSid: string) => Date;
    now: Date;
  },
): NeverJudgedWhole[] {
  const from = new Date(since);
  const lost: NeverJudgedWhole[] = [];
  const span = (accountSid: string, start: Date, end: Date, reason: NeverJudgedWhole['reason']) =>
    lost.push({ customerId, accountSid, start: isoSeconds(start), end: isoSeconds(end), reason });
  for (const accountSid of where.subaccounts) {
    const readable = where.readable(accountSid);
    if (from < readable) span(accountSid, from, readable, 'retention');
  }
  // Only the stays in the customer's subaccounts, in the order they were given.
  let theirs: readonly NumberStay[];
  if (isStaysIndex(where.stays)) {
    const byAccount = where.stays;
    const there = [...where.subaccounts].flatMap((accountSid) => byAccount.get(accountSid) ?? []);
    if (where.subaccounts.size > 1) there.sort((a, b) => a[0] - b[0]);
    theirs = there.map(([, stay]) => stay);
  } else {
    theirs = where.stays.filter((stay) => where.subaccounts.has(stay.accountSid));
  }
  for (const stay of theirs) {
    const left = stayLeft(stay, where.current, where.now);
    if (left === null || left <= from) continue;
    span(stay.accountSid, latest(from, new Date(stay.began)), left, 'numbers-left');
  }
  return lost;
}
