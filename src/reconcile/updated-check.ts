/**
 * A moved number Twilio says changed in its subaccount since apply last changed it
 * (`number-updated`, away-search.ts `changedSince`) may have been moved away by hand and back,
 * or only had its webhook edited in the Console: the listing cannot tell. A number is moved only
 * between the parent and its subaccounts, and while elsewhere it sent and heard messages there
 * only. So the span is read in the parent and in every other subaccount of the family (those
 * created by the span's end), with the credentials a pass reads them with: the number's messages
 * (`From` and `To` it, and its RCS and WhatsApp addresses, six listings an account) dated from
 * the span's start (to now: a send queued there in the span goes out after it). When every
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
 * Reads the family's messages for each `number-updated` span (`updated`, of the numbers in
 * `numbers`), unless a pass found one held elsewhere before (`kept`). `readable` is where each
 * account's Messages API window begins now.
 */
export async function checkUpdated(
  twilio: TwilioPort,
  {
    updated,
    numbers,
    kept,
    readable,
    now,
  }: {
    updated: readonly NotChecked[];
    numbers: readonly MovedNumber[];
    kept: readonly NumberUpdateCheck[];
    readable: (accountSid: string) => Date;
    now: Date;
  },
): Promise<UpdatedChecks> {
  const result: UpdatedChecks = { notChecked: [], checks: [], requests: 0 };
  let family: Promise<Account[]> | null = null;
  const limit = pLimit(LISTINGS_AT_ONCE);
  for (const span of updated) {
    const m = numbers.find(
      (n) => n.phoneNumber === span.phoneNumber && n.subaccountSid === span.subaccountSid,
    );
    if (m === undefined) {
      result.notChecked.push(span);
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
      result.notChecked.push({ ...span, updatedCheck: { outcome: 'found', ...before.found } });
      continue;
    }
    if (family === null) {
      result.requests += 1;
      family = twilio.listSubaccounts();
    }
    const { accounts, idle } = elsewhere(twilio.parentAccountSid, await family, m, span);
    const read = await readSpan(twilio, limit, { accounts, idle }, m, span, readable, now);
    result.requests += read.requests;
    if (read.check === null) {
      const found = read.found;
      result.checks.push({
        numberSid: m.numberSid,
        subaccountSid: m.subaccountSid,
        spanStart: span.start,
        dateUpdated: span.end,
        outcome: found === null ? 'vouched' : 'found',
        accountsRead: read.accountsRead,
        requests: read.requests,
        found,
        checkedAt: isoSeconds(now),
      });
      if (found !== null) {
        result.notChecked.push({ ...span, updatedCheck: { outcome: 'found', ...found } });
      }
    } else {
      // Kept too: once the number is no longer listed as changed (moved on by hand, touched by
      // a later apply), later passes still name the span, until one vouches for it.
      result.checks.push({
        numberSid: m.numberSid,
        subaccountSid: m.subaccountSid,
        spanStart: span.start,
        dateUpdated: span.end,
        outcome: 'unvouched',
        accountsRead: read.accountsRead,
        requests: read.requests,
        found: null,
        checkedAt: isoSeconds(now),
      });
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
  return {
    accounts: [parent, ...existed.map((a) => a.sid)].filter((sid) => sid !== m.subaccountSid),
    idle: new Set(existed.filter(isIdle).map((a) => a.sid)),
  };
}

interface SpanRead {
  /** Why the span cannot be vouched for without a message found; null when read whole. */
  check: Exclude<UpdatedCheck, { outcome: 'found' }> | null;
  /** Read whole: the first message of the number found elsewhere (in `accounts` order). */
  found: { accountSid: string; messageSid: string; sentAt: string } | null;
  /** Accounts whose reading was begun, and the requests made. */
  accountsRead: number;
  requests: number;
}

/**
 * The span's messages of the number in each account: none found, the first found, or why not
 * all could be read. Once one is found or an account refuses, no further account is begun.
 */
async function readSpan(
  twilio: TwilioPort,
  limit: ReturnType<typeof pLimit>,
  { accounts, idle }: { accounts: readonly string[]; idle: ReadonlySet<string> },
  m: MovedNumber,
  span: NotChecked,
  readable: (accountSid: string) => Date,
  now: Date,
): Promise<SpanRead> {
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
  const beyond = accounts.find((sid) => !idle.has(sid) && readable(sid).getTime() > from);
  if (beyond !== undefined) {
    return {
      check: {
        outcome: 'retention',
        accountSid: beyond,
        readableFrom: isoSeconds(readable(beyond)),
      },
      found: null,
      accountsRead: 0,
      requests: 0,
    };
  }
  // The account apply moved it out of held it until the transfer, which Twilio made by the
  // time its answer came (`movedAt`), by Twilio's clock up to the allowance later: its messages
  // there up to then are from before the move, as `changedSince` takes a change then for the
  // transfer's own.
  const fromMove =
    span.start === isoSeconds(new Date(m.moveBegan))
      ? Date.parse(m.movedAt) + CLOCK_SKEW_MS + 1000
      : Number.NEGATIVE_INFINITY;
  const after = (accountSid: string) =>
    accountSid === m.sourceAccountSid ? Math.max(from, fromMove) : from;
  // Twilio's DateSent filters may be taken by the day: the query asks for whole UTC days, and
  // one more after the last (in case "on or before" a day is taken as its midnight); the
  // messages are then held to the span here.
  const filter = {
    sentAfter: new Date(Math.floor(from / DAY_MS) * DAY_MS),
    sentBefore: new Date((Math.floor(until / DAY_MS) + 2) * DAY_MS - 1000),
  };
  let requests = 0;
  let accountsRead = 0;
  let stop = false;
  const refused: UnlistedSubaccount[] = [];
  const found = new Map<string, { messageSid: string; sentAt: string }>();
  await Promise.all(
    accounts.map((accountSid) =>
      limit(async () => {
        if (stop) return;
        accountsRead += 1;
        try {
          for (const f of addressFilters(m.phoneNumber)) {
            const hit = await firstOfNumber(twilio, accountSid, { ...f, ...filter }, m, {
              after: after(accountSid),
              until,
              end,
              onRequest: () => (requests += 1),
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
    };
  }
  const first = accounts.find((sid) => found.has(sid));
  return {
    check: null,
    found: first === undefined ? null : { accountSid: first, ...found.get(first)! },
    accountsRead,
    requests,
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
      return {
        messageSid: hit.sid,
        sentAt: hit.dateSent === null ? isoSeconds(new Date(bounds.end)) : isoSeconds(hit.dateSent),
      };
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
