/**
 * Which sends after the move broke an opt-out. Pure.
 *
 * A send from a moved number N to recipient R, after the move, is a **violation** when R is on
 * N's suppression list — the opt-outs N carried out of the parent: its own, and those of the
 * service it was in — and R had not opted back in (to N, or to the service N sent through, in
 * the subaccount) before the send, since that opt-out: R on the list twice (a STOP to N, a START,
 * a STOP through its service) is opted out while one of them stands. So is R on a pair N took
 * since the move in another account than the one the send went from (`pairsSaidElsewhere`):
 * Twilio keeps that opt-out where it was said, and the account the send went from never heard
 * it. A send Twilio refused with 21610 is **blocked**, not a violation: the opt-out reached
 * Twilio (carried, or said again in the subaccount). So is one a Messaging Service refused before it chose a sender (`from` empty:
 * Twilio leaves it null), held to the lists of the moved numbers that could have sent it
 * (`sendersOf`).
 *
 * A send from a sender that is no phone number — an RCS agent (`rcs:brand_agent`), a short code,
 * an alphanumeric sender ID — has no list of its own. It went out through the customer's
 * Messaging Service (or from its subaccount), for the moved numbers in it (`sendersOf`), and
 * Twilio keeps RCS and SMS opt-outs as one per sender or service: it is a violation when its
 * recipient is on one of their lists, from when that number moved (docs/opt-out-rules.md,
 * Channels). The safe reading: a person who said STOP to the number alone is on it too.
 */

import { isPhoneNumber } from '../optouts/channels.js';
import type { MovedNumber, SentMessage, Violation } from '../db/reconcile.js';
import type { ArrivalStay } from './whereabouts.js';

export type { SentMessage };

export interface SuppressedPair {
  recipient: string;
  /** The STOP, or null when the opt-out is known from a refusal only. */
  stopMessageSid: string | null;
  optedOutAt: string;
  /**
   * Since when it has stood: its first opt-out or refusal since its last opt-in, which may come
   * before `optedOutAt` (a recipient who said STOP again, or was refused before a STOP). Not
   * given: `optedOutAt`.
   */
  standsSince?: string;
  /**
   * The STOP before `optedOutAt` since its last opt-in, null when there is none (it stood from a
   * refusal until `optedOutAt`). Not given: not known, and a send made before `optedOutAt` is
   * lifted by no opt-in.
   */
  priorOptOutAt?: string | null;
  /**
   * The account it was said in since the number moved (`pairsSaidElsewhere`): it holds only a
   * send from another account, which Twilio does not tell of it. Not given: a pair of the list
   * the number carried as it moved, which holds every send.
   */
  saidIn?: string;
  /**
   * The Messaging Service it came through in `saidIn` (`pairsSaidElsewhere`): Twilio refuses
   * there only a send through it, so a send from `saidIn` that did not go through it is held to
   * it too. Null or not given: said to the number itself (or over WhatsApp), Twilio's there.
   */
  saidThrough?: string | null;
  /**
   * When an opt-in to the number in `saidIn` lifted it (ISO 8601 UTC): it holds no send made
   * after. Null or not given: none has.
   */
  liftedAt?: string | null;
  /**
   * The earliest date the opt-out may have been said to the number (ISO 8601 UTC), a pair said
   * since the move in an account the number came to later (`heldSince`): it holds no send made
   * before, though known from a refusal only, or said to another number of a Messaging Service
   * it was in there. Not given: not known.
   */
  heldFrom?: string;
}

export interface OptIn {
  recipient: string;
  /** The Twilio number that received it, and the service it came through (service scope). */
  twilioNumber: string;
  messagingServiceSid: string | null;
  at: string;
}

export interface Verdicts {
  violations: Violation[];
  blocked: SentMessage[];
  /** Sends from moved numbers looked at. */
  checked: number;
}

const REFUSED = 21610;

