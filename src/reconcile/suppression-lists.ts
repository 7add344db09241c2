/**
 * Each moved number's suppression list as it carried it out of the accounts it left: what a
 * pass holds the number's sends to.
 */

import { isoSeconds, saidAfterBy, saidBeforeBy } from '../clock.js';
import {
  eachOptOutAsOf,
  numberEvidenceSince,
  serviceEvidenceByNumber,
  type NumberEvidence,
  type ScopeAsOf,
} from '../db/ledger.js';
import type { Db } from '../db/open.js';
import { numberSightings, serviceEvidenceSince } from '../db/whereabouts.js';
import { servicesLeft } from '../optouts/export.js';
import { departuresByNumber, type MovedNumber, type NumberDeparture } from '../db/reconcile.js';
import { pairsSaidElsewhere } from './said-elsewhere.js';
import { earliestThere, serviceStaysSince, type ServiceStay } from './whereabouts.js';
import type { SuppressedPair } from './violations.js';

/**
 * Each moved number's suppression list as it carried it out of the accounts it left, as the
 * list stood when it left each (a number a later wave moved on left the parent, then the first
 * customer's subaccount, and carries what it carried out of both): each account's number-scope
 * opt-outs of the number and the service-scope opt-outs of the service it left there, and those
 * of every service its own evidence came through before it last moved (docs/opt-out-rules.md: a
 * STOP it took in a service it had left before any snapshot saw it there), as the plan and the
 * reports list them. A STOP or START said in an account after the number left it (to a service
 * it no longer belongs to) is not the number's.
 *
 * Then the number's own opt-outs since it moved, in whichever account it took them
 * (`pairsSaidElsewhere`): each holds only the sends from another account, until an opt-in to the
 * number there lifted it.
 */
