/**
 * `findViolations` as it was before its lists and opt-ins were indexed (b722204): every send
 * scans its number's whole list (`.find`, `.filter`, `.some`) and every listed send every
 * opt-in. Kept as the reference the indexed one is held to (test/reconcile/violations-index.test.ts)
 * and timed against (`npm run bench -- --only reconcile`): small, and plainly the rules of
 * src/reconcile/violations.ts.
 */

import type { MovedNumber, Violation } from '../../src/db/reconcile.js';
import { isPhoneNumber } from '../../src/optouts/channels.js';
import type {
  OptIn,
  Placement,
  SentMessage,
  SuppressedPair,
  Verdicts,
} from '../../src/reconcile/violations.js';

type Lists = ReadonlyMap<string, readonly SuppressedPair[]>;

/**
 * A pair stood at the send: standing since no later than it, or known from a refusal only; and
 * said no earlier than the send could have been (`heldFrom`).
 */
const saidBy = (p: SuppressedPair, send: SentMessage) =>
  (p.heldFrom === undefined || p.heldFrom <= send.sentAt) &&
  (p.stopMessageSid === null || (p.standsSince ?? p.optedOutAt) <= send.sentAt);

/**
 * A pair said since the move in an account (`saidIn`) holds only a send from another account,
 * or one from that account not through the service it came through (`saidThrough`), made no
 * later than an opt-in there lifted it (`liftedAt`).
 */
const heldThere = (p: SuppressedPair, send: SentMessage) =>
  p.saidIn === undefined ||
  ((p.saidIn !== send.accountSid ||
    (p.saidThrough != null && p.saidThrough !== send.messagingServiceSid)) &&
    (p.liftedAt === undefined || p.liftedAt === null || send.sentAt <= p.liftedAt));

/**
 * The latest opt-out of the pair said no later than the send, which an opt-in must follow: the
 * STOP naming it, else the one before it (or, none, the refusal it stood from) when said by the
 * send; else, or not known, the send itself (nothing before the send lifts it).
 */
function standingAt(p: SuppressedPair, send: SentMessage): string {
  if (p.optedOutAt <= send.sentAt) return p.optedOutAt;
  if (p.priorOptOutAt === null) return p.standsSince ?? send.sentAt;
  if (p.priorOptOutAt !== undefined && p.priorOptOutAt <= send.sentAt) return p.priorOptOutAt;
  return send.sentAt;
}

export function violationsByScan(
  moved: readonly MovedNumber[],
  lists: Lists,
  sends: readonly SentMessage[],
  optIns: readonly OptIn[],
  sendersOf: (send: SentMessage) => readonly MovedNumber[] = () => [],
  placedIn?: ReadonlyMap<string, readonly Placement[]>,
): Verdicts {
  const byPhone = new Map(moved.map((m) => [m.phoneNumber, m]));
  const verdicts: Verdicts = { violations: [], blocked: [], checked: 0 };
  const optedBackIn = (pair: SuppressedPair, send: SentMessage, number: string) =>
    optIns.some(
      (o) =>
        o.recipient === send.to &&
        o.at < send.sentAt &&
        o.at > standingAt(pair, send) &&
        (o.messagingServiceSid === null
          ? o.twilioNumber === number
          : o.messagingServiceSid === send.messagingServiceSid),
    );
  for (const send of sends) {
    if (send.from === '' || !isPhoneNumber(send.from)) {
      const after = sendersOf(send).filter(
        (n) => send.accountSid === n.subaccountSid && send.sentAt >= n.moveBegan,
      );
      if (after.length === 0) continue;
      if (send.from === '') {
        if (send.errorCode !== 21610) continue;
        verdicts.checked += 1;
        if (
          after.some((n) =>
            lists
              .get(n.phoneNumber)
              ?.some((p) => p.recipient === send.to && saidBy(p, send) && heldThere(p, send)),
          )
        ) {
          verdicts.blocked.push(send);
        }
        continue;
      }
      verdicts.checked += 1;
      const listed = after.flatMap((n) =>
        (lists.get(n.phoneNumber) ?? [])
          .filter((p) => p.recipient === send.to && saidBy(p, send) && heldThere(p, send))
          .map((pair) => ({ number: n, pair })),
      );
      if (listed.length === 0) continue;
      if (send.errorCode === 21610) {
        verdicts.blocked.push(send);
        continue;
      }
      const broken = listed.find(
        ({ number, pair }) => !optedBackIn(pair, send, number.phoneNumber),
      );
      if (broken !== undefined)
        verdicts.violations.push(violationOf(send, broken.number, broken.pair));
      continue;
    }
    const number = byPhone.get(send.from);
    if (number === undefined) continue;
    // Made where the journal does not have the number then: an account no transfer put it in
    // (the one it came from too: moved back there by hand since it began to move), or one a
    // transfer put it in only after the send, or a later transfer took it out of before it.
    const there = (placedIn?.get(number.numberSid) ?? []).filter(
      (stay) => stay.accountSid === send.accountSid,
    );
    const byHand =
      placedIn !== undefined &&
      there.every(
        (stay) => send.sentAt < stay.began || (stay.left !== null && send.sentAt > stay.left),
      );
    if (send.accountSid !== number.subaccountSid && !byHand) continue;
    // Before its move only from its own subaccount before every transfer put it there (moved
    // there by hand first).
    const before =
      send.accountSid === number.subaccountSid &&
      there.length > 0 &&
      there.every((stay) => send.sentAt < stay.began);
    if (send.sentAt < number.moveBegan && !before) continue;
    verdicts.checked += 1;
    const pairs = (lists.get(send.from) ?? []).filter(
      (p) => p.recipient === send.to && saidBy(p, send) && heldThere(p, send),
    );
    if (pairs.length === 0) continue;
    if (send.errorCode === 21610) {
      verdicts.blocked.push(send);
      continue;
    }
    const pair = pairs.find((p) => !optedBackIn(p, send, send.from));
    if (pair !== undefined) verdicts.violations.push(violationOf(send, number, pair));
  }
  return verdicts;
}

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