export function findViolations(
  moved: readonly MovedNumber[],
  /** Phone number → its suppression list as of the move. */
  lists: ReadonlyMap<string, readonly SuppressedPair[]>,
  sends: readonly SentMessage[],
  optIns: readonly OptIn[],
  /** The moved numbers a send with no sender went through its service for. */
  sendersOf: (send: SentMessage) => readonly MovedNumber[] = () => [],
  /**
   * Each moved number's stays, by number SID: the accounts a transfer step put it in, from when
   * (`began`) and until when a later transfer took it out (`left`, null while none has). Given,
   * a send from a moved number in an account that is not its subaccount now is passed over only
   * while the journal has it there (a later wave's business: `numbers-left`); one made there
   * before a transfer put it there or after one took it out (moved there by hand first, or back
   * by hand into a subaccount a later wave moved it out of), or in an account no transfer put it
   * in — the one it came from included, since it began to move out of it: moved back there by
   * hand — was made after someone moved the number there by hand: it still carries its list,
   * and the send is held to it rather than passed over. Not given, such a send is not judged.
   */
  placedIn?: ReadonlyMap<string, readonly Placement[]>,
  /**
   * Each moved number's stays in subaccounts it reached by hand and a later transfer moved it
   * on from (src/reconcile/whereabouts.ts `arrivalStays`), by number SID: a send from it there
   * in one is held to its list, named as the customer's whose subaccount it is.
   */
  arrivedIn?: ReadonlyMap<string, readonly ArrivalStay[]>,
): Verdicts {
  const byPhone = new Map(moved.map((m) => [m.phoneNumber, m]));
  // Which lists each send is held to, before any list is read: a list (50,000 pairs and more,
  // a service's opt-outs being on the list of each of its numbers) is then read once, for the
  // recipients sent to from it, rather than once per send.
  const held = sends.map((send) => heldTo(send, byPhone, sendersOf, placedIn, arrivedIn));
  const listed = pairsSentTo(lists, held);
  const optInsOf = new Map<string, OptIn[]>();
  for (const o of optIns) {
    const theirs = optInsOf.get(o.recipient);
    if (theirs === undefined) optInsOf.set(o.recipient, [o]);
    else theirs.push(o);
  }
  const optedIn = (pair: SuppressedPair, send: SentMessage, number: string) =>
    optedBackIn(pair, send, number, optInsOf.get(send.to) ?? []);
  const verdicts: Verdicts = { violations: [], blocked: [], checked: 0 };
  for (const h of held) {
    if (h === null) continue;
    verdicts.checked += 1;
    const { send } = h;
    const pairsOf = (n: MovedNumber) =>
      (listed.get(n.phoneNumber)?.get(send.to) ?? []).filter(
        (p) => saidBy(p, send) && heldElsewhere(p, send),
      );
    switch (h.as) {
      case 'without-sender':
        if (h.numbers.some((n) => pairsOf(n).length > 0)) verdicts.blocked.push(send);
        break;
      case 'number': {
        // Every pair of its list that names the recipient: a START that lifted an earlier
        // opt-out leaves a later one standing (STOP to the number, START, STOP through its
        // service), whichever the list puts first. The first still standing is the one named.
        const number = h.numbers[0]!;
        const pairs = pairsOf(number);
        if (pairs.length === 0) break;
        if (send.errorCode === REFUSED) {
          verdicts.blocked.push(send);
          break;
        }
        const pair = pairs.find((p) => !optedIn(p, send, send.from));
        if (pair !== undefined) verdicts.violations.push(violationOf(send, number, pair));
        break;
      }
      case 'no-number':
        judgeFromNoNumber(send, h.numbers, pairsOf, optedIn, verdicts);
        break;
    }
  }
  return verdicts;
}

/**
 * A send judged, and the moved numbers whose lists it is held to: from one of them (`number`),
 * from a sender that is no phone number (`no-number`), or refused before a sender was chosen
 * (`without-sender`). Null: not judged.
 */
interface Held {
  send: SentMessage;
  as: 'number' | 'no-number' | 'without-sender';
  numbers: readonly MovedNumber[];
}

function heldTo(
  send: SentMessage,
  byPhone: ReadonlyMap<string, MovedNumber>,
  sendersOf: (send: SentMessage) => readonly MovedNumber[],
  placedIn: ReadonlyMap<string, readonly Placement[]> | undefined,
  arrivedIn?: ReadonlyMap<string, readonly ArrivalStay[]>,
): Held | null {
  if (send.from === '' || !isPhoneNumber(send.from)) {
    // Those of its senders that had moved into the account it was sent from when it was sent.
    const numbers = sendersOf(send).filter(
      (n) => send.accountSid === n.subaccountSid && send.sentAt >= n.moveBegan,
    );
    if (numbers.length === 0) return null;
    if (send.from !== '') return { send, as: 'no-number', numbers };
    // One Twilio did not refuse is not judged: it has not gone out yet (a sender is chosen as
    // it does).
    return send.errorCode === REFUSED ? { send, as: 'without-sender', numbers } : null;
  }
  const number = byPhone.get(send.from);
  if (number === undefined) return null;
  // Sent where it had arrived by hand before a later transfer moved it on: held to its list.
  const arrival = arrivedIn
    ?.get(number.numberSid)
    ?.find(
      (a) => a.accountSid === send.accountSid && a.began <= send.sentAt && send.sentAt <= a.until,
    );
  if (arrival !== undefined) {
    const customerId = arrival.customerId ?? number.customerId;
    return { send, as: 'number', numbers: [{ ...number, customerId }] };
  }
  if (send.accountSid !== number.subaccountSid && !movedThereByHand(number, send, placedIn)) {
    return null;
  }
  // From when the transfer was sent: a send from the subaccount is after the move. One from
  // there before a transfer put it there was made after someone moved it there by hand first
  // (the pass reads that far back for a number known elsewhere before its source: pass-read.ts).
  if (send.sentAt < number.moveBegan && !beforeItsTransfer(number, send, placedIn)) return null;
  return { send, as: 'number', numbers: [number] };
}

