/**
 * When a moved number may have been in an account, or in a Messaging Service there, from what
 * the ledger saw of it (`numberSightings`): what bounds the opt-outs it took there since its move
 * (docs/opt-out-rules.md, A STOP said after the move, in another account). Pure.
 */

import { CLOCK_SKEW_MS, isoSeconds, saidAfterBy, saidBeforeBy } from '../clock.js';
import type { Db } from '../db/open.js';
import { arrivalsMovedOn, type MovedNumber } from '../db/reconcile.js';
import { historyStarts } from '../db/snapshot-runs.js';
import { numberSightings, type NumberSighting } from '../db/whereabouts.js';

/** The earliest and the latest date Twilio may give a message said at the sighting. */
const earliest = (s: NumberSighting) => (s.listed ? saidAfterBy(s.at) : s.at);
const latest = (s: NumberSighting) => (s.listed ? saidBeforeBy(s.at) : s.at);

/**
 * The earliest date Twilio may have given an opt-out said in `accountSid` to the number (or to a
 * Messaging Service there it was in), as far as the ledger knows: the last time it was seen in
 * another account before it was first seen there (`arrivedBy`, when given, is the earliest it may
 * have come there, a transfer's start: a sighting too). The safe side: the first stay it is known
 * to have had there, an earlier sighting elsewhere only when certainly before it (two minutes
 * apart when a listing's clock is this machine's), and its earliest date. Null when nothing seen
 * elsewhere came before it: it may have been there all along (the account it came from).
 *
 * No later than `movedSince` (the earliest date of its move, when given): sightings are moments,
 * and once it could be moved by hand, it may have been there before one seen elsewhere, unseen
 * (away and back with nothing of its own said there), when someone said STOP to a service it
 * was in there, or to it in words the ledger does not read (a refusal's STOP).
 */
export function earliestThere(
  sightings: readonly NumberSighting[],
  accountSid: string,
  arrivedBy?: string,
  movedSince?: string,
): string | null {
  let first = arrivedBy === undefined ? null : saidAfterBy(arrivedBy);
  for (const s of sightings) {
    if (s.accountSid !== accountSid || s.outOfService !== undefined) continue;
    const at = earliest(s);
    if (first === null || at < first) first = at;
  }
  if (first === null) return null;
  let since: string | null = null;
  for (const s of sightings) {
    if (s.accountSid === accountSid || s.outOfService !== undefined) continue;
    if (latest(s) >= first) continue;
    const at = earliest(s);
    if (since === null || at > since) since = at;
  }
  return since !== null && movedSince !== undefined && since > movedSince ? movedSince : since;
}

/** A Messaging Service a moved number was in since its move, and what of it is the number's. */
export interface ServiceStay {
  accountSid: string;
  service: string;
  /**
   * The latest date Twilio may give a message said while the number was still in it: the first
   * sighting out of it after its last in it (the latest date that one may carry). Null: none
   * seen; the number may have been in it until the send.
   */
  until: string | null;
  /**
   * The latest date an opt-in through it is known said while the number was in it: its last
   * sighting there (the earliest date that may carry). One said later may have come after the
   * number left: not the number's (docs/opt-out-rules.md, A service's opt-outs after the number
   * left it).
   */
  optInsBy: string;
  /**
   * The earliest date an opt-in through it is known said while the number was in it: its first
   * sighting there (the latest date that may carry). One said before may have come while it was
   * elsewhere (before it came, or away from an earlier stay the ledger never saw): not the
   * number's either.
   */
  optInsFrom: string;
}

/**
 * Whether sighting `o` certainly came after `s`: two listings (or journal times) by this
 * machine's clock, in order; else two minutes apart, the one Twilio's.
 */
const certainlyAfter = (o: NumberSighting, s: NumberSighting) =>
  o.listed && s.listed ? o.at > s.at : earliest(o) > latest(s);

/**
 * The Messaging Services the number was in since `since` (a sighting in one, the latest date it
 * may carry at or after `since`), each with how long it may have stayed (`ServiceStay`): until
 * the first sighting out of it (in another account, in another service or none there, a listing
 * that showed it gone) certainly after every sighting in it, or a move of apply's out of its
 * account (`departures`, this machine's clock) after them. The stay is taken as unbroken from
 * the first sighting to the last: an opt-out said while it was away and back is held too, the
 * safe reading.
 */
export function serviceStaysSince(
  sightings: readonly NumberSighting[],
  since: string,
  departures: readonly { accountSid: string; leftAt: string }[] = [],
): ServiceStay[] {
  const inIt = new Map<string, NumberSighting[]>();
  for (const s of sightings) {
    if (typeof s.service !== 'string' || s.outOfService !== undefined) continue;
    const key = `${s.accountSid} ${s.service}`;
    const seen = inIt.get(key);
    if (seen === undefined) inIt.set(key, [s]);
    else seen.push(s);
  }
  const stays: ServiceStay[] = [];
  for (const seen of inIt.values()) {
    const { accountSid, service } = seen[0] as NumberSighting & { service: string };
    if (!seen.some((s) => latest(s) >= since)) continue;
    let until: string | null = null;
    for (const o of sightings) {
      const out =
        o.outOfService === undefined
          ? o.accountSid !== accountSid || (o.service !== undefined && o.service !== service)
          : o.accountSid === accountSid && o.outOfService === service;
      if (!out || !seen.every((s) => certainlyAfter(o, s))) continue;
      if (until === null || latest(o) < until) until = latest(o);
    }
    // A move of apply's out of the account took it out of the service first (for one that
    // arrived by hand, the plan that found it gone): it ended the stay unless seen there since,
    // a message of its own there dated more than two minutes after (Twilio's clock). Its time is
    // this machine's clock: a STOP said to the service before it may carry a date Twilio gave it
    // up to two minutes later, as for any sighting of ours.
    for (const d of departures) {
      if (d.accountSid !== accountSid) continue;
      const before = (s: NumberSighting) =>
        s.listed ? s.at <= d.leftAt : s.at <= saidBeforeBy(d.leftAt);
      if (!seen.every(before)) continue;
      if (until === null || saidBeforeBy(d.leftAt) < until) until = saidBeforeBy(d.leftAt);
    }
    const optInsBy = seen.map(earliest).reduce((a, b) => (b > a ? b : a));
    const optInsFrom = seen.map(latest).reduce((a, b) => (b < a ? b : a));
    stays.push({ accountSid, service, until, optInsBy, optInsFrom });
  }
  return stays;
}

