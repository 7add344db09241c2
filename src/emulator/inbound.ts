/**
 * A live inbound message (`POST /__emulator/inbound`: an end user texts a Twilio number) and
 * where Twilio sends it (the Services API's field descriptions). Seeded messages are history and
 * never come through here.
 *
 * - A number in a Messaging Service: with `use_inbound_webhook_on_number`, the number's own
 *   `sms_url` (the service's `inbound_request_url` when the number has none); otherwise the
 *   service's `inbound_request_url`. A service with neither **drops** the message: "not logged
 *   and not received on the Account" — it is in no message list and no webhook is made.
 * - A number in no service: its `sms_url`; with none the message is stored, no webhook.
 *
 * Whether Twilio's opt-out filtering still sees a message its service drops is not documented.
 * The emulator says yes: a dropped STOP still opts the sender out (Twilio: "the block works and
 * is logged even if your number currently has no messaging request URL"), only the message
 * itself is nowhere to be read. So a dropped STOP is an opt-out no snapshot can ever find.
 */

import { ApiError } from './api-error.js';
import { classifyBody, type KeywordClass } from './keywords.js';
import { segmentCount, type NumberRecord } from './records.js';
import type { EmulatorState } from './state.js';

export type InboundRoute =
  /** The service's `inbound_request_url`. */
  | { kind: 'service-url'; url: string; method: string }
  /** The number's own `sms_url`. */
  | { kind: 'number-url'; url: string; method: string }
  /** Stored, but there is no URL to call. */
  | { kind: 'no-url' }
  /** Neither stored nor delivered. */
  | { kind: 'dropped' };

/** Where an inbound message to this number goes now. */
export function routeOf(state: EmulatorState, number: NumberRecord): InboundRoute {
  const own = number.settings.sms_url;
  const ownRoute: InboundRoute =
    own === null
      ? { kind: 'no-url' }
      : { kind: 'number-url', url: own, method: number.settings.sms_method };
  if (number.serviceSid === null) return ownRoute;
  const service = state.services.get(number.serviceSid)!.settings;
  if (service.use_inbound_webhook_on_number && own !== null) return ownRoute;
  if (service.inbound_request_url !== null) {
    return {
      kind: 'service-url',
      url: service.inbound_request_url,
      method: service.inbound_method,
    };
  }
  return service.use_inbound_webhook_on_number ? { kind: 'no-url' } : { kind: 'dropped' };
}

export interface LiveInbound {
  sid: string;
  accountSid: string;
  messagingServiceSid: string | null;
  from: string;
  to: string;
  body: string;
  dateSent: number;
  numSegments: number;
  /** Whether the message is in the account's message list. */
  stored: boolean;
  keyword: KeywordClass | null;
  route: InboundRoute;
}

/** Receives a live inbound message: routed, stored unless dropped, opt-outs applied either way. */
export function receiveInbound(
  state: EmulatorState,
  init: { from: string; to: string; body: string; dateSent?: number },
): LiveInbound {
  const number = state.numberByAddress(init.to);
  if (number === undefined) {
    throw new ApiError(404, 20404, `No phone number ${init.to} in the emulator`);
  }
  const route = routeOf(state, number);
  const keyword = classifyBody(init.body, number.type)?.kind ?? null;
  const message = {
    accountSid: number.accountSid,
    from: init.from,
    to: init.to,
    body: init.body,
    dateSent: Math.floor((init.dateSent ?? state.now()) / 1000) * 1000,
    messagingServiceSid: number.serviceSid,
  };
  if (route.kind === 'dropped') {
    // Twilio still gives it a SID; only the opt-out filter ever sees it.
    const sid = state.newSid('SM');
    state.applyKeyword({ ...message, sid });
    const numSegments = segmentCount(init.body);
    return { ...message, sid, numSegments, stored: false, keyword, route };
  }
  const record = state.recordMessage({ ...message, direction: 'inbound', status: 'received' });
  return {
    ...message,
    // What the stored message says: a number in no service may carry the account's default.
    messagingServiceSid: record.messagingServiceSid,
    sid: record.sid,
    numSegments: record.numSegments,
    stored: true,
    keyword,
    route,
  };
}
