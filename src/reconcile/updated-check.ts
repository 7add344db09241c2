/**
 * A moved number Twilio says changed in its subaccount since apply last changed it
 * (`number-updated`, away-search.ts `changedSince`) may have been moved away by hand and back,
 * or only had its webhook edited in the Console: the listing cannot tell. A number is moved only
 * between the parent and its subaccounts, and while elsewhere it sent and heard messages there
 * only. So the span is read in the parent and in every other subaccount of the family (those
 * created by the span's end), with the credentials a pass reads them with: the number's messages
 * (`From` and `To` it, and its RCS and WhatsApp addresses, six listings an account) dated from
 * the span's start (to now: a send queued there in the span goes out after it); an account many
 * spans read is listed once for them all, every message in their days, matched here. When every
 * account was read and none holds one, the number was nowhere else that mattered: the span is
 * vouched for and kept, and later passes take that change as known. Otherwise it stays
 * `not checked`, with why.
 */

import pLimit from 'p-limit';

import { CLOCK_SKEW_MS, isoSeconds } from '../clock.js';
import type { MovedNumber, NumberDeparture } from '../db/reconcile.js';
import type { NumberUpdateCheck } from '../db/update-checks.js';
import { DAY_MS } from '../optouts/windows.js';
import { isListingRefused } from '../twilio/error-mapping.js';
import type { Account, TwilioPort } from '../twilio/port.js';
import { LISTINGS_AT_ONCE, vouchKey } from './away-search.js';
import type { NotChecked, UnlistedSubaccount, UpdatedCheck } from './result.js';
import {
  addressFilters,
  boundsIn,
  firstOfNumber,
  listShared,
  type Hit,
  type SharedListing,
  type SpanToRead,
} from './updated-listing.js';

/** A transfer of apply's out of an account (src/db/reconcile.ts NumberDeparture). */
export type MoveOut = Pick<NumberDeparture, 'accountSid' | 'leftAt' | 'began'> & {
  /**
   * Twilio refused it at `leftAt`: the number never left the account by it, so its messages
   * there count from `leftAt` itself, with no allowance after it for Twilio's clock (`toRead`).
   */
  refused?: boolean;
};

export interface UpdatedChecks {
  /** The spans still not checked, each with why. */
  notChecked: NotChecked[];
  /** The spans vouched for, found held elsewhere, or not vouched for, this pass: to keep. */
  checks: NumberUpdateCheck[];
  /** Requests the reads took (pages of messages, and the listing of the subaccounts). */
  requests: number;
}

/**
 * A transfer of apply's (the first apply's or a later wave's) as `toRead` dates it: answered
 * more than the clocks' allowance after it was sent (in flight when apply was killed, settled by
 * a later apply hours on; `MovedNumber.settledLate`), its `leftAt` is when it was settled, not
 * when Twilio made it, which may be any time from when it was sent: it is dated from then. Pure.
 */
function madeBy(move: MoveOut): MoveOut {
  if (move.refused === true || move.began === undefined) return move;
  return Date.parse(move.leftAt) - Date.parse(move.began) > CLOCK_SKEW_MS
    ? { ...move, leftAt: move.began }
    : move;
}

/**
 * Each number's latest change vouched for in its subaccount, by `vouchKey`. Only a vouch read
 * more than the clocks' allowance after the change counts (`vouchHolds`): one read sooner may
 * have read before a later change Twilio dates in the same second, or, its clock behind ours,
 * earlier. Pure.
 */
export function vouchedUpTo(checks: readonly NumberUpdateCheck[]): Map<string, string> {
  const upTo = new Map<string, string>();
  for (const c of checks) {
    if (c.outcome !== 'vouched' || !vouchHolds(c)) continue;
    const key = vouchKey(c.numberSid, c.subaccountSid);
    const before = upTo.get(key);
    if (before === undefined || Date.parse(c.dateUpdated) > Date.parse(before)) {
      upTo.set(key, c.dateUpdated);
    }
  }
  return upTo;
}

/**
 * Whether a span vouched for stands for every change Twilio dates up to its `dateUpdated`: the
 * pass read the family more than the clocks' allowance after that date. A change made after
 * its read is dated by Twilio no earlier than the read by Twilio's clock, which is at most the
 * allowance behind this machine's (`checkedAt`): so later than `dateUpdated` only when that is
 * more than the allowance before `checkedAt`. A number moved by hand through the parent and
 * back in the second a pass vouched for its first change, say, keeps the same `date_updated`,
 * and such a vouch would hide it. Pure.
 */