export function suppressionLists(
  db: Db,
  moved: readonly MovedNumber[],
): Map<string, SuppressedPair[]> {
  const scopes: ScopeAsOf[] = [];
  const owner: string[] = [];
  const seen = serviceEvidenceByNumber(db, true);
  const departures = departuresByNumber(db);
  // The services each number left, and from when an opt-in through one is not the number's:
  // the export's rule (`servicesLeft`), so the list a send is held to is the one it gives.
  const servicesLeftBy = servicesLeft(db);
  const leftOf = new Map<
    string,
    readonly { accountSid: string; serviceSid: string | null; leftAt: string }[]
  >();
  for (const m of moved) {
    const leftServices = servicesLeftBy.get(m.phoneNumber);
    const optInsBefore = (service: string) => {
      const before = leftServices?.get(service);
      return before === undefined ? {} : { optInsBefore: before };
    };
    const left: Omit<NumberDeparture, 'numberSid' | 'runId'>[] = [
      ...(departures.get(m.numberSid) ?? []),
    ];
    // The source the plans recorded, too: a plan made while a move was under way (the number
    // detached already) names no service it leaves, where the recorded source kept it.
    if (
      !left.some((d) => d.accountSid === m.sourceAccountSid && d.serviceSid === m.sourceServiceSid)
    ) {
      const leftAt = left.find((d) => d.accountSid === m.sourceAccountSid)?.leftAt ?? m.movedAt;
      left.push({ accountSid: m.sourceAccountSid, serviceSid: m.sourceServiceSid, leftAt });
    }
    leftOf.set(m.phoneNumber, left);
    const lastLeft = left.reduce((a, d) => (d.leftAt > a ? d.leftAt : a), m.movedAt);
    // The journal's time of a move is this machine's clock, a STOP's date Twilio's: one said to
    // the number itself (or a send from it refused) in an account it left, dated up to two
    // minutes after the move, was said before it (nothing reaches the number there after), and
    // the lists count it, as they count a span not read then. What other numbers of a service
    // took in that time may have come after the number left it: not the number's.
    const own = (leftAt: string) => ({ number: m.phoneNumber, asOf: saidBeforeBy(leftAt) });
    for (const { accountSid, serviceSid, leftAt } of left) {
      for (const scope of [m.phoneNumber, serviceSid]) {
        if (scope === null) continue;
        scopes.push({
          accountSid,
          scope,
          asOf: leftAt,
          own: own(leftAt),
          ...(scope === serviceSid ? optInsBefore(scope) : {}),
        });
        owner.push(m.phoneNumber);
      }
    }
    for (const { accountSid, service, firstSeen } of seen.get(m.phoneNumber) ?? []) {
      if (firstSeen > saidBeforeBy(lastLeft)) continue;
      if (service === null) {
        // An account the number was in that no move of apply's took it out of, nor the recorded
        // source names (moved out by hand: into its subaccount, or on from one it had reached
        // so before apply moved it on): Twilio forgot what the number took there as it left.
        if (accountSid === m.subaccountSid || left.some((d) => d.accountSid === accountSid)) {
          continue;
        }
        scopes.push({ accountSid, scope: m.phoneNumber, asOf: lastLeft });
        owner.push(m.phoneNumber);
        continue;
      }
      if (left.some((d) => d.serviceSid === service && d.accountSid === accountSid)) continue;
      // As it stood when the number left that account (or, one no apply moved it out of, when
      // it last moved: not an account it left, so no allowance).
      const leftThere = left.find((d) => d.accountSid === accountSid)?.leftAt;
      const asOf = leftThere ?? lastLeft;
      scopes.push({
        accountSid,
        scope: service,
        asOf,
        ...(leftThere === undefined ? {} : { own: own(leftThere) }),
        ...optInsBefore(service),
      });
      owner.push(m.phoneNumber);
    }
  }
  const lists = new Map<string, SuppressedPair[]>(moved.map((m) => [m.phoneNumber, []]));
  // A service's pair is on the list of each of its moved numbers (a thousand numbers in ten
  // shared services: some 10,000,000 entries for 300,000 opt-outs): read a row at a time and
  // kept once, each list holding the same pair, never read again from SQLite's row (twelve
  // strings) or copied per number.
  const kept = new Map<string, SuppressedPair>();
  for (const row of eachOptOutAsOf(db, scopes)) {
    const key = `${row.recipient}|${row.stopMessageSid ?? ''}|${row.optedOutAt}|${row.standsSince}|${row.priorOptOutAt ?? ''}`;
    let pair = kept.get(key);
    if (pair === undefined) {
      pair = {
        recipient: row.recipient,
        stopMessageSid: row.stopMessageSid,
        optedOutAt: row.optedOutAt,
        standsSince: row.standsSince,
        priorOptOutAt: row.priorOptOutAt,
      };
      kept.set(key, pair);
    }
    lists.get(owner[row.scopeIndex]!)!.push(pair);
  }
  // And what each number took since it moved, in every account it has been in: a STOP said to
  // it in its subaccount is Twilio's to enforce there, not in the subaccount someone moves it
  // into by hand next, which then texts the person (held against sends from other accounts).
  // From the move less two minutes: its time is this machine's clock, a STOP's date Twilio's,
  // which may run behind ours; one dated in those two minutes may have been said after it.
  for (const [phone, pairs] of saidSinceMoved(db, moved, leftOf)) {
    const list = lists.get(phone);
    if (list !== undefined) lists.set(phone, list.concat(pairs));
  }
  return lists;
}

/**
 * What each moved number took since it moved, by phone number (`pairsSaidElsewhere`): its own
 * evidence, and that of each Messaging Service it was in since (`serviceStaysSince`: a STOP said
 * to another number of the service opted the person out of the whole service, the number too),
 * said while it may still have been in it. Each held only from when the number may have come to
 * the account it was said in (`earliestThere`): a refusal there, whose STOP is not known, or a
 * STOP to the service's other numbers, says nothing of the time before.
 */