/**
 * A moved number the ledger knew in another account before it was first seen in the account it
 * came from (moved there by hand before the plan) may have been in its customer's subaccount on
 * the way, sending there with the opt-outs it took before forgotten: its subaccount is read from
 * the last it was known elsewhere before it was seen in its source (`earliestThere`), when that
 * is before its move began. Its sends there before the transfer are held to its list
 * (`movedThereByHand`), and what of that stretch the Messages API no longer shows is not checked
 * (`notCheckedSpans`, through `arrivedSince`).
 */
export function arrivalsBeforeSource(
  db: Db,
  moved: readonly MovedNumber[],
): Map<string, Pick<MovedNumber, 'moveBegan'>> {
  const sightings = numberSightings(
    db,
    moved.map((m) => m.phoneNumber),
  );
  const out = new Map<string, Pick<MovedNumber, 'moveBegan'>>();
  for (const m of moved) {
    if (m.sourceAccountSid === m.subaccountSid) continue;
    // Its sightings in its subaccount itself are passed over: it may have sent there before them.
    const elsewhere = (sightings.get(m.phoneNumber) ?? []).filter(
      (s) => s.accountSid !== m.subaccountSid,
    );
    const since = earliestThere(elsewhere, m.sourceAccountSid);
    if (since !== null && since < m.moveBegan) out.set(m.numberSid, { moveBegan: since });
  }
  return out;
}

/**
 * A stay of a moved number in a subaccount it reached by hand, found there by an applied plan
 * and moved on from there by a later transfer (`arrivalsMovedOn`): before that transfer a pass
 * held its sends there to its list, as a number that arrived with no transfer (`movedNumbers`);
 * after it, held to the subaccount the transfer put it in, no pass would. Its sends there in the
 * stay are held to its list (`findViolations`, `arrivedIn`), read by a pass that reads that
 * subaccount (pass-read.ts), and named not checked where none did and none will.
 */
export interface ArrivalStay {
  numberSid: string;
  accountSid: string;
  /** The customer whose subaccount it is, named in a violation there; null: none known. */
  customerId: string | null;
  /**
   * The earliest it may have come (ISO 8601 UTC): as `movedNumbers` dates an arrival, the last
   * it was known elsewhere before it was first seen there, after the subaccount's history
   * began; nothing known elsewhere before, the subaccount's history start, else the first it
   * was known elsewhere.
   */
  began: string;
  /**
   * The transfer that moved it on finished, and the clocks' allowance (ISO 8601 UTC): Twilio
   * may date a send made there before it up to that much later.
   */
  until: string;
}

/**
 * Each arrival a later transfer moved on (`arrivalsMovedOn`) of a number known in another
 * account before the plan that found it there (else nothing it carried was forgotten: found in
 * place, Twilio kept its opt-outs there), with when it may have come (`ArrivalStay.began`).
 */
export function arrivalStays(db: Db, moved: readonly MovedNumber[]): ArrivalStay[] {
  const arrivals = arrivalsMovedOn(db);
  if (arrivals.length === 0) return [];
  const phoneOf = new Map(moved.map((m) => [m.numberSid, m.phoneNumber]));
  const held = arrivals.filter((a) => phoneOf.has(a.numberSid));
  const sightings = numberSightings(
    db,
    held.map((a) => phoneOf.get(a.numberSid)!),
  );
  const starts = historyStarts(db);
  return held.flatMap((a) => {
    const seen = sightings.get(phoneOf.get(a.numberSid)!) ?? [];
    // Known elsewhere before the plan that found it there: what it carried there was forgotten.
    const before = seen.filter(
      (s) =>
        s.accountSid !== a.accountSid &&
        s.outOfService === undefined &&
        (s.listed ? saidAfterBy(s.at) : s.at) < a.firstSeen,
    );
    if (before.length === 0) return [];
    // The last it was known elsewhere before it was first known there (the plan, or earlier).
    const since = earliestThere(seen, a.accountSid, a.firstSeen);
    const history = starts.get(a.accountSid);
    const firstKnown = before.map((s) => (s.listed ? saidAfterBy(s.at) : s.at)).sort()[0]!;
    let began =
      since === null
        ? (history ?? firstKnown)
        : history !== undefined && history > since
          ? history
          : since;
    if (began > a.firstSeen) began = a.firstSeen;
    return [
      {
        numberSid: a.numberSid,
        accountSid: a.accountSid,
        customerId: a.customerId,
        began: isoSeconds(new Date(began)),
        until: isoSeconds(new Date(Date.parse(a.left) + CLOCK_SKEW_MS)),
      },
    ];
  });
}
