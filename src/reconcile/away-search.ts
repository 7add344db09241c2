/**
 * Where a pass looks for moved numbers away from their subaccount: the parent's numbers and
 * those of each subaccount it reads, listed every pass; and, for a moved number in none of
 * them, the family's other subaccounts, listed until every such number is found, a few at a
 * time. What a subaccount would not let be listed (a suspended or closed one refuses its own
 * credentials, which an API key needs) is kept, with Twilio's status and code: a number not
 * found while one could not be listed may be there, and is named as such
 * (`number-not-found`), never as nowhere.
 */

import pLimit from 'p-limit';

import { CLOCK_SKEW_MS, isoSeconds } from '../clock.js';
import type { ApplyTouch, MovedNumber, NumberAway, NumberStay } from '../db/reconcile.js';
import { isListingRefused } from '../twilio/error-mapping.js';
import { DEFAULT_LIMITS } from '../twilio/limiter.js';
import type { PhoneNumber, TwilioPort } from '../twilio/port.js';
import { awayInParent, lastArrival, NOT_FOUND } from './away.js';
import type { NotChecked, UnlistedSubaccount } from './result.js';

/**
 * Listings under way at once: twice as many as the limiter lets requests be in flight (a pass
 * takes its defaults), so that while some listings' pages are parsed others' requests wait in
 * it, ready to go. Every request still goes through the limiter, its rate and its retries.
 */
export const LISTINGS_AT_ONCE = DEFAULT_LIMITS.concurrency * 2;

export interface AwaySearch {
  /**
   * Moved numbers found in the parent or in a subaccount no pass reads, and those in no account
   * listed while some subaccount that could hold one could not be listed (`accountSid`
   * `NOT_FOUND`): kept, each a span no pass reads.
   */
  away: NumberAway[];
  /** The subaccounts that could not be listed, with Twilio's answer for each. */
  unlisted: UnlistedSubaccount[];
  /**
   * Moved numbers found in their subaccount, but changed there since apply last did
   * (`number-updated`): Twilio dates a number's last change, and moving it away by hand and
   * back between two passes is one. Not checked from when it last came in to that change.
   */
  updated: NotChecked[];
  /** The numbers listed in each subaccount listed (in-place-arrival.ts reads their dates). */
  listed: Map<string, readonly PhoneNumber[]>;
}

