/**
 * What a message is evidence of: an inbound keyword (opt-out, opt-in, help) or a send
 * Twilio refused with 21610. Everything else is not the ledger's business.
 */

import { isoSeconds } from '../clock.js';
import type { LedgerEvent } from '../db/ledger.js';
import type { Message, ServiceSighting } from '../twilio/port.js';
import { splitAddress, type Address } from './channels.js';
import { isTollFree, matchKeyword } from './keywords.js';

export const UNSUBSCRIBED_RECIPIENT = 21610;

/** `numberTypes`: phone number → the type Twilio reports for it, where known. */
export function classifyMessage(
  message: Message,
  numberTypes: ReadonlyMap<string, string | null>,
): LedgerEvent | null {
  if (message.direction === 'inbound') {
    const twilioSide = splitAddress(message.to);
    const match = matchKeyword(
      message.body,
      isTollFree(twilioSide.address, numberTypes.get(twilioSide.address) ?? null),
    );
    if (match === null) return null;
    const endUser = splitAddress(message.from);
    if (match.kind === 'opt-in' && !liftsSmsOptOuts(endUser.channel ?? twilioSide.channel)) {
      return null;
    }
    return event(message, match.kind, match.keyword, twilioSide, endUser);
  }
  if (message.errorCode === UNSUBSCRIBED_RECIPIENT) {
    return event(message, 'refused', null, splitAddress(message.from), splitAddress(message.to));
  }
  return null;
}

/**
 * A message of a number through a Messaging Service SID (its send, or one it received), as the
 * page scanner gives it (`ServiceSighting`): the number was in the service then, if the SID is
 * one. For the messages read whole (Bulk Export's day files). Undated: none.
 */
export function serviceSighting(message: Message): ServiceSighting | null {
  if (message.messagingServiceSid === null || message.dateSent === null) return null;
  const address = message.direction === 'inbound' ? message.to : message.from;
  if (address === null || address === '') return null;
  const at = message.dateSent;
  return { address, serviceSid: message.messagingServiceSid, first: at, last: at };
}

/**
 * Whether an opt-in over this channel lifts an SMS opt-out: over SMS and MMS (no channel), and
 * over RCS, which Twilio keeps as one with SMS. A START over WhatsApp (or any other channel)
 * is not documented as an SMS opt-in, and its STOP counts only to keep the person on the list:
 * it never takes them off.
 */
const liftsSmsOptOuts = (channel: string | null): boolean => channel === null || channel === 'rcs';

/**
 * An RCS or WhatsApp message's addresses are channel addresses (`rcs:+1…`): the evidence is
 * kept under the E.164 numbers they carry, which the customer's app and Twilio's unified
 * RCS/SMS opt-outs key by, with the channel beside them (docs/opt-out-rules.md, Channels).
 */
function event(
  message: Message,
  kind: LedgerEvent['kind'],
  keyword: string | null,
  twilioSide: Address,
  endUser: Address,
): LedgerEvent {
  // Undated evidence is kept too (the ledger holds it apart and every report counts it).
  const when = message.dateSent;
  return {
    messageSid: message.sid,
    accountSid: message.accountSid,
    kind,
    keyword,
    twilioNumber: twilioSide.address,
    endUser: endUser.address,
    channel: endUser.channel ?? twilioSide.channel,
    messagingServiceSid: message.messagingServiceSid,
    direction: message.direction,
    body: message.body,
    dateSent: when === null ? null : isoSeconds(when),
    errorCode: message.errorCode,
  };
}