export const vouchHolds = (c: Pick<NumberUpdateCheck, 'dateUpdated' | 'checkedAt'>): boolean =>
  Date.parse(c.checkedAt) - Date.parse(c.dateUpdated) > CLOCK_SKEW_MS;

/**
 * Each number's changes a pass read the family's messages for, vouched for or not, by
 * `vouchKey`: a span up to one is named, or vouched for, already. Pure.
 */
export function checkedUpTo(checks: readonly NumberUpdateCheck[]): Map<string, string[]> {
  const upTo = new Map<string, string[]>();
  for (const c of checks) {
    const key = vouchKey(c.numberSid, c.subaccountSid);
    upTo.set(key, [...(upTo.get(key) ?? []), c.dateUpdated]);
  }
  return upTo;
}

/**
 * From how many flagged numbers to read in an account its messages are listed once for them
 * all (every message of the account in the spans' days, matched here), not six listings a
 * number: a Console edit that touched every moved number flags them all at once.
 */
export const BATCH_FROM = 4;

/**
 * Reads the family's messages for each `number-updated` span (`updated`, of the numbers in
 * `numbers`), unless a pass found one held elsewhere before (`kept`). `readable` is where each
 * account's Messages API window begins now. An account `batchFrom` spans or more read is listed
 * once for them all, up to a page for every two spans; a busier one is read a number at a time.
 */
