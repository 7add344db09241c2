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
import type { MovedNumber } from '../db/reconcile.js';
import type { NumberUpdateCheck } from '../db/update-checks.js';
import { splitAddress } from '../optouts/channels.js';
import { DAY_MS } from '../optouts/windows.js';
import { isListingRefused } from '../twilio/error-mapping.js';
import { PageTrail } from '../twilio/page-trail.js';
import type { Account, Message, MessageFilter, TwilioPort } from '../twilio/port.js';
import { LISTINGS_AT_ONCE, vouchKey } from './away-search.js';
import type { NotChecked, UnlistedSubaccount, UpdatedCheck } from './result.js';

const PAGE_SIZE = 1000;

export interface UpdatedChecks {
  /** The spans still not checked, each with why. */
  notChecked: NotChecked[];
  /** The spans vouched for, found held elsewhere, or not vouched for, this pass: to keep. */
  checks: NumberUpdateCheck[];
  /** Requests the reads took (pages of messages, and the listing of the subaccounts). */
  requests: number;
}

/** Each number's latest change vouched for in its subaccount, by `vouchKey`. Pure. */
export function vouchedUpTo(checks: readonly NumberUpdateCheck[]): Map<string, string> {
  const upTo = new Map<string, string>();
  for (const c of checks) {
    if (c.outcome !== 'vouched') continue;
    const key = vouchKey(c.numberSid, c.subaccountSid);
    const before = upTo.get(key);
    if (before === undefined || Date.parse(c.dateUpdated) > Date.parse(before)) {
      upTo.set(key, c.dateUpdated);
    }
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
  }: {
    updated: readonly NotChecked[];
    numbers: readonly MovedNumber[];
    kept: readonly NumberUpdateCheck[];
    readable: (accountSid: string) => Date;
    now: Date;
    /** Subaccounts the database knows of: one Twilio no longer lists is read all the same. */
    known?: readonly string[];
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
    // Kept not vouched for by an earlier pass: some account could not be read then.
    const unvouched = kept.some(
      (c) =>
        c.numberSid === m.numberSid &&
        c.subaccountSid === m.subaccountSid &&
        c.spanStart === span.start &&
        c.dateUpdated === span.end &&
        c.outcome === 'unvouched',
    );
    const gone = { known, unvouched, now };
    const where = elsewhere(twilio.parentAccountSid, await family, gone, m, span);
    said.push(toRead(where, m, span, now));
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
  // (some account unreadable then, this one perhaps, closed since): its 404 keeps the span not
  // checked, naming it, rather than vouching for it now that it cannot be read at all. Else, or
  // for a span begun within the 30 days before now (it was closed before the span), its
  // refusal is passed over like that of one closed before the span: a subaccount of a customer
  // who left long ago would otherwise keep every later change of every number not checked.
  const listed = new Set(subaccounts.map((a) => a.sid));
  const gone = known.filter((sid) => sid !== parent && !listed.has(sid));
  const closedBefore = now.getTime() - CLOSED_KEPT_MS;
  return {
    accounts: [parent, ...existed.map((a) => a.sid), ...gone].filter(
      (sid) => sid !== m.subaccountSid,
    ),
    idle: new Set([
      ...existed.filter(isIdle).map((a) => a.sid),
      ...(!unvouched || closedBefore < from ? gone : []),
    ]),
  };
}

/** How long Twilio keeps a closed subaccount before deleting it (auto-deletion, the default). */
const CLOSED_KEPT_MS = 30 * DAY_MS;

/** A span to read: its number, the accounts it may have been in, and the bounds it is held to. */
interface SpanToRead {
  m: MovedNumber;
  span: NotChecked;
  accounts: readonly string[];
  idle: ReadonlySet<string>;
  /** From when a message counts (by Twilio's clock), and to when; the span's end. */
  from: number;
  until: number;
  end: number;
  /** In the account apply moved it out of, a message counts only from then. */
  fromMove: number;
  /** The days asked of Twilio. */
  filter: { sentAfter: Date; sentBefore: Date };
}

function toRead(
  { accounts, idle }: { accounts: string[]; idle: Set<string> },
  m: MovedNumber,
  span: NotChecked,
  now: Date,
): SpanToRead {
  // By Twilio's clock the number may have come in up to the allowance before this machine's
  // clock says (`start`); `end` is Twilio's own date.
  const from = Date.parse(span.start) - CLOCK_SKEW_MS;
  const end = Date.parse(span.end);
  // A message is held to the span's start, not its end: the number has been in its subaccount
  // since `end` (the listing saw no later change), so a message of it elsewhere dated after
  // that is one queued there while it was there and sent once it had gone (Twilio dates a send
  // when it leaves its queue, up to its validity period, hours, later): a send no pass reads.
  // Up to now, by Twilio's clock up to the allowance ahead.
  const until = Math.max(end, now.getTime() + CLOCK_SKEW_MS);
  // The account apply moved it out of held it until the transfer, which Twilio made by the
  // time its answer came (`movedAt`), by Twilio's clock up to the allowance later: its messages
  // there up to then are from before the move, as `changedSince` takes a change then for the
  // transfer's own.
  const fromMove =
    span.start === isoSeconds(new Date(m.moveBegan))
      ? Date.parse(m.movedAt) + CLOCK_SKEW_MS + 1000
      : Number.NEGATIVE_INFINITY;
  // Twilio's DateSent filters may be taken by the day: the query asks for whole UTC days, and
  // one more after the last (in case "on or before" a day is taken as its midnight); the
  // messages are then held to the span here.
  const filter = {
    sentAfter: new Date(Math.floor(from / DAY_MS) * DAY_MS),
    sentBefore: new Date((Math.floor(until / DAY_MS) + 2) * DAY_MS - 1000),
  };
  return { m, span, accounts, idle, from, until, end, fromMove, filter };
}

/** From when a message in the account counts for the span. */
const countsAfter = (r: SpanToRead, accountSid: string) =>
  accountSid === r.m.sourceAccountSid ? Math.max(r.from, r.fromMove) : r.from;

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

type Hit = { messageSid: string; sentAt: string };

/**
 * An account listed once for the spans that read it: the first message of each span's number
 * there (as its own six listings would have found it), or Twilio's refusal.
 */
type SharedListing =
  | { outcome: 'read'; hits: Map<SpanToRead, Hit>; requests: number }
  | { outcome: 'refused'; status: number; code: number | null; requests: number }
  /** More messages than a page for every two spans: each span reads it by itself. */
  | { outcome: 'too-many'; requests: number };

/**
 * Each account `batchFrom` spans or more read (`within`, none beyond a window), listed once for
 * them all: every message dated in their days, up to a page of 1,000 for every two spans (their
 * own listings would take six requests a span, each a small page: a page of 1,000 takes longer
 * to answer). An account with more messages than that in those days is `too-many` (its pages
 * read still counted): each span reads it by itself.
 */
async function listShared(
  twilio: TwilioPort,
  limit: ReturnType<typeof pLimit>,
  within: readonly SpanToRead[],
  batchFrom: number,
): Promise<Map<string, SharedListing>> {
  const spansOf = new Map<string, SpanToRead[]>();
  for (const r of within) {
    for (const sid of r.accounts) {
      const spans = spansOf.get(sid);
      if (spans === undefined) spansOf.set(sid, [r]);
      else spans.push(r);
    }
  }
  const shared = new Map<string, SharedListing>();
  await Promise.all(
    [...spansOf]
      .filter(([, spans]) => spans.length >= batchFrom)
      .map(([accountSid, spans]) =>
        limit(async () => shared.set(accountSid, await listOnce(twilio, accountSid, spans))),
      ),
  );
  return shared;
}

/** One listing of every message of the account in the spans' days, each matched to its span. */
async function listOnce(
  twilio: TwilioPort,
  accountSid: string,
  spans: readonly SpanToRead[],
): Promise<SharedListing> {
  const byPhone = new Map<string, SpanToRead[]>();
  for (const r of spans) {
    const same = byPhone.get(r.m.phoneNumber);
    if (same === undefined) byPhone.set(r.m.phoneNumber, [r]);
    else same.push(r);
  }
  const filter = {
    sentAfter: new Date(Math.min(...spans.map((r) => r.filter.sentAfter.getTime()))),
    sentBefore: new Date(Math.max(...spans.map((r) => r.filter.sentBefore.getTime()))),
  };
  // Each span's best: the listing its number's six would have found it by first (From the
  // number, To it, then its RCS and WhatsApp addresses), then the first in Twilio's order.
  const best = new Map<SpanToRead, { rank: number; hit: Hit }>();
  const trail = new PageTrail();
  let requests = 0;
  let next: string | null = null;
  try {
    do {
      if (requests >= Math.ceil(spans.length / 2)) return { outcome: 'too-many', requests };
      requests += 1;
      const page = await twilio.readMessagesPage(
        accountSid,
        next === null ? { filter, pageSize: PAGE_SIZE } : { pageUrl: next },
      );
      for (const message of page.messages) {
        const phones = new Set([
          splitAddress(message.from).address,
          splitAddress(message.to).address,
        ]);
        for (const phone of phones) {
          for (const r of byPhone.get(phone) ?? []) {
            const rank = addressFilters(phone).findIndex(
              (f) =>
                (f.from !== undefined && f.from === message.from) ||
                (f.to !== undefined && f.to === message.to),
            );
            if (rank < 0 || (best.get(r)?.rank ?? Infinity) <= rank) continue;
            const bounds = { after: countsAfter(r, accountSid), until: r.until };
            if (!isNumbers(message, phone, bounds)) continue;
            best.set(r, { rank, hit: hitOf(message, r.end) });
          }
        }
      }
      next = trail.follow(page.nextPageUrl);
    } while (next !== null);
  } catch (error) {
    if (!isListingRefused(error)) throw error;
    return { outcome: 'refused', status: error.status, code: error.code, requests };
  }
  return { outcome: 'read', hits: new Map([...best].map(([r, b]) => [r, b.hit])), requests };
}

const hitOf = (message: Message, end: number): Hit => ({
  messageSid: message.sid,
  sentAt: message.dateSent === null ? isoSeconds(new Date(end)) : isoSeconds(message.dateSent),
});

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
                after: countsAfter(r, accountSid),
                until: r.until,
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

/**
 * The first message in the account's listing that the number sent (`from` it, not inbound) or
 * heard (`to` it, inbound) in the span: a message to the number sent from the account, or one
 * it sent that the account received, is the account's, not the number's there.
 */
async function firstOfNumber(
  twilio: TwilioPort,
  accountSid: string,
  filter: MessageFilter,
  m: MovedNumber,
  bounds: { after: number; until: number; end: number; onRequest: () => void },
): Promise<{ messageSid: string; sentAt: string } | null> {
  const trail = new PageTrail();
  let next: string | null = null;
  do {
    bounds.onRequest();
    const page = await twilio.readMessagesPage(
      accountSid,
      next === null ? { filter, pageSize: PAGE_SIZE } : { pageUrl: next },
    );
    const hit = page.messages.find((message) => isNumbers(message, m.phoneNumber, bounds));
    if (hit !== undefined) {
      return hitOf(hit, bounds.end);
    }
    next = trail.follow(page.nextPageUrl);
  } while (next !== null);
  return null;
}

/**
 * The channels whose addresses carry the number (`rcs:+1…`, `whatsapp:+1…`), besides its own.
 * Twilio's `From` and `To` filters match an address exactly, so `From=+1…` lists none of its
 * RCS or WhatsApp messages: an RCS STOP it heard elsewhere (an SMS opt-out there) or a
 * WhatsApp send it made there would be missed, and the span vouched for over them.
 */
const CHANNELS = ['', 'rcs:', 'whatsapp:'] as const;

/** The listings of an account for the number: `From` and `To` each of its addresses. */
function addressFilters(phone: string): MessageFilter[] {
  return CHANNELS.flatMap((channel) => [{ from: channel + phone }, { to: channel + phone }]);
}

/**
 * A message the number sent or heard, dated from the span's start to now (undated: taken as in
 * it).
 */
function isNumbers(
  message: Message,
  phone: string,
  { after, until }: { after: number; until: number },
): boolean {
  // An address over a channel (`rcs:+1…`) is the number it carries.
  const of = (address: string) => splitAddress(address).address === phone;
  const its = message.direction === 'inbound' ? of(message.to) : of(message.from);
  if (!its) return false;
  if (message.dateSent === null) return true;
  const at = message.dateSent.getTime();
  return at >= after && at <= until;
}
