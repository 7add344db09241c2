/**
 * The opt-outs a moved number took since it moved in an account other than the one a send
 * went from: what Twilio keeps in the account that held the number when the STOP was said, and
 * forgets for the account the number is moved into next (docs/opt-out-rules.md, After the
 * move). Pure.
 */

import type { NumberEvidence } from '../db/ledger.js';
import type { SuppressedPair } from './violations.js';

/**
 * Each number's pairs from its own evidence since it moved (`evidence`, in the order
 * `numberEvidenceSince` gives it), by phone number: one for each STOP, and one for the first
 * refusal of a stretch with no STOP before it, each held only against a send from another
 * account than the one it was said in (`saidIn`) and only until an opt-in to the number in
 * that account, in the same scope, lifted it (`liftedAt`; an opt-in in the second of the
 * stretch's latest opt-out lifts nothing, as on the list). A STOP stands from its own second,
 * a refusal from no known time (its STOP lies outside what was read): it holds every send of
 * the number before its stretch was lifted, from when the number may have come to the account
 * it was said in where that is known (`heldFrom`, which `suppressionLists` gives). Any other opt-in (to the number in the account the
 * send went from, say) lifts them as it lifts the list's (`findViolations`). The latest STOP
 * comes first, then the refusals: the first that stood at a send is the one a violation names.
 */
export function pairsSaidElsewhere(
  evidence: readonly NumberEvidence[],
): Map<string, SuppressedPair[]> {
  const byPhone = new Map<string, SuppressedPair[]>();
  let stretch: NumberEvidence[] = [];
  let latestOut = '';
  const close = (liftedAt: string | null) => {
    if (stretch.length === 0) return;
    const first = stretch[0]!;
    const pairs = byPhone.get(first.phoneNumber) ?? [];
    const pairOf = (e: NumberEvidence, stop: boolean): SuppressedPair => ({
      recipient: e.recipient,
      stopMessageSid: stop ? e.messageSid : null,
      optedOutAt: e.dateSent,
      standsSince: e.dateSent,
      saidIn: e.accountSid,
      saidThrough: serviceOf(e),
      liftedAt,
    });
    for (const e of stretch) if (e.kind === 'opt-out') pairs.push(pairOf(e, true));
    // A refusal before any STOP of the stretch: opted out no later than then, since when not
    // known. One after a STOP is that STOP's doing.
    if (first.kind === 'refused') pairs.push(pairOf(first, false));
    byPhone.set(first.phoneNumber, pairs);
    stretch = [];
  };
  let key = '';
  for (const e of evidence) {
    const k = `${e.phoneNumber}|${e.accountSid}|${e.scopeKey}|${e.recipient}`;
    if (k !== key) {
      close(null);
      key = k;
    }
    if (e.kind === 'opt-in') {
      if (stretch.length > 0 && e.dateSent > latestOut) close(e.dateSent);
      continue;
    }
    stretch.push(e);
    latestOut = e.dateSent;
  }
  close(null);
  for (const pairs of byPhone.values()) {
    pairs.sort((a, b) =>
      (a.stopMessageSid === null) !== (b.stopMessageSid === null)
        ? a.stopMessageSid === null
          ? 1
          : -1
        : a.optedOutAt < b.optedOutAt
          ? 1
          : a.optedOutAt > b.optedOutAt
            ? -1
            : 0,
    );
  }
  return byPhone;
}

/**
 * The Messaging Service an opt-out said to the number came through (the SID of its scope, one
 * not known as a service included): Twilio refuses, in that account, only the sends through it.
 * Null for one said to the number itself, which Twilio holds against every SMS of the number
 * there, and for one said over WhatsApp, which is not held against an SMS there (Channels).
 */
function serviceOf(e: NumberEvidence): string | null {
  if (e.channel === 'whatsapp' || e.scopeKey === e.phoneNumber) return null;
  return e.scopeKey.split(' ')[0]!;
}
