/**
 * The webhook Twilio makes for an inbound message: Twilio's parameters, signed
 * as Twilio signs them — `X-Twilio-Signature` = base64(HMAC-SHA1(the owning account's Auth
 * Token, the full URL followed by each POST parameter's name and value, sorted by name)). A
 * GET carries the parameters in its query and signs the URL alone. A number moved into a
 * subaccount is signed with the subaccount's token, so an app that checks with the parent's
 * rejects it. Deliveries to a plain-HTTP loopback URL (127.0.0.1, localhost, [::1]) are real
 * requests; other URLs are recorded, never sent (the emulator makes no request beyond this
 * machine, and does not speak TLS to it).
 */

import { createHmac } from 'node:crypto';
import http from 'node:http';

import type { LiveInbound } from './inbound.js';

/** How long an inbound waits for the app to answer its webhook. */
export const WEBHOOK_TIMEOUT_MS = 2000;
const LOG_LIMIT = 100_000;

const OPT_OUT_TYPE = { 'opt-out': 'STOP', 'opt-in': 'START', help: 'HELP' } as const;

export interface WebhookLogEntry {
  /** When the message arrived (emulator clock), ISO 8601 to the millisecond. */
  time: string;
  message_sid: string;
  account_sid: string;
  from: string;
  to: string;
  /** Where the webhook goes; null when there is none (dropped, or no URL configured). */
  url: string | null;
  method: string | null;
  signature: string | null;
  /** The app's HTTP status; null when not delivered (not loopback, no answer, no URL). */
  delivered_status: number | null;
  /** True when the number's Messaging Service dropped the message. */
  dropped: boolean;
  /** Why a loopback delivery got no answer (timeout, connection refused…), else null. */
  error: string | null;
}

/** Twilio's X-Twilio-Signature for a request to `url` with these POST parameters. */
export function twilioSignature(
  authToken: string,
  url: string,
  params: Readonly<Record<string, string>>,
): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += name + params[name];
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** The parameters of Twilio's inbound-message webhook. */
export function inboundParams(message: LiveInbound): Record<string, string> {
  const params: Record<string, string> = {
    MessageSid: message.sid,
    SmsSid: message.sid,
    SmsMessageSid: message.sid,
    AccountSid: message.accountSid,
    From: message.from,
    To: message.to,
    Body: message.body,
    NumMedia: '0',
    NumSegments: String(message.numSegments),
    SmsStatus: 'received',
    ApiVersion: '2010-04-01',
  };
  if (message.messagingServiceSid !== null) {
    params['MessagingServiceSid'] = message.messagingServiceSid;
  }
  if (message.keyword !== null) params['OptOutType'] = OPT_OUT_TYPE[message.keyword];
  return params;
}

/** Whether the emulator really calls this URL: plain HTTP to this machine only. */
export function isDeliverable(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  const loopback =
    hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
  return protocol === 'http:' && loopback;
}

/** The request as Twilio would make it: the URL it signs and calls, and its body. */
export function webhookRequest(
  url: string,
  method: string,
  params: Readonly<Record<string, string>>,
  authToken: string,
): { url: string; body: string | null; signature: string } {
  if (method === 'GET') {
    const target = new URL(url);
    for (const [name, value] of Object.entries(params)) target.searchParams.append(name, value);
    return { url: target.href, body: null, signature: twilioSignature(authToken, target.href, {}) };
  }
  return {
    url,
    body: new URLSearchParams(params).toString(),
    signature: twilioSignature(authToken, url, params),
  };
}

/** Sends a webhook over real HTTP and waits for the status (the body is read and dropped). */
export function deliver(
  request: { url: string; body: string | null; signature: string },
  method: string,
  timeoutMs = WEBHOOK_TIMEOUT_MS,
): Promise<{ status: number | null; error: string | null }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {
      'X-Twilio-Signature': request.signature,
      'User-Agent': 'TwilioProxy/1.1',
    };
    if (request.body !== null) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(request.body));
    }
    const outgoing = http.request(request.url, { method, headers, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? null, error: null }));
      response.on('error', (error) => resolve({ status: null, error: error.message }));
    });
    outgoing.setTimeout(timeoutMs, () => outgoing.destroy(new Error('timeout')));
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: null, error: error.code ?? error.message }),
    );
    outgoing.end(request.body ?? undefined);
  });
}

export class WebhookLog {
  readonly entries: WebhookLogEntry[] = [];

  add(entry: WebhookLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > LOG_LIMIT) this.entries.splice(0, this.entries.length - LOG_LIMIT);
  }

  clear(): void {
    this.entries.length = 0;
  }
}