export async function checkUpdated(
  twilio: TwilioPort,
  {
    updated,
    numbers,
    kept,
    readable,
    now,
    known = [],
    onLedger = () => false,
    readOnFrom = new Map(),
    movedOn = new Map(),
    refused = new Map(),
    stopsOnlyBefore = new Map(),
  }: {
    updated: readonly NotChecked[];
    numbers: readonly MovedNumber[];
    kept: readonly NumberUpdateCheck[];
    readable: (accountSid: string) => Date;
    now: Date;
    /** Subaccounts the database knows of: one Twilio no longer lists is read all the same. */
    known?: readonly string[];
    /** Whether the ledger holds a message as an opt-out (`boundsIn`). */
    onLedger?: (messageSid: string) => boolean;
    /**
     * Spans an earlier reading vouched for up to some moment (ms, by Twilio's clock): read only
     * from then (not-moved.ts, a number whose transfer failed judged where it was found).
     */
    readOnFrom?: ReadonlyMap<NotChecked, number>;
    /**
     * The later transfers of apply's that moved a number on (a later wave: the account each
     * took it out of, when it was first sent and when it finished), by number SID, besides the
     * one `moveBegan` and `movedAt` date (`toRead`).
     */
    movedOn?: ReadonlyMap<string, readonly MoveOut[]>;
    /**
     * When Twilio refused apply's transfer of a number, by number SID, for a number held to the
     * account it was found in as if moved there then (not-moved.ts): apply's transfer out of its
     * source is that refusal (`MoveOut.refused`), not the `movedAt` of a transfer made.
     */
    refused?: ReadonlyMap<string, string>;
    /**
     * Spans of numbers an applied plan found in place read back before that plan
     * (in-place-arrival.ts), with when it listed them (ms): a message elsewhere dated earlier
     * counts only as evidence of an opt-out (updated-listing.ts, `boundsIn`).
     */
    stopsOnlyBefore?: ReadonlyMap<NotChecked, number>;
  },
  { batchFrom = BATCH_FROM }: { batchFrom?: number } = {},
): Promise<UpdatedChecks> {
  const result: UpdatedChecks = { notChecked: [], checks: [], requests: 0 };
  let family: Promise<Account[]> | null = null;
  const limit = pLimit(LISTINGS_AT_ONCE);
  // Each span: said as it was, said again as found before, or to be read.
  const said: ({ said: NotChecked } | SpanToRead)[] = [];
  for (const span of updated) {
    const m = numbers.find(
      (n) => n.phoneNumber === span.phoneNumber && n.subaccountSid === span.subaccountSid,
    );
    if (m === undefined) {
      said.push({ said: span });
      continue;
    }
    const before = kept.find(
      (c) =>
        c.numberSid === m.numberSid &&
        c.subaccountSid === m.subaccountSid &&
        c.spanStart === span.start &&
        c.dateUpdated === span.end &&
        c.found !== null,
    );
    if (before?.found != null) {
      said.push({ said: { ...span, updatedCheck: { outcome: 'found', ...before.found } } });
      continue;
    }
    if (family === null) {
      result.requests += 1;
      family = twilio.listSubaccounts();
    }
    // Kept not vouched for by an earlier pass (some account could not be read then): this span
    // or one it covers (a later change of the number read from no later a start), which this
    // one, vouched for, would unsay (away.ts, updatedSpansKept).
    const unvouched = kept.some(
      (c) =>
        c.numberSid === m.numberSid &&
        c.subaccountSid === m.subaccountSid &&
        Date.parse(span.start) <= Date.parse(c.spanStart) &&
        Date.parse(span.end) >= Date.parse(c.dateUpdated) &&
        c.outcome === 'unvouched',
    );
    const gone = { known, unvouched, now };
    const where = elsewhere(twilio.parentAccountSid, await family, gone, m, span);
    const refusedAt = refused.get(m.numberSid);
    // A transfer whose answer the journal holds only from a later apply that settled it is
    // dated from when it was sent: Twilio made it from then on (`madeBy`).
    const moves: MoveOut[] = [
      refusedAt === undefined
        ? { accountSid: m.sourceAccountSid, began: m.moveBegan, leftAt: m.movedAt }
        : { accountSid: m.sourceAccountSid, began: m.moveBegan, leftAt: refusedAt, refused: true },
      ...(movedOn.get(m.numberSid) ?? []),
    ].map(madeBy);
    said.push(
      toRead(where, m, span, {
        now,
        onLedger,
        moves,
        readOnFrom: readOnFrom.get(span),
        stopsOnlyBefore: stopsOnlyBefore.get(span),
      }),
    );
  }
  const reading = said.filter((s): s is SpanToRead => !('said' in s));
  const beyond = new Map(reading.map((r) => [r, retentionOf(r, readable)]));
  const within = reading.filter((r) => beyond.get(r) === null);
  const listed = await listShared(twilio, limit, within, batchFrom);
  result.requests += [...listed.values()].reduce((sum, l) => sum + l.requests, 0);
  const reads = await Promise.all(
    reading.map((r) => {
      const check = beyond.get(r) ?? null;
      return check === null
        ? readSpan(twilio, limit, r, listed)
        : { check, found: null, accountsRead: 0, requests: 0, own: 0 };
    }),
  );
  let next = 0;
  for (const s of said) {
    if ('said' in s) {
      result.notChecked.push(s.said);
      continue;
    }
    const { m, span } = s;
    const read = reads[next++]!;
    result.requests += read.own;
    const check = {
      numberSid: m.numberSid,
      subaccountSid: m.subaccountSid,
      spanStart: span.start,
      dateUpdated: span.end,
      accountsRead: read.accountsRead,
      requests: read.requests,
      checkedAt: isoSeconds(now),
    };
    if (read.check === null) {
      const found = read.found;
      result.checks.push({ ...check, outcome: found === null ? 'vouched' : 'found', found });
      if (found !== null) {
        result.notChecked.push({ ...span, updatedCheck: { outcome: 'found', ...found } });
      }
    } else {
      // Kept too: once the number is no longer listed as changed (moved on by hand, touched by
      // a later apply), later passes still name the span, until one vouches for it.
      result.checks.push({ ...check, outcome: 'unvouched', found: null });
      result.notChecked.push({ ...span, updatedCheck: read.check });
    }
  }
  return result;
}

/**
 * The accounts the number may have been in during a span: the parent and the subaccounts other
 * than its own that existed by its end (a number goes only to an account that exists), in the
 * order Twilio lists them. `idle`: those suspended or closed, and unchanged since, from before
 * its start (by Twilio's clock, the allowance before this machine's): a number is transferred
 * only into an active account, and one suspended or closed sends and hears nothing. They are
 * read all the same (that rests on Twilio setting an account's `date_updated` when its status
 * changes, which its documentation does not say), but one that refuses to be read (its own
 * credentials, with an API key) or whose Messages API window does not reach back is passed
 * over rather than keeping the span not checked.
 */
