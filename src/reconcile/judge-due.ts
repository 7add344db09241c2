/**
 * Sends earlier passes kept pending that a pass judges without reading them again: from a number
 * still where it sent from, as a pass judges a send it read; from one moved on, or from a sender
 * that is no phone number, against the opt-out the send was kept with.
 */

import type { KeptSend, MovedNumber, Violation } from '../db/reconcile.js';
import { isPhoneNumber } from '../optouts/channels.js';
import { findViolations, type OptIn, type SentMessage, type SuppressedPair } from './violations.js';

/**
 * The sends earlier passes kept pending that this pass judges without reading them (`due`):
 * from a number still in the subaccount it sent from (or kept before migration 015), as a pass
 * judges a send it read; from a number a later wave moved on, against the opt-out it was kept
 * with, lifted only by an opt-in in the account it was sent from (`optInsOf`); from a sender
 * that is no phone number, as `judgeKeptFromNoNumber` says. Those judged as a pass judges a
 * send it read are judged together, each list read once for all of them, and each account's
 * opt-ins are read once: judged one by one, each send read its sender's whole list. Pure.
 */
export function judgeDue(
  due: readonly KeptSend[],
  {
    moved,
    lists,
    optIns,
    sendersOf,
    optInsOf,
  }: {
    moved: readonly MovedNumber[];
    lists: ReadonlyMap<string, readonly SuppressedPair[]>;
    optIns: readonly OptIn[];
    sendersOf: (send: SentMessage) => readonly MovedNumber[];
    /** The opt-ins the ledger holds in an account. */
    optInsOf: (accountSid: string) => readonly OptIn[];
  },
): Violation[] {
  const byPhone = new Map(moved.map((m) => [m.phoneNumber, m]));
  // The moved numbers a kept send went out for, in the account it was sent from.
  const senders = (send: SentMessage) =>
    sendersOf(send).filter((n) => n.subaccountSid === send.accountSid);
  const asRead: KeptSend[] = [];
  const asKept = new Map<KeptSend, Violation[]>();
  const byRecipient = new Map<string, Map<string, OptIn[]>>();
  const optInsTo = (accountSid: string, recipient: string): readonly OptIn[] => {
    let of = byRecipient.get(accountSid);
    if (of === undefined) {
      of = new Map();
      for (const o of optInsOf(accountSid)) {
        const theirs = of.get(o.recipient);
        if (theirs === undefined) of.set(o.recipient, [o]);
        else theirs.push(o);
      }
      byRecipient.set(accountSid, of);
    }
    return of.get(recipient) ?? [];
  };
  for (const p of due) {
    if (!isPhoneNumber(p.from)) {
      // One a moved number it went out for is still in the account it was sent from: as read.
      if (senders(p).length > 0) asRead.push(p);
      else asKept.set(p, judgeKeptFromNoNumber(p, optInsTo));
      continue;
    }
    const number = byPhone.get(p.from);
    if (number === undefined) continue;
    // (A send kept before migration 015 has nothing kept with it: judged as it was.)
    if (number.subaccountSid === p.accountSid || p.optedOutAt === null) {
      asRead.push(p);
      continue;
    }
    // Moved on: judged against the opt-out it was found against when kept, and lifted only by
    // an opt-in the ledger holds in the account it was sent from.
    const asSent = {
      ...number,
      subaccountSid: p.accountSid,
      customerId: p.customerId ?? number.customerId,
    };
    asKept.set(p, judgedAsKept(p, p.optedOutAt, asSent, optInsTo));
  }
  const found = new Map<string, Violation[]>();
  for (const v of findViolations(moved, lists, asRead, optIns, senders).violations) {
    const theirs = found.get(v.violatingMessageSid);
    if (theirs === undefined) found.set(v.violatingMessageSid, [v]);
    else theirs.push(v);
  }
  // In the order they were kept.
  return due.flatMap((p) => asKept.get(p) ?? found.get(p.sid) ?? []);
}

/**
 * A kept send from a sender that is no phone number (an RCS agent) none of whose moved numbers
 * is still in the subaccount it was sent from (while one is, it is judged as a pass judges it:
 * `judgeDue`): judged against the opt-out it was found against when kept, lifted only by an
 * opt-in the ledger holds in that subaccount, as a moved-on number's send is.
 */
function judgeKeptFromNoNumber(
  kept: KeptSend,
  optInsTo: (accountSid: string, recipient: string) => readonly OptIn[],
): Violation[] {
  if (kept.optedOutAt === null) return [];
  // Nothing moved is left to name: the kept opt-out stands on a list of its own, the sender's.
  const asSent: MovedNumber = {
    numberSid: '',
    phoneNumber: kept.from,
    customerId: kept.customerId ?? '',
    subaccountSid: kept.accountSid,
    sourceAccountSid: '',
    sourceServiceSid: null,
    movedAt: '',
    moveBegan: '',
    subaccountCreatedAt: null,
  };
  return judgedAsKept(kept, kept.optedOutAt, asSent, optInsTo);
}

/**
 * A kept send judged against the opt-out it was found against when kept (`optedOutAt`; it stood
 * at the send, though a STOP said again after the send may name it), from
 * `asSent` (its sender as it stood in the account it was sent from), lifted only by an opt-in
 * the ledger holds in that account (`optInsTo`: those of a recipient there): its number, or
 * every one it went out for, has moved on.
 */
function judgedAsKept(
  kept: KeptSend,
  optedOutAt: string,
  asSent: MovedNumber,
  optInsTo: (accountSid: string, recipient: string) => readonly OptIn[],
): Violation[] {
  // It stood when the send was made (it was kept against it): named by a STOP said again
  // after the send, it has stood since no later than the send.
  const standsSince = optedOutAt <= kept.sentAt ? optedOutAt : kept.sentAt;
  const list = new Map([
    [
      kept.from,
      [{ recipient: kept.to, stopMessageSid: kept.stopMessageSid, optedOutAt, standsSince }],
    ],
  ]);
  return findViolations([asSent], list, [kept], optInsTo(kept.accountSid, kept.to), () => [asSent])
    .violations;
}
