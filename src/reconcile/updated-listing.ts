/**
 * How the number-updated check (updated-check.ts) reads an account for a span: the number's own
 * six listings (`From` and `To` it and its RCS and WhatsApp addresses), or one listing of every
 * message of an account that many spans read, matched here to each span's number by the same
 * rules: what the number sent or heard, from the span's start to now, and the one its own
 * listings would have found first.
 */

import type pLimit from 'p-limit';

import { isoSeconds } from '../clock.js';
import type { MovedNumber } from '../db/reconcile.js';
import { splitAddress } from '../optouts/channels.js';
import { UNSUBSCRIBED_RECIPIENT } from '../optouts/classify.js';
import { matchKeyword } from '../optouts/keywords.js';
import { isListingRefused } from '../twilio/error-mapping.js';
import { PageTrail } from '../twilio/page-trail.js';
import type { Message, MessageFilter, TwilioPort } from '../twilio/port.js';
import type { NotChecked } from './result.js';

const PAGE_SIZE = 1000;

/** A span to read: its number, the accounts it may have been in, and the bounds it is held to. */
export interface SpanToRead {
  m: MovedNumber;
  span: NotChecked;
  accounts: readonly string[];
  idle: ReadonlySet<string>;
  /** From when a message counts (by Twilio's clock), and to when; the span's end. */
  from: number;
  until: number;
  end: number;
  /**
   * In the account apply moved it out of, a message dated before then (within the clocks'
   * allowance of the transfer) counts only as `doubtful` says.
   */
  fromMove: number;
  /** The account that transfer took it out of (`boundsIn`). */
  movedOutOf: string;
  /**
   * A number an applied plan found in place, read back before that plan (in-place-arrival.ts):
   * a message of it elsewhere dated before then counts only as evidence of an opt-out (a STOP
   * it heard, a send Twilio refused with 21610) that the account it came into forgot; its other
   * traffic then was none of the migration's. Minus infinity for any other span.
   */
  stopsOnlyBefore: number;
  /** Whether the ledger holds a message as an opt-out (src/db/ledger.ts ledgerHoldsOptOut). */
  onLedger: (messageSid: string) => boolean;
  /** The days asked of Twilio. */
  filter: { sentAfter: Date; sentBefore: Date };
}

/** The bounds a message of the number in the account is held to for the span. */
export interface Bounds {
  /** A message dated from `after` to `until` counts. */
  after: number;
  until: number;
  /** One dated earlier, from `doubtful.from`, counts only if `doubtful.counts` says so. */
  doubtful?: { from: number; counts: (message: Message) => boolean };
}

/**
 * The bounds in the account. In the one apply moved the number out of, its messages dated up to
 * the allowance after the transfer's answer (`fromMove`) may be from before the transfer, when
 * it was there, or from after it, moved back there by hand within those two minutes: which,
 * their dates cannot tell. A send from there or an ordinary message it heard then misses no
 * list; a STOP said to it there after such a move is on none, and the subaccount it came back
 * into sends to the person (Twilio forgot it there as the number left). So in that stretch an
 * opt-out it heard counts, unless the ledger holds it: a STOP said to the number in an account it
 * left, dated up to two minutes after it left, is on its list as said before (a snapshot or
 * apply's read after the moves took it), wherever it stood when it was said.
 */
export function boundsIn(r: SpanToRead, accountSid: string): Bounds {
  if (r.stopsOnlyBefore > r.from && accountSid !== r.movedOutOf) {
    return {
      after: r.stopsOnlyBefore,
      until: r.until,
      doubtful: { from: r.from, counts: isOptOutEvidence },
    };
  }
  if (accountSid !== r.movedOutOf || !(r.fromMove > r.from)) {
    return { after: r.from, until: r.until };
  }
  return {
    after: r.fromMove,
    until: r.until,
    doubtful: {
      from: r.from,
      counts: (message) =>
        message.direction === 'inbound' &&
        matchKeyword(message.body, false)?.kind === 'opt-out' &&
        !r.onLedger(message.sid),
    },
  };
}
/**
 * A STOP heard (by the rules for a long code or for a toll-free number, whichever counts it) or
 * a send Twilio refused as to someone it had stopped (21610).
 */
const isOptOutEvidence = (message: Message): boolean =>
  message.direction === 'inbound'
    ? matchKeyword(message.body, false)?.kind === 'opt-out' ||
      matchKeyword(message.body, true)?.kind === 'opt-out'
    : message.errorCode === UNSUBSCRIBED_RECIPIENT;

export type Hit = { messageSid: string; sentAt: string };

/**
 * An account listed once for the spans that read it: the first message of each span's number
 * there (as its own six listings would have found it), or Twilio's refusal.
 */
export type SharedListing =
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
export async function listShared(
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
            if (!isNumbers(message, phone, boundsIn(r, accountSid))) continue;
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

/**
 * The first message in the account's listing that the number sent (`from` it, not inbound) or
 * heard (`to` it, inbound) in the span: a message to the number sent from the account, or one
 * it sent that the account received, is the account's, not the number's there.
 */
export async function firstOfNumber(
  twilio: TwilioPort,
  accountSid: string,
  filter: MessageFilter,
  m: MovedNumber,
  bounds: Bounds & { end: number; onRequest: () => void },
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
export function addressFilters(phone: string): MessageFilter[] {
  return CHANNELS.flatMap((channel) => [{ from: channel + phone }, { to: channel + phone }]);
}

/**
 * A message the number sent or heard, dated from the span's start to now (undated: taken as in
 * it), or, dated earlier but in the stretch `doubtful` covers, one it says counts.
 */
function isNumbers(message: Message, phone: string, { after, until, doubtful }: Bounds): boolean {
  // An address over a channel (`rcs:+1…`) is the number it carries.
  const of = (address: string) => splitAddress(address).address === phone;
  const its = message.direction === 'inbound' ? of(message.to) : of(message.from);
  if (!its) return false;
  if (message.dateSent === null) return true;
  const at = message.dateSent.getTime();
  if (at > until) return false;
  if (at >= after) return true;
  return doubtful !== undefined && at >= doubtful.from && doubtful.counts(message);
}