function elsewhere(
  parent: string,
  subaccounts: readonly Account[],
  { known, unvouched, now }: { known: readonly string[]; unvouched: boolean; now: Date },
  m: MovedNumber,
  span: NotChecked,
): { accounts: string[]; idle: Set<string> } {
  const by = Date.parse(span.end);
  const from = Date.parse(span.start) - CLOCK_SKEW_MS;
  const isIdle = (a: Account) =>
    a.status !== 'active' && a.dateUpdated !== undefined && a.dateUpdated.getTime() < from;
  const existed = subaccounts.filter(
    (a) => (a.dateCreated === null || a.dateCreated.getTime() <= by) && a.sid !== m.subaccountSid,
  );
  // Gone: no longer listed, though the database knows it (Twilio deletes a subaccount 30 days
  // after it was closed). Read all the same for a span an earlier pass could not vouch for
  // (some account unreadable then, this one perhaps, closed since), or one that covers such a
  // span (a later change read from no later a start): its 404 keeps the span not checked,
  // naming it, rather than vouching for it now that it cannot be read at all. Else, or for a
  // span begun within the 30 days before now (it was closed before the span), its refusal is
  // passed over like that of one closed before the span: a subaccount of a customer who left
  // long ago would otherwise keep every later change of every number not checked.
  const listed = new Set(subaccounts.map((a) => a.sid));
  const gone = known.filter((sid) => sid !== parent && !listed.has(sid));
  const closedBefore = now.getTime() - CLOSED_KEPT_MS;
  return {
    // Nor the account it is listed in now, when that is another subaccount a pass reads
    // (away-search.ts, arrivedElsewhere): what it sent and heard there passes read.
    accounts: [parent, ...existed.map((a) => a.sid), ...gone].filter(
      (sid) => sid !== m.subaccountSid && sid !== span.accountSid,
    ),
    idle: new Set([
      ...existed.filter(isIdle).map((a) => a.sid),
      ...(!unvouched || closedBefore < from ? gone : []),
    ]),
  };
}

/** How long Twilio keeps a closed subaccount before deleting it (auto-deletion, the default). */
const CLOSED_KEPT_MS = 30 * DAY_MS;

/**
 * What to read for `span`, where `m` may have been (`accounts`). `moves` are apply's transfers
 * of the number out of an account: the first apply's (or its refusal), then any later wave's.
 */
function toRead(
  { accounts, idle }: { accounts: string[]; idle: Set<string> },
  m: MovedNumber,
  span: NotChecked,
  {
    now,
    onLedger,
    moves,
    readOnFrom = Number.NEGATIVE_INFINITY,
    stopsOnlyBefore = Number.NEGATIVE_INFINITY,
  }: {
    now: Date;
    onLedger: (messageSid: string) => boolean;
    moves: readonly MoveOut[];
    readOnFrom?: number | undefined;
    stopsOnlyBefore?: number | undefined;
  },
): SpanToRead {
  // By Twilio's clock the number may have come in up to the allowance before this machine's
  // clock says (`start`); `end` is Twilio's own date. Read on from where an earlier reading
  // vouched for the span up to, if it did: its days before are not asked for again, nor need
  // the Messages API still show them.
  const from = Math.max(Date.parse(span.start) - CLOCK_SKEW_MS, readOnFrom);
  const end = Date.parse(span.end);
  // A message is held to the span's start, not its end: the number has been in its subaccount
  // since `end` (the listing saw no later change), so a message of it elsewhere dated after
  // that is one queued there while it was there and sent once it had gone (Twilio dates a send
  // when it leaves its queue, up to its validity period, hours, later): a send no pass reads.
  // Up to now, by Twilio's clock up to the allowance ahead.
  const until = Math.max(end, now.getTime() + CLOCK_SKEW_MS);
  // The account apply moved it out of held it until the transfer, which Twilio made by the
  // time its answer came (`movedAt`), by Twilio's clock up to the allowance later: its messages
  // there up to then may be from before the move, as `changedSince` takes a change then for the
  // transfer's own, but it may also have gone back there by hand within that allowance and
  // heard a STOP: in that stretch only an opt-out the ledger does not hold counts
  // (updated-listing.ts, `boundsIn`). Not for a span into another subaccount (away-search.ts,
  // arrivedElsewhere): every message there then counts (the safe side). The transfer is the
  // one the span starts at: the first apply's, or a later wave's that moved it on out of
  // another customer's subaccount (whose traffic at that transfer is as ordinary). A transfer
  // Twilio refused moved nothing: the number's messages there count from the refusal itself.
  // One a later apply settled counts from when it was sent (`madeBy`; `checkUpdated`).
  const move = moves.find(
    (d) =>
      d.began !== undefined &&
      span.start === isoSeconds(new Date(d.began)) &&
      span.accountSid === m.subaccountSid,
  );
  const fromMove =
    move === undefined
      ? Number.NEGATIVE_INFINITY
      : Date.parse(move.leftAt) + (move.refused === true ? 0 : CLOCK_SKEW_MS + 1000);
  const movedOutOf = move?.accountSid ?? m.sourceAccountSid;
  // Twilio's DateSent filters may be taken by the day: the query asks for whole UTC days, and
  // one more after the last (in case "on or before" a day is taken as its midnight); the
  // messages are then held to the span here.
  const filter = {
    sentAfter: new Date(Math.floor(from / DAY_MS) * DAY_MS),
    sentBefore: new Date((Math.floor(until / DAY_MS) + 2) * DAY_MS - 1000),
  };
  const read = { m, span, accounts, idle, from, until, end, fromMove, movedOutOf, onLedger };
  return { ...read, filter, stopsOnlyBefore };
}

