/**
 * `POST /__emulator/inbound`: `{from, to, body, date_sent?}` — an end user texts a
 * Twilio number. The message is routed as Twilio routes it (inbound.ts), its webhook signed
 * with the owning account's Auth Token, delivered when the URL is on this machine (awaited, with
 * a short timeout, so a test sees the outcome), and logged for `GET /__emulator/webhooks`. The
 * answer says where the message went.
 */

import { ApiError } from './api-error.js';
import { receiveInbound } from './inbound.js';
import { iso8601, parseGivenDate } from './render.js';
import type { EmulatorState } from './state.js';
import {
  deliver,
  inboundParams,
  isDeliverable,
  webhookRequest,
  type WebhookLog,
  type WebhookLogEntry,
} from './webhooks.js';

export async function handleInbound(
  state: EmulatorState,
  webhooks: WebhookLog,
  arrived: number,
  input: Record<string, unknown>,
) {
  const text = (key: string) => {
    const value = input[key];
    if (typeof value !== 'string' || value === '') {
      throw new ApiError(400, 20001, `"${key}" is required`);
    }
    return value;
  };
  const from = text('from');
  const to = text('to');
  const body = text('body');
  const dateSent =
    input['date_sent'] === undefined ? undefined : parseGivenDate(String(input['date_sent']));
  if (dateSent !== undefined && Number.isNaN(dateSent)) {
    throw new ApiError(400, 20001, `invalid date_sent ${String(input['date_sent'])}`);
  }

  const message = receiveInbound(state, { from, to, body, dateSent });
  const { route } = message;
  const entry: WebhookLogEntry = {
    time: new Date(arrived).toISOString(),
    message_sid: message.sid,
    account_sid: message.accountSid,
    from,
    to,
    url: null,
    method: null,
    signature: null,
    delivered_status: null,
    dropped: route.kind === 'dropped',
    error: null,
  };
  if (route.kind === 'service-url' || route.kind === 'number-url') {
    // Signed with the Auth Token of the account that owns the number now.
    const token = state.account(message.accountSid)!.authToken;
    const request = webhookRequest(route.url, route.method, inboundParams(message), token);
    Object.assign(entry, { url: request.url, method: route.method, signature: request.signature });
    if (isDeliverable(request.url)) {
      const result = await deliver(request, route.method);
      entry.delivered_status = result.status;
      entry.error = result.error;
    }
  }
  webhooks.add(entry);

  return {
    sid: message.sid,
    account_sid: message.accountSid,
    messaging_service_sid: message.messagingServiceSid,
    date_sent: iso8601(message.dateSent),
    /** Whether it is in the account's message list. */
    stored: message.stored,
    /** `service-url`, `number-url`, `no-url` (stored, nothing to call) or `dropped`. */
    route: route.kind,
    webhook:
      entry.url === null
        ? null
        : {
            url: entry.url,
            method: entry.method,
            signature: entry.signature,
            delivered_status: entry.delivered_status,
            error: entry.error,
          },
  };
}