/** The moved numbers away from their subaccounts, found by listing the family's numbers. */
export async function searchAway(
  twilio: TwilioPort,
  moved: readonly MovedNumber[],
  now: Date,
  stays: readonly NumberStay[],
  touched: ReadonlyMap<string, readonly ApplyTouch[]> = new Map(),
  inPlace: readonly MovedNumber[] = [],
  vouched: ReadonlyMap<string, string> = new Map(),
  notMoved: readonly MovedNumber[] = [],
  checked: ReadonlyMap<string, readonly string[]> = new Map(),
): Promise<AwaySearch> {
  const parent = twilio.parentAccountSid;
  const limit = pLimit(LISTINGS_AT_ONCE);
  // One moved by hand back into the parent sends from there, where no pass reads. One moved
  // into a subaccount no pass reads (one no apply put a number in) sends from there with its
  // opt-outs forgotten too: each subaccount the pass reads is listed (one request a page of
  // 1,000), with the parent's, and a moved number in none of them is looked for in the
  // family's other subaccounts.
  const read = [...new Set(moved.map((m) => m.subaccountSid))].filter((sid) => sid !== parent);
  // Numbers an applied plan found in place (`inPlace`) are looked for the same way, and their
  // subaccounts listed too. No pass holds their sends to a list in any account, so one found
  // out of its subaccount is away wherever it is, in a subaccount the pass reads or not.
  const placed = [...new Set(inPlace.map((m) => m.subaccountSid))].filter(
    (sid) => sid !== parent && !read.includes(sid),
  );
  // Numbers whose transfer failed or did not run (`notMoved`) are looked for too, and the
  // accounts they come from listed: found anywhere else, they were moved by hand.
  const sources = [...new Set(notMoved.map((m) => m.sourceAccountSid))].filter(
    (sid) => sid !== parent && !read.includes(sid) && !placed.includes(sid),
  );
  const listedSids = [...read, ...placed, ...sources];
  const [inParent = [], ...inListed] = await listEach(limit, [parent, ...listedSids], (sid) =>
    twilio.listPhoneNumbers(sid),
  );
  const all = [...moved, ...inPlace];
  const away = [
    ...awayInParent(all, inParent, parent, now, stays),
    ...awayFromSource(notMoved, inParent, parent, now),
    ...listedSids.flatMap((sid, i) => [
      ...awayInParent(read.includes(sid) ? inPlace : all, inListed[i] ?? [], sid, now, stays),
      ...awayFromSource(notMoved, inListed[i] ?? [], sid, now),
    ]),
  ];
  const updated = [
    ...changedSince(
      all,
      listedSids.map((sid, i) => [sid, inListed[i] ?? []] as const),
      stays,
      touched,
      vouched,
    ),
    // One found in another subaccount the pass reads may have come there through the parent.
    ...arrivedElsewhere(
      moved,
      read.map((sid) => [sid, inListed[listedSids.indexOf(sid)] ?? []] as const),
      stays,
      now,
      vouched,
      checked,
    ),
    // One whose transfer failed, found back where it comes from, may have been moved away by
    // hand and back since that run began: Twilio dates the move (`atSource`). Its span names
    // that account as where it comes from, not as its subaccount.
    ...changedSince(
      atSource(notMoved),
      [
        [parent, inParent] as const,
        ...listedSids.map((sid, i) => [sid, inListed[i] ?? []] as const),
      ],
      stays,
      touched,
      vouched,
    ).map((span) => ({ ...span, comesFrom: comesFromOf(span.accountSid, parent) })),
  ];
  const listed = new Map(listedSids.map((sid, i) => [sid, inListed[i] ?? []] as const));
  const found = new Set([inParent, ...inListed].flat().map((n) => n.phoneNumber));
  const missing = all.filter((m) => m.subaccountSid !== parent && !found.has(m.phoneNumber));
  const notMovedMissing = notMoved.filter((m) => !found.has(m.phoneNumber));
  if (missing.length === 0 && notMovedMissing.length === 0) {
    return { away, unlisted: [], updated, listed };
  }

  const skipped = new Set([parent, ...listedSids]);
  // A closed subaccount holds no numbers: closing it released them.
  const others = (await twilio.listSubaccounts()).filter(
    (a) => !skipped.has(a.sid) && a.status !== 'closed',
  );
  // Listed until every missing number is found (the listings under way then finish): a number
  // is in one account at a time, and none left to find is in a subaccount not listed yet.
  let left = [...missing, ...notMovedMissing];
  const unlisted: UnlistedSubaccount[] = [];
  const lists = await listEach(limit, others, async (account) => {
    if (left.length === 0) return [];
    const numbers = await listedOrRefused(twilio, account.sid);
    if (!Array.isArray(numbers)) {
      unlisted.push(numbers);
      return [];
    }
    const there = [
      ...awayInParent(missing, numbers, account.sid, now, stays),
      ...awayFromSource(notMovedMissing, numbers, account.sid, now),
    ];
    const foundThere = new Set(there.map((a) => a.numberSid));
    left = left.filter((m) => !foundThere.has(m.numberSid));
    return there;
  });
  away.push(...lists.flat());
  // Found nowhere listed, and one subaccount or more could not be listed: it may be there.
  // (Found nowhere with every subaccount listed, it is named by no span, as before.)
  const order = new Map(others.map((a, i) => [a.sid, i]));
  unlisted.sort((a, b) => order.get(a.accountSid)! - order.get(b.accountSid)!);
  if (unlisted.length > 0) {
    away.push(
      ...left.map((m) => ({
        numberSid: m.numberSid,
        phoneNumber: m.phoneNumber,
        customerId: m.customerId,
        subaccountSid: m.subaccountSid,
        accountSid: NOT_FOUND,
        start: notMovedMissing.includes(m)
          ? isoSeconds(new Date(m.moveBegan))
          : lastArrival(m, stays),
        end: isoSeconds(now),
      })),
    );
  }
  return { away, unlisted, updated, listed };
}

/** Which account a number whose transfer failed comes from, `accountSid`: the parent or not. */
export const comesFromOf = (accountSid: string, parent: string): 'parent' | 'subaccount' =>
  accountSid === parent ? 'parent' : 'subaccount';

/**
 * The numbers whose transfer failed or did not run (`notMoved`), held to the account they come
 * from, as `changedSince` reads them: listed there with a `date_updated` later than the run
 * that was to move them began (and than apply's last step on them), they may have been moved
 * away by hand and back, and sent from where no pass read. Pure.
 */
export function atSource(notMoved: readonly MovedNumber[]): MovedNumber[] {
  return notMoved.map((m) => ({ ...m, subaccountSid: m.sourceAccountSid }));
}

/**
 * The numbers whose transfer failed or did not run (`notMoved`, numbersNotMoved in
 * src/db/reconcile.ts) found among `listed`, the numbers of `accountSid`, when that is not the
 * account they come from: moved by hand since the run that was to move them began (its drift
 * check found them there), they send from there with the opt-outs Twilio kept where they were
 * forgotten. So too, in the account they come from, when their plan found them in another
 * (`transferFromSid`: moved by hand into it after a listing saw them where they come from), and
 * in that other one: the STOPs each heard are not kept in the other. Each is away there from
 * that run's start to `now`. Pure.
 */