/** An account whose Messages API window does not reach back to the span (not idle), if any. */
function retentionOf(
  r: SpanToRead,
  readable: (accountSid: string) => Date,
): Exclude<UpdatedCheck, { outcome: 'found' }> | null {
  const beyond = r.accounts.find((sid) => !r.idle.has(sid) && readable(sid).getTime() > r.from);
  return beyond === undefined
    ? null
    : { outcome: 'retention', accountSid: beyond, readableFrom: isoSeconds(readable(beyond)) };
}

interface SpanRead {
  /** Why the span cannot be vouched for without a message found; null when read whole. */
  check: Exclude<UpdatedCheck, { outcome: 'found' }> | null;
  /** Read whole: the first message of the number found elsewhere (in `accounts` order). */
  found: { accountSid: string; messageSid: string; sentAt: string } | null;
  /** Accounts whose reading was begun, and the requests made (those of a shared listing too). */
  accountsRead: number;
  requests: number;
  /** The requests of the span's own listings. */
  own: number;
}

/**
 * The span's messages of the number in each account (those listed for many spans at once as
 * `listed` says): none found, the first found, or why not all could be read. Once one is found
 * or an account refuses, no further account is begun.
 */
async function readSpan(
  twilio: TwilioPort,
  limit: ReturnType<typeof pLimit>,
  r: SpanToRead,
  listed: ReadonlyMap<string, SharedListing>,
): Promise<SpanRead> {
  const { accounts, idle, m, filter } = r;
  let requests = 0;
  let own = 0;
  let accountsRead = 0;
  const refused: UnlistedSubaccount[] = [];
  const found = new Map<string, Hit>();
  for (const accountSid of accounts) {
    const l = listed.get(accountSid);
    if (l === undefined || l.outcome === 'too-many') continue;
    accountsRead += 1;
    requests += l.requests;
    if (l.outcome === 'read') {
      const hit = l.hits.get(r);
      if (hit !== undefined) found.set(accountSid, hit);
    } else if (!idle.has(accountSid)) {
      // Suspended or closed since before the span: it held nothing then (`elsewhere`).
      refused.push({ accountSid, status: l.status, code: l.code });
    }
  }
  let stop = found.size > 0 || refused.length > 0;
  await Promise.all(
    accounts
      .filter((sid) => (listed.get(sid)?.outcome ?? 'too-many') === 'too-many')
      .map((accountSid) =>
        limit(async () => {
          if (stop) return;
          accountsRead += 1;
          try {
            for (const f of addressFilters(m.phoneNumber)) {
              const hit = await firstOfNumber(twilio, accountSid, { ...f, ...filter }, m, {
                ...boundsIn(r, accountSid),
                end: r.end,
                onRequest: () => {
                  requests += 1;
                  own += 1;
                },
              });
              if (hit !== null) {
                found.set(accountSid, hit);
                stop = true;
                return;
              }
            }
          } catch (error) {
            if (!isListingRefused(error)) throw error;
            // Suspended or closed since before the span: it held nothing then (`elsewhere`).
            if (idle.has(accountSid)) return;
            refused.push({ accountSid, status: error.status, code: error.code });
            stop = true;
          }
        }),
      ),
  );
  if (refused.length > 0 && found.size === 0) {
    const order = new Map(accounts.map((sid, i) => [sid, i]));
    refused.sort((a, b) => order.get(a.accountSid)! - order.get(b.accountSid)!);
    return {
      check: { outcome: 'unreadable', accounts: refused },
      found: null,
      accountsRead,
      requests,
      own,
    };
  }
  const first = accounts.find((sid) => found.has(sid));
  return {
    check: null,
    found: first === undefined ? null : { accountSid: first, ...found.get(first)! },
    accountsRead,
    requests,
    own,
  };
}