/**
 * Each list's pairs naming a recipient some judged send held to it went to (phone number →
 * recipient → pairs, in list order): each list read once, and only the recipients sent to
 * from it kept.
 */
function pairsSentTo(
  lists: ReadonlyMap<string, readonly SuppressedPair[]>,
  held: readonly (Held | null)[],
): Map<string, Map<string, SuppressedPair[]>> {
  const sentTo = new Map<string, Set<string>>();
  for (const h of held) {
    for (const n of h?.numbers ?? []) {
      sentTo.set(n.phoneNumber, (sentTo.get(n.phoneNumber) ?? new Set()).add(h!.send.to));
    }
  }
  const listed = new Map<string, Map<string, SuppressedPair[]>>();
  for (const [phone, recipients] of sentTo) {
    const pairs = new Map<string, SuppressedPair[]>();
    for (const p of lists.get(phone) ?? []) {
      if (!recipients.has(p.recipient)) continue;
      const seen = pairs.get(p.recipient);
      if (seen === undefined) pairs.set(p.recipient, [p]);
      else seen.push(p);
    }
    listed.set(phone, pairs);
  }
  return listed;
}

/**
 * Whether `pair` stood when `send` was sent: it has stood since a date no later than the send
 * (both are Twilio's dates; a tie counts, the safe reading) — since its first opt-out or refusal
 * after its last opt-in, not since the STOP that names it: one said again after the send (or
 * after a refusal) leaves the opt-out standing from the first. A send from before it — from a
 * number that reached its subaccount by hand, read from the subaccount's history start, which
 * was there once before the STOP — broke nothing. One known from a refusal only stands: its
 * opt-out was said no later than the refusal, when is not known; but not before the number may
 * have come to the account it was said in (`heldFrom`), when that is known.
 */
const saidBy = (pair: SuppressedPair, send: SentMessage): boolean =>
  (pair.heldFrom === undefined || pair.heldFrom <= send.sentAt) &&
  (pair.stopMessageSid === null || (pair.standsSince ?? pair.optedOutAt) <= send.sentAt);

/**
 * Whether a pair said since the move holds `send`: one said to the number in the account the
 * send went from is Twilio's to enforce there (it refuses the send), or, said over WhatsApp,
 * not held against an SMS (docs/opt-out-rules.md), and so is one said through a Messaging
 * Service there for a send through that service; one said in another account, or through a
 * service the send did not go through (the number out of it since: Twilio delivers), holds it
 * until an opt-in there lifted it (a send in the second of that opt-in is held: the fail-safe
 * reading).
 */
const heldElsewhere = (pair: SuppressedPair, send: SentMessage): boolean =>
  pair.saidIn === undefined ||
  ((pair.saidIn !== send.accountSid || !enforcedWhereSaid(pair, send)) &&
    (pair.liftedAt === undefined || pair.liftedAt === null || send.sentAt <= pair.liftedAt));

/** Whether Twilio, in the account `pair` was said in, refuses `send` for it. */
const enforcedWhereSaid = (pair: SuppressedPair, send: SentMessage): boolean =>
  pair.saidThrough === undefined ||
  pair.saidThrough === null ||
  pair.saidThrough === send.messagingServiceSid;

/** A stay of a moved number in an account a transfer step put it in (`findViolations`). */
export interface Placement {
  accountSid: string;
  /** When the transfer that put it there was sent (ISO 8601 UTC). */
  began: string;
  /** When a later transfer took it out (ISO 8601 UTC); null while none has. */
  left: string | null;
}

/**
 * Whether `send` was made from `number` in an account the journal does not have it in then: one
 * no transfer step put it in, or one a transfer put it in only after the send, or a later
 * transfer took it out of before it (above). The account it came from is no exception: a send
 * from there made since its transfer was first sent (`heldTo` passes over those before) was
 * made after someone moved it back by hand — into a subaccount a pass reads when the plan found
 * it in another customer's subaccount, where no search for it away looks.
 */