export function awayFromSource(
  notMoved: readonly MovedNumber[],
  listed: readonly Pick<PhoneNumber, 'sid' | 'phoneNumber' | 'dateUpdated'>[],
  accountSid: string,
  now: Date,
): NumberAway[] {
  return notMoved.flatMap((m) => {
    // Where its plan found it, and where it carries its list from, when both are this account.
    // Moved by hand out of the one into the other before the plan, each holds opt-outs Twilio
    // does not keep in the other: found in either, it is away.
    if (m.sourceAccountSid === accountSid && (m.transferFromSid ?? accountSid) === accountSid) {
      return [];
    }
    const there = listed.find((n) => n.sid === m.numberSid || n.phoneNumber === m.phoneNumber);
    if (there === undefined) return [];
    return [
      {
        numberSid: m.numberSid,
        phoneNumber: m.phoneNumber,
        customerId: m.customerId,
        subaccountSid: m.subaccountSid,
        accountSid,
        start: isoSeconds(new Date(m.moveBegan)),
        end: isoSeconds(now),
        // When it came there, if nothing changed it since: `judgedAway` (not-moved.ts).
        ...(there.dateUpdated === undefined ? {} : { changedAt: isoSeconds(there.dateUpdated) }),
      },
    ];
  });
}

/**
 * The moved numbers listed in the subaccount they are held to whose `date_updated` is later
 * than anything the tool knows of them there (their transfer or arrival, a stay's beginning,
 * apply's last step on them), by more than Twilio's clock may run ahead of this machine's.
 * Something changed them since: a setting changed in the console, or a move by hand away and
 * back between two passes — a transfer changes `date_updated` — in which case the number sent,
 * and heard STOPs, in an account no pass read. Which it was cannot be told from the listing,
 * so it is said (`number-updated`) from when it last came in to that change, never taken for
 * "0 violations" (updated-check.ts then reads the family's messages of the span). A change
 * no later than one a pass vouched for (`vouched`, by `vouchKey`: no account of the family
 * held a message of the number up to it) is not named, and a later one is named from it. Pure.
 */
export function changedSince(
  moved: readonly MovedNumber[],
  listed: readonly (readonly [
    string,
    readonly Pick<PhoneNumber, 'sid' | 'phoneNumber' | 'dateUpdated'>[],
  ])[],
  stays: readonly NumberStay[],
  touched: ReadonlyMap<string, readonly ApplyTouch[]>,
  vouched: ReadonlyMap<string, string> = new Map(),
): NotChecked[] {
  const byAccount = new Map(listed);
  return moved.flatMap((m): NotChecked[] => {
    const there = (byAccount.get(m.subaccountSid) ?? []).find(
      (n) => n.sid === m.numberSid || n.phoneNumber === m.phoneNumber,
    );
    if (there?.dateUpdated === undefined) return [];
    const arrived = lastArrival(m, stays);
    // Apply's steps on it count only of a run begun by then (the run that brought it in): a
    // later run's (a plan made again, or the plan that first saw it there applied hours on)
    // dates its change after a move by hand away and back before it, which nothing else shows.
    const since = Math.max(Date.parse(arrived), Date.parse(m.movedAt));
    // A transfer a later apply settled (`settledLate`), the last that brought it in (the first
    // apply's, or a later wave's that moved it on: its stay's): Twilio made it from when it was
    // sent on, and a move by hand away and back before the settling, or before apply's steps
    // on the number after it, is dated no later than they are. Only its arrival is known: a
    // change Twilio dates after it is named (and read, once).
    const known = arrivedSettledLate(m, stays, arrived)
      ? Date.parse(arrived)
      : (touched.get(m.numberSid) ?? [])
          .filter((t) => Date.parse(t.runBegan) <= since)
          .reduce((k, t) => Math.max(k, Date.parse(t.at)), since);
    const changed = there.dateUpdated.getTime();
    if (!(changed > known + CLOCK_SKEW_MS)) return [];
    // Both Twilio's dates: no allowance between clocks.
    const upTo = vouched.get(vouchKey(m.numberSid, m.subaccountSid));
    if (upTo !== undefined && !(changed > Date.parse(upTo))) return [];
    return [
      {
        accountSid: m.subaccountSid,
        start: upTo !== undefined && Date.parse(upTo) > Date.parse(arrived) ? upTo : arrived,
        end: isoSeconds(there.dateUpdated),
        reason: 'number-updated',
        customerId: m.customerId,
        phoneNumber: m.phoneNumber,
        subaccountSid: m.subaccountSid,
      },
    ];
  });
}