function saidSinceMoved(
  db: Db,
  moved: readonly MovedNumber[],
  /** The accounts apply moved each out of (and the one it came from), and when. */
  leftOf: ReadonlyMap<
    string,
    readonly { accountSid: string; serviceSid: string | null; leftAt: string }[]
  >,
): Map<string, SuppressedPair[]> {
  const sinceOf = new Map(moved.map((m) => [m.phoneNumber, saidAfterBy(m.moveBegan)]));
  const evidence = numberEvidenceSince(
    db,
    moved.map((m) => ({ phoneNumber: m.phoneNumber, since: sinceOf.get(m.phoneNumber)! })),
  );
  const sightings = numberSightings(
    db,
    moved.map((m) => m.phoneNumber),
  );
  for (const m of moved) {
    // The transfer (or the plan that saw it arrive by hand) put it there.
    sightings
      .get(m.phoneNumber)
      ?.push({ accountSid: m.subaccountSid, at: m.movedAt, listed: true });
  }
  const moves = new Map(moved.map((m) => [m.phoneNumber, m]));
  // From when the number may have come to each account: what a refusal there, or a STOP to
  // another number of a service there, holds its sends from.
  const from = new Map<string, string | null>();
  const heldFromOf = (m: MovedNumber, account: string): string | null => {
    const key = `${m.phoneNumber} ${account}`;
    if (!from.has(key)) {
      // The account it came from held it before it moved, since no one knows when.
      const arrived = account === m.subaccountSid ? m.moveBegan : undefined;
      const seen = sightings.get(m.phoneNumber) ?? [];
      const there = earliestThere(seen, account, arrived, sinceOf.get(m.phoneNumber));
      from.set(key, account === m.sourceAccountSid ? null : there);
    }
    return from.get(key) ?? null;
  };
  const pairs = pairsSaidElsewhere(evidence);
  for (const [phone, theirs] of pairs) {
    for (const pair of theirs) {
      const heldFrom = heldFromOf(moves.get(phone)!, pair.saidIn!);
      if (heldFrom !== null) pair.heldFrom = heldFrom;
    }
  }
  // The services each was in since (of one a move of apply's took it out of, only what Twilio
  // dated after the move: the list it carried out of the account holds the service up to the
  // move, by this machine's clock, and Twilio's may run up to two minutes ahead of it), the
  // numbers of one grouped by when they left it, and from the start of the hour they may have
  // come to the account (the safe side; from the earliest move among them, an opt-in lifting by
  // the earliest of their last sightings in it): numbers moved together share the service's
  // pairs, as the lists share a service's opt-outs (a customer's hundred numbers in its
  // service, and its thousands of STOPs since the move).
  const groups = new Map<
    string,
    { stay: ServiceStay; heldFrom: string | null; since: string; numbers: MovedNumber[] }
  >();
  for (const m of moved) {
    const seen = sightings.get(m.phoneNumber) ?? [];
    const movedSince = sinceOf.get(m.phoneNumber)!;
    const left = leftOf.get(m.phoneNumber) ?? [];
    for (const fine of serviceStaysSince(seen, movedSince, left)) {
      const carried = left.find(
        (d) =>
          d.accountSid === fine.accountSid &&
          d.serviceSid === fine.service &&
          fine.until !== null &&
          fine.until <= saidBeforeBy(d.leftAt),
      );
      const since = carried === undefined ? movedSince : secondAfter(carried.leftAt);
      const arrived = fine.accountSid === m.subaccountSid ? m.moveBegan : undefined;
      const there =
        fine.accountSid === m.sourceAccountSid
          ? null
          : earliestThere(seen, fine.accountSid, arrived, movedSince);
      const { until } = fine;
      const heldFrom = there === null ? null : hourOf(there);
      const key = [fine.accountSid, fine.service, until ?? '', heldFrom ?? ''].join(' ');
      const group = groups.get(key);
      if (group === undefined) {
        groups.set(key, { stay: { ...fine }, heldFrom, since, numbers: [m] });
        continue;
      }
      group.numbers.push(m);
      if (since < group.since) group.since = since;
      if (fine.optInsBy < group.stay.optInsBy) group.stay.optInsBy = fine.optInsBy;
      if (fine.optInsFrom > group.stay.optInsFrom) group.stay.optInsFrom = fine.optInsFrom;
    }
  }
  if (groups.size === 0) return pairs;
  const earliest = [...sinceOf.values()].reduce((a, b) => (b < a ? b : a));
  const byService = new Map<string, NumberEvidence[]>();
  const services = [...groups.values()].map((g) => g.stay);
  for (const e of serviceEvidenceSince(db, services, earliest)) {
    // Judged as one number's (any number of the service's): the sender is not the number's.
    e.phoneNumber = '';
    const key = `${e.accountSid} ${e.scopeKey}`;
    const rows = byService.get(key);
    if (rows === undefined) byService.set(key, [e]);
    else rows.push(e);
  }
  const shared = sharedPairs();
  const heldOf = new Map<string, SuppressedPair[][]>();
  // What a service's evidence gives for each set of its rows a group's bounds keep (told by how
  // many fall outside them: one set for every number of a service moved in the same minutes,
  // unless something was said between their moves), without `heldFrom`.
  const given = new Map<string, { pairs: SuppressedPair[]; refusals: boolean; floor: string }>();
  for (const { stay, heldFrom, since, numbers } of groups.values()) {
    const { accountSid, service, until, optInsBy, optInsFrom } = stay;
    // Said while the number may still have been in it (from the earliest move of the group);
    // an opt-in while it surely was. A number's own evidence among them is on its list already
    // (a second pair, the same verdicts).
    const all = byService.get(`${accountSid} ${service}`) ?? [];
    const kept = (e: NumberEvidence) =>
      e.dateSent >= since &&
      (e.kind === 'opt-in'
        ? optInsFrom <= e.dateSent && e.dateSent <= optInsBy
        : until === null || e.dateSent <= until);
    let before = 0;
    let afterOut = 0;
    let afterIn = 0;
    let beforeIn = 0;
    for (const e of all) {
      if (e.dateSent < since) before++;
      else if (e.kind === 'opt-in') {
        if (e.dateSent > optInsBy) afterIn++;
        else if (e.dateSent < optInsFrom) beforeIn++;
      } else afterOut += until !== null && e.dateSent > until ? 1 : 0;
    }
    const key = `${accountSid} ${service} ${before} ${afterOut} ${afterIn} ${beforeIn}`;
    let base = given.get(key);
    if (base === undefined) {
      const pairs = (pairsSaidElsewhere(all.filter(kept)).get('') ?? []).map((pair) =>
        shared(pair, null),
      );
      const stops = pairs.filter((pair) => pair.stopMessageSid !== null);
      base = {
        pairs,
        refusals: stops.length < pairs.length,
        floor: stops.reduce((a, p) => {
          const stands = p.standsSince ?? p.optedOutAt;
          return stands < a ? stands : a;
        }, '\uffff'),
      };
      given.set(key, base);
    }
    // From when the number may have come to the account: nothing more for a STOP said since.
    const held =
      heldFrom === null || (!base.refusals && heldFrom <= base.floor)
        ? base.pairs
        : base.pairs.map((pair) => shared({ ...pair }, heldFrom));
    for (const m of numbers) {
      const parts = heldOf.get(m.phoneNumber);
      if (parts === undefined) heldOf.set(m.phoneNumber, [held]);
      else parts.push(held);
    }
  }
  // Each list made once at its length: pushed one pair at a time, a list of 10,000 is copied
  // as it grows, and a thousand such lists left their outgrown copies (twice their size) behind.
  for (const [phone, parts] of heldOf) pairs.set(phone, (pairs.get(phone) ?? []).concat(...parts));
  return pairs;
}

