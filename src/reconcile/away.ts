/**
 * Moved numbers away from the subaccount apply put them in (`number-away`): found in the parent
 * (or in a subaccount no pass reads) by a pass, or between two transfers in the journal, and up
 * to when each was there.
 */

import { isoSeconds } from '../clock.js';
import type { Db } from '../db/open.js';
import {
  awayBetweenTransfers,
  departuresByNumber,
  numbersAway,
  passTimes,
  type MovedNumber,
  type NumberAway,
  type NumberDeparture,
  type NumberStay,
  type PassTime,
} from '../db/reconcile.js';
import { compareText } from '../text-order.js';
import type { PhoneNumber } from '../twilio/port.js';
import type { NotChecked } from './result.js';

/**
 * The moved numbers found among the parent's (`inParent`; or, `parentAccountSid` another
 * account's, among that account's): each was put in its subaccount by
 * apply (or found there by an applied plan) and has left it since with no step of apply's,
 * back into the parent. What it sent there since it was last moved into the subaccount
 * (`moveBegan`, or its latest stay's beginning there) up to `now` no pass reads. Pure.
 */
export function awayInParent(
  moved: readonly MovedNumber[],
  inParent: readonly Pick<PhoneNumber, 'sid' | 'phoneNumber'>[],
  parentAccountSid: string,
  now: Date,
  stays: readonly NumberStay[] = [],
): NumberAway[] {
  const sids = new Set(inParent.map((n) => n.sid));
  const phones = new Set(inParent.map((n) => n.phoneNumber));
  return moved
    .filter(
      (m) =>
        m.subaccountSid !== parentAccountSid &&
        (sids.has(m.numberSid) || phones.has(m.phoneNumber)),
    )
    .map((m) => ({
      numberSid: m.numberSid,
      phoneNumber: m.phoneNumber,
      customerId: m.customerId,
      subaccountSid: m.subaccountSid,
      accountSid: parentAccountSid,
      start: lastArrival(m, stays),
      end: isoSeconds(now),
    }));
}

/**
 * When a moved number last came into the subaccount it is held to: its move (`moveBegan`), or
 * its latest stay's beginning there (ISO 8601 UTC, to the second). Pure.
 */
export function lastArrival(
  m: Pick<MovedNumber, 'numberSid' | 'subaccountSid' | 'moveBegan'>,
  stays: readonly NumberStay[],
): string {
  const arrived = stays
    .filter((s) => s.numberSid === m.numberSid && s.accountSid === m.subaccountSid)
    .reduce((a, s) => (s.began > a ? s.began : a), m.moveBegan);
  return isoSeconds(new Date(arrived));
}

/**
 * Every span a moved number was away from the subaccount apply put it in (`number-away`): those
 * passes found it in the parent (kept for good, each to when it left: `awayUntil`), and those
 * the journal shows between two transfers (a later one took it out of another account than the
 * one before put it in), one per number, account and start, to the latest end.
 */
export function awaySpans(db: Db, moved: readonly MovedNumber[]): NotChecked[] {
  const bySid = new Map(moved.map((m) => [m.numberSid, m]));
  const spans = new Map<string, NumberAway>();
  const keep = (span: NumberAway) => {
    const key = `${span.numberSid} ${span.accountSid} ${isoSeconds(new Date(span.start))}`;
    const before = spans.get(key);
    if (before === undefined || Date.parse(span.end) > Date.parse(before.end)) {
      spans.set(key, span);
    }
  };
  const passes = passTimes(db);
  const departures = departuresByNumber(db);
  for (const span of numbersAway(db)) {
    keep({ ...span, end: awayUntil(span, passes, departures.get(span.numberSid) ?? []) });
  }
  for (const span of awayBetweenTransfers(db)) {
    const number = bySid.get(span.numberSid);
    if (number === undefined) continue;
    keep({
      ...span,
      phoneNumber: number.phoneNumber,
      customerId: number.customerId,
      start: isoSeconds(new Date(span.start)),
      end: isoSeconds(new Date(span.end)),
    });
  }
  return [...spans.values()]
    .sort((a, b) => compareText(`${a.start} ${a.phoneNumber}`, `${b.start} ${b.phoneNumber}`))
    .map((span) => ({
      accountSid: span.accountSid,
      start: span.start,
      end: span.end,
      reason: 'number-away' as const,
      customerId: span.customerId,
      phoneNumber: span.phoneNumber,
      subaccountSid: span.subaccountSid,
    }));
}

/**
 * Up to when a number a pass found away was there: its recorded `end` is the last pass that
 * found it there, and it left before the first pass after that one (which did not find it: it
 * would have carried `end` on), or before a transfer took it out, whichever came first. Until
 * then what it sent there was held to no list: moved back by hand after a pass found it, it sent
 * from there up to the move, and the span names those sends too, not only those up to the
 * last pass that saw it. A transfer in the second of `end` is passed over (times are whole
 * seconds: it may have come before that pass found the number there, moved back by hand since),
 * and a pass that began in that second is taken for the one that found it. Pure.
 */
export function awayUntil(
  span: Pick<NumberAway, 'accountSid' | 'end'>,
  passes: readonly PassTime[],
  departures: readonly Pick<NumberDeparture, 'accountSid' | 'leftAt'>[],
): string {
  const end = Date.parse(span.end);
  const bounds = [
    ...passes.filter((p) => Date.parse(p.startedAt) > end).map((p) => Date.parse(p.finishedAt)),
    ...departures
      .filter((d) => d.accountSid === span.accountSid && Date.parse(d.leftAt) > end)
      .map((d) => Date.parse(d.leftAt)),
  ];
  return bounds.length === 0 ? span.end : isoSeconds(new Date(Math.min(...bounds)));
}
