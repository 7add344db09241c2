/**
 * What a message is evidence of: an inbound keyword (opt-out, opt-in, help) or a send
 * Twilio refused with 21610. Everything else is not the ledger's business.
 */

import { isoSeconds } from '../clock.js';
import type { LedgerEvent } from '../db/ledger.js';
import type { Message } from '../twilio/port.js';
import { isTollFree, matchKeyword } from './keywords.js';

export const UNSUBSCRIBED_RECIPIENT = 21610;

/** `numberTypes`: phone number → the type Twilio reports for it, where known. */
export function classifyMessage(
  message: Message,
  numberTypes: ReadonlyMap<string, string | null>,
): LedgerEvent | null {
  if (message.direction === 'inbound') {
    const match = matchKeyword(
      message.body,
      isTollFree(message.to, numberTypes.get(message.to) ?? null),
    );
    if (match === null) return null;
    return event(message, match.kind, match.keyword, message.to, message.from);
  }
  if (message.errorCode === UNSUBSCRIBED_RECIPIENT) {
    return event(message, 'refused', null, message.from, message.to);
  }
  return null;
}

function event(
  message: Message,
  kind: LedgerEvent['kind'],
  keyword: string | null,
  twilioNumber: string,
  endUser: string,
): LedgerEvent {
  // Undated evidence is kept too (the ledger holds it apart and every report counts it).
  const when = message.dateSent;
  return {
    messageSid: message.sid,
    accountSid: message.accountSid,
    kind,
    keyword,
    twilioNumber,
    endUser,
    messagingServiceSid: message.messagingServiceSid,
    direction: message.direction,
    body: message.body,
    dateSent: when === null ? null : isoSeconds(when),
    errorCode: message.errorCode,
  };
}