/** The second after `at` (ISO 8601 UTC). */
function secondAfter(at: string): string {
  const time = Date.parse(at);
  return Number.isNaN(time) ? at : isoSeconds(new Date(time + 1000));
}

/**
 * One pair object for each pair a service's evidence gives, whichever numbers' lists hold it:
 * the numbers of a service each have a group of their own when they came to its account in
 * different hours (their own last messages elsewhere), and a service's 10,000 STOPs since the
 * move were then 10,000 new pairs for each of its hundred numbers (a million a service, a GB
 * for ten). A pair is told by all it says: its opt-out or refusal, what lifted it, and
 * `heldFrom`, given only where it says something: a STOP holds no send before its own date
 * (`standsSince`), so a `heldFrom` no later than that holds nothing more (`findViolations`'
 * `saidBy`), and the pair is the same for every number.
 */
function sharedPairs(): (pair: SuppressedPair, heldFrom: string | null) => SuppressedPair {
  const kept = new Map<string, SuppressedPair[]>();
  return (pair, heldFrom) => {
    const standsSince = pair.standsSince ?? pair.optedOutAt;
    if (heldFrom !== null && (pair.stopMessageSid === null || heldFrom > standsSince)) {
      pair.heldFrom = heldFrom;
    }
    // Its STOP (a SID the ledger holds once), or whom a refusal that began its stretch was
    // refused to, and when; then what else it says.
    const message = pair.stopMessageSid ?? `${pair.recipient} ${pair.optedOutAt}`;
    const same = kept.get(message);
    const found = same?.find(
      (p) =>
        p.recipient === pair.recipient &&
        p.stopMessageSid === pair.stopMessageSid &&
        p.optedOutAt === pair.optedOutAt &&
        p.standsSince === pair.standsSince &&
        p.saidIn === pair.saidIn &&
        p.saidThrough === pair.saidThrough &&
        p.liftedAt === pair.liftedAt &&
        p.heldFrom === pair.heldFrom,
    );
    if (found !== undefined) return found;
    if (same === undefined) kept.set(message, [pair]);
    else same.push(pair);
    return pair;
  };
}

/** The start of the hour of `at` (ISO 8601 UTC). */
function hourOf(at: string): string {
  const time = Date.parse(at);
  return Number.isNaN(time) ? at : isoSeconds(new Date(time - (time % 3_600_000)));
}
