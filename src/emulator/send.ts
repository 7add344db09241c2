/** Messages sent through the API (`POST …/Messages.json`), held to the opt-out store. */

import { ApiError } from './api-error.js';
import { optOutAddress } from './channels.js';
import type { MessageRecord } from './message-store.js';
import type { AccountRecord, NumberRecord, ServiceRecord } from './records.js';
import type { EmulatorState } from './state.js';

/**
 * A send through the API. Refused with 21610 when the recipient opted out of the sender
 * number, or of the Messaging Service the sender belongs to, in this account (by keyword or
 * by a consent record); the refused send is kept in the history as a failed message.
 */
export function sendMessage(
  state: EmulatorState,
  account: AccountRecord,
  init: { to: string; body: string; from?: string; messagingServiceSid?: string },
): MessageRecord {
  if (account.status !== 'active') {
    throw new ApiError(403, 20403, 'The account lacks permission to access the Twilio API.');
  }
  let service: ServiceRecord | undefined;
  if (init.messagingServiceSid !== undefined) {
    service = state.services.get(init.messagingServiceSid);
    if (service === undefined || service.accountSid !== account.sid) {
      throw new ApiError(400, 21701, 'The Messaging Service Sid is invalid');
    }
  }
  let sender: NumberRecord | undefined;
  if (init.from !== undefined) {
    sender = state.numberByAddress(init.from);
    if (sender === undefined || sender.accountSid !== account.sid) {
      throw new ApiError(
        400,
        21606,
        `The From phone number ${init.from} is not a valid, SMS-capable inbound phone number or short code for your account.`,
      );
    }
  } else if (service !== undefined) {
    const first = service.numbers.values().next();
    if (first.done) {
      throw new ApiError(
        400,
        21703,
        'The Messaging Service does not have a phone number available to send a message',
      );
    }
    sender = state.numbers.get(first.value);
  }
  if (sender === undefined) {
    throw new ApiError(400, 21603, "A 'From' phone number is required.");
  }
  // Kept as the message gives them (`whatsapp:+1…`); the opt-out store's keys are the phone
  // numbers for SMS and RCS alike, and WhatsApp's own (`optOutAddress`).
  const from = init.from ?? sender.phoneNumber;
  const blocked = state.optOuts.blocking(
    account.sid,
    optOutAddress(from),
    service?.sid ?? sender.serviceSid,
    optOutAddress(init.to),
    sender.type === 'toll-free',
  );
  if (blocked !== undefined) {
    // Twilio answers 400 / 21610 at once; the refusal also stays in the account's history as
    // a failed message carrying error 21610 (as refused sends appear in message logs, and as
    // the scenarios' histories record them), so a later reading of the history sees it.
    state.recordMessage({
      accountSid: account.sid,
      from,
      to: init.to,
      body: init.body,
      direction: 'outbound-api',
      status: 'failed',
      errorCode: 21610,
      dateSent: state.now(),
      messagingServiceSid: service?.sid ?? sender.serviceSid,
    });
    throw new ApiError(400, 21610, 'Attempt to send to unsubscribed recipient');
  }
  return state.recordMessage({
    accountSid: account.sid,
    from,
    to: init.to,
    body: init.body,
    direction: 'outbound-api',
    status: service === undefined ? 'queued' : 'accepted',
    dateSent: state.now(),
    messagingServiceSid: service?.sid ?? sender.serviceSid,
  });
}
