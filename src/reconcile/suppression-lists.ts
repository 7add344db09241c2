/**
 * Each moved number's suppression list as it carried it out of the accounts it left: what a
 * pass holds the number's sends to.
 */

import { saidAfterBy, saidBeforeBy } from '../clock.js';
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
import { earliestThere, serviceStaysSince } from './whereabouts.js';
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
  const leftOf = new Map<string, readonly { accountSid: string; leftAt: string }[]>();
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
    lists.get(phone)?.push(...pairs);
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
  leftOf: ReadonlyMap<string, readonly { accountSid: string; leftAt: string }[]>,
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
  const stays = moved.flatMap((m) =>
    serviceStaysSince(
      sightings.get(m.phoneNumber) ?? [],
      sinceOf.get(m.phoneNumber)!,
      leftOf.get(m.phoneNumber),
    ).map((stay) => ({ ...stay, phoneNumber: m.phoneNumber })),
  );
  if (stays.length > 0) {
    const earliest = [...sinceOf.values()].reduce((a, b) => (b < a ? b : a));
    const byService = new Map<string, NumberEvidence[]>();
    for (const e of serviceEvidenceSince(db, stays, earliest)) {
      const key = `${e.accountSid} ${e.scopeKey}`;
      const rows = byService.get(key);
      if (rows === undefined) byService.set(key, [e]);
      else rows.push(e);
    }
    for (const stay of stays) {
      const since = sinceOf.get(stay.phoneNumber)!;
      for (const e of byService.get(`${stay.accountSid} ${stay.service}`) ?? []) {
        if (e.phoneNumber === stay.phoneNumber || e.dateSent < since) continue;
        const bound = e.kind === 'opt-in' ? stay.optInsBy : stay.until;
        if (bound !== null && e.dateSent > bound) continue;
        evidence.push({ ...e, phoneNumber: stay.phoneNumber });
      }
    }
    evidence.sort(inEvidenceOrder);
  }
  const moves = new Map(moved.map((m) => [m.phoneNumber, m]));
  const pairs = pairsSaidElsewhere(evidence);
  for (const [phone, theirs] of pairs) {
    const m = moves.get(phone)!;
    const from = new Map<string, string | null>();
    for (const pair of theirs) {
      const account = pair.saidIn!;
      if (!from.has(account)) {
        // The account it came from held it before it moved, since no one knows when.
        const arrived = account === m.subaccountSid ? m.moveBegan : undefined;
        const there = earliestThere(sightings.get(phone) ?? [], account, arrived);
        from.set(account, account === m.sourceAccountSid ? null : there);
      }
      const heldFrom = from.get(account);
      if (heldFrom !== null && heldFrom !== undefined) pair.heldFrom = heldFrom;
    }
  }
  return pairs;
}

/** `numberEvidenceSince`'s order: by number, account, partition, recipient, date, opt-in last. */
function inEvidenceOrder(a: NumberEvidence, b: NumberEvidence): number {
  const keys = (e: NumberEvidence) => [
    e.phoneNumber,
    e.accountSid,
    e.scopeKey,
    e.recipient,
    e.dateSent,
    e.kind === 'opt-in' ? '1' : '0',
    e.messageSid,
  ];
  const [x, y] = [keys(a), keys(b)];
  for (let i = 0; i < x.length; i += 1) {
    if (x[i]! < y[i]!) return -1;
    if (x[i]! > y[i]!) return 1;
  }
  return 0;
}