function movedThereByHand(
  number: MovedNumber,
  send: SentMessage,
  placedIn: ReadonlyMap<string, readonly Placement[]> | undefined,
): boolean {
  if (placedIn === undefined) return false;
  const there = (placedIn.get(number.numberSid) ?? []).filter(
    (stay) => stay.accountSid === send.accountSid,
  );
  if (there.length === 0) return true;
  // Before a transfer put it there (someone had moved it there by hand first) it is no more
  // the journal's than after one took it out.
  const sent = Date.parse(send.sentAt);
  return !there.some(
    (stay) =>
      Date.parse(stay.began) <= sent && (stay.left === null || sent <= Date.parse(stay.left)),
  );
}

/**
 * Whether `send`, from `number`'s own subaccount, was made before every transfer that put it
 * there: someone had moved it there by hand first, and it went out with its opt-outs forgotten.
 */
function beforeItsTransfer(
  number: MovedNumber,
  send: SentMessage,
  placedIn: ReadonlyMap<string, readonly Placement[]> | undefined,
): boolean {
  if (send.accountSid !== number.subaccountSid) return false;
  const there = (placedIn?.get(number.numberSid) ?? []).filter(
    (stay) => stay.accountSid === send.accountSid,
  );
  const sent = Date.parse(send.sentAt);
  return there.length > 0 && there.every((stay) => sent < Date.parse(stay.began));
}

/**
 * Whether `send`'s recipient opted back in after `pair` put them on the list and before the
 * send: to `number` (the moved number whose list it is), or through the service the send went
 * through. `optIns`: the recipient's. Neither in the second of the opt-out nor in that of the
 * send: times are whole seconds, and on a tie the opt-out wins, as it does on the list (a STOP
 * and a START said in one second in an account the number left keep the person on it).
 */
function optedBackIn(
  pair: SuppressedPair,
  send: SentMessage,
  number: string,
  optIns: readonly OptIn[],
): boolean {
  const said = standingAt(pair, send);
  return optIns.some(
    (o) =>
      o.recipient === send.to &&
      o.at < send.sentAt &&
      o.at > said &&
      (o.messagingServiceSid === null
        ? o.twilioNumber === number
        : o.messagingServiceSid === send.messagingServiceSid),
  );
}

/**
 * The opt-out of `pair` an opt-in must come after to lift it for `send`: the latest STOP said no
 * later than the send. That is the STOP that names the pair, unless it was said after the send
 * (said again, the pair standing from an earlier one): then the STOP before it, when that was
 * said no later than the send, or the refusal the pair stood from, when it took no STOP before.
 * A STOP between them, or one not known, lets no opt-in before the send lift it.
 */
function standingAt(pair: SuppressedPair, send: SentMessage): string {
  if (pair.optedOutAt <= send.sentAt) return pair.optedOutAt;
  const prior = pair.priorOptOutAt;
  if (prior === undefined) return send.sentAt;
  if (prior === null) return pair.standsSince ?? send.sentAt;
  return prior <= send.sentAt ? prior : send.sentAt;
}

/**
 * A send from a sender that is no phone number (an RCS agent, a short code, an alphanumeric
 * sender ID), held to the lists of the moved numbers it went out for (`senders`: those in its
 * service, else every moved number of its subaccount) that had moved when it was sent. A
 * violation when its recipient is on one of them and has not opted back in since; blocked when
 * Twilio refused it (21610). It keeps its sender as Twilio wrote it.
 */
function judgeFromNoNumber(
  send: SentMessage,
  senders: readonly MovedNumber[],
  pairsOf: (n: MovedNumber) => readonly SuppressedPair[],
  optedIn: (pair: SuppressedPair, send: SentMessage, number: string) => boolean,
  verdicts: Verdicts,
): void {
  const listed = senders.flatMap((n) => pairsOf(n).map((pair) => ({ number: n, pair })));
  if (listed.length === 0) return;
  if (send.errorCode === REFUSED) {
    verdicts.blocked.push(send);
    return;
  }
  const broken = listed.find(({ number, pair }) => !optedIn(pair, send, number.phoneNumber));
  if (broken === undefined) return;
  verdicts.violations.push(violationOf(send, broken.number, broken.pair));
}

/** A send to someone on `number`'s list (`pair`), with its sender as Twilio wrote it. */
function violationOf(send: SentMessage, number: MovedNumber, pair: SuppressedPair): Violation {
  return {
    violatingMessageSid: send.sid,
    recipient: send.to,
    senderNumber: send.from,
    messagingServiceSid: send.messagingServiceSid,
    customerId: number.customerId,
    stopMessageSid: pair.stopMessageSid,
    optedOutAt: pair.optedOutAt,
    sentAt: send.sentAt,
    accountSid: send.accountSid,
    status: send.status,
  };
}