/**
 * Whether the transfer that last brought `m` into its subaccount (at `arrived`, `lastArrival`)
 * was settled late: its first transfer (`MovedNumber.settledLate`, from `moveBegan`), or a later
 * wave's whose stay there begins then (`NumberStay.settledLate`). Pure.
 */
function arrivedSettledLate(
  m: MovedNumber,
  stays: readonly NumberStay[],
  arrived: string,
): boolean {
  if (m.settledLate === true && arrived === isoSeconds(new Date(m.moveBegan))) return true;
  return stays.some(
    (s) =>
      s.settledLate === true &&
      s.numberSid === m.numberSid &&
      s.accountSid === m.subaccountSid &&
      isoSeconds(new Date(s.began)) === arrived,
  );
}

/**
 * The moved numbers listed in another subaccount a pass reads than the one they are held to
 * (moved on by hand into another customer's subaccount, say), however soon after apply's
 * transfer Twilio dates their arrival there (apply never put them there). The pass reads their
 * sends there, and the STOPs said to them there, but not where they may have been on the way:
 * moved by hand into the parent (which no pass reads) and on from there, they heard STOPs there
 * that no list holds. So each is `number-updated` in the account it is in now,
 * from when it last came into its subaccount to its arrival there (Twilio's date), and
 * updated-check.ts reads the family's messages of the span in every other account: none, and
 * the span is vouched for. Pure.
 */
export function arrivedElsewhere(
  moved: readonly MovedNumber[],
  listed: readonly (readonly [
    string,
    readonly Pick<PhoneNumber, 'sid' | 'phoneNumber' | 'dateUpdated'>[],
  ])[],
  stays: readonly NumberStay[],
  /** When the pass listed them: the end of the span of one listed with no `date_updated`. */
  now: Date,
  vouched: ReadonlyMap<string, string> = new Map(),
  checked: ReadonlyMap<string, readonly string[]> = new Map(),
): NotChecked[] {
  return listed.flatMap(([accountSid, numbers]) =>
    moved.flatMap((m): NotChecked[] => {
      if (m.subaccountSid === accountSid) return [];
      const there = numbers.find((n) => n.sid === m.numberSid || n.phoneNumber === m.phoneNumber);
      if (there === undefined) return [];
      // Apply never put it here: whenever Twilio dates its arrival, even within the clocks'
      // allowance of apply's transfer (`changedSince`'s test), it came by hand, perhaps through
      // the parent. Listed with no date (`date_updated` missing or unreadable), it came by the
      // listing, when is not known: the span runs to the listing, its line says so.
      const arrived = lastArrival(m, stays);
      const span = {
        accountSid,
        start: arrived,
        end: isoSeconds(there.dateUpdated ?? now),
        reason: 'number-updated' as const,
        customerId: m.customerId,
        phoneNumber: m.phoneNumber,
        ...(there.dateUpdated === undefined ? { arrivalUndated: true as const } : {}),
      };
      const key = vouchKey(m.numberSid, m.subaccountSid);
      const upTo = vouched.get(key);
      if (upTo !== undefined && !(Date.parse(span.end) > Date.parse(upTo))) return [];
      // From its latest change a pass read the family for in its subaccount (a span up to it
      // is vouched for, or named already: it was back there then), else its last arrival.
      // (Not the span's own: checked by an earlier pass, it is kept under its subaccount too.)
      const before = (at: string) => Date.parse(at) < Date.parse(span.end);
      const from = [arrived, ...(checked.get(key) ?? [])]
        .filter(before)
        .reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a), span.start);
      return [{ ...span, start: from, subaccountSid: m.subaccountSid }];
    }),
  );
}

/** The key of `changedSince`'s `vouched`: a number in a subaccount. */
export const vouchKey = (numberSid: string, subaccountSid: string) =>
  `${numberSid} ${subaccountSid}`;

/**
 * `list` for each item, `limit` at a time, the answers in the items' order. Once one fails, the
 * ones not begun yet are not begun: the pass fails with the first error.
 */
async function listEach<I, T>(
  limit: ReturnType<typeof pLimit>,
  items: readonly I[],
  list: (item: I) => Promise<T[]>,
): Promise<T[][]> {
  let failed = false;
  return Promise.all(
    items.map((item) =>
      limit(async () => {
        if (failed) return [];
        try {
          return await list(item);
        } catch (error) {
          failed = true;
          throw error;
        }
      }),
    ),
  );
}

/** The subaccount's numbers, or, when Twilio refuses to list them, its status and code. */
async function listedOrRefused(
  twilio: TwilioPort,
  accountSid: string,
): Promise<PhoneNumber[] | UnlistedSubaccount> {
  try {
    return await twilio.listPhoneNumbers(accountSid);
  } catch (error) {
    if (isListingRefused(error)) {
      return { accountSid, status: error.status, code: error.code };
    }
    throw error;
  }
}
