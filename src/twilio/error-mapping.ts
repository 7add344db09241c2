/**
 * Twilio's answers, mapped to our one error type. A retry is safe when Twilio says the
 * request was not processed (429), or when the request is idempotent and the failure was
 * on Twilio's side or on the wire (5xx, no answer). A 4xx other than 429 is never retried:
 * sending it again gets the same answer.
 */

import { TwilioError } from '../errors.js';

export function isRetryableStatus(status: number, idempotent: boolean): boolean {
  if (status === 429) return true;
  if (status === 0 || status >= 500) return idempotent;
  return false;
}

/**
 * Twilio's answer when it will not list a subaccount's numbers: a 403 to the subaccount's own
 * credentials (suspended or closed), a 401 to them or to the parent's for it, a 404 (it is
 * gone). The plan's refresh and reconcile's search for a missing number both go on past such
 * a subaccount and say it was not listed; anything else (a 5xx, a 429 its retries did not
 * outlast) fails them.
 */
export function isListingRefused(error: unknown): error is TwilioError {
  return error instanceof TwilioError && [401, 403, 404].includes(error.status);
}

/** What the SDK's RestException holds: its fields as the error body gave them, any type. */
interface RestExceptionLike {
  status: number;
  code?: unknown;
  message: unknown;
  moreInfo?: unknown;
}

function isRestException(error: unknown): error is RestExceptionLike {
  return (
    error instanceof Error &&
    'status' in error &&
    typeof (error as { status: unknown }).status === 'number'
  );
}

/**
 * Turns whatever the SDK threw into a TwilioError; anything unrecognised is rethrown as is.
 * The SDK copies `message` and `more_info` from any JSON error body: one without them (a
 * proxy's `{"error": "bad gateway"}`, a list, a number) leaves them undefined or not text,
 * said then as the raw reads say it, `HTTP 502`, not a TypeError reported as a bug.
 */
export function toTwilioError(error: unknown, idempotent: boolean): unknown {
  if (error instanceof TwilioError) return error;
  if (isRestException(error)) {
    return new TwilioError({
      ...answeredFields(error.status, error),
      retryable: isRetryableStatus(error.status, idempotent),
    });
  }
  return error;
}

/**
 * An error answer's body as fields, whether it came parsed, as text or as a raw read's bytes;
 * none when it is not a JSON object (a proxy's HTML page, `[]`, `42`).
 */
export function errorBodyFields(body: unknown): Record<string, unknown> {
  let parsed = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      parsed = JSON.parse(body.toString());
    } catch {
      return {};
    }
  }
  return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
}

/**
 * Twilio's error fields as an answer gave them, whatever their types (a proxy's body may hold
 * none, or others), as a TwilioError takes them: a code that is a number, text or nothing.
 */
export function answeredFields(
  status: number,
  fields: { code?: unknown; message?: unknown; moreInfo?: unknown; more_info?: unknown },
): { status: number; code: number | null; message: string; moreInfo: string | null } {
  const moreInfo = fields.moreInfo ?? fields.more_info;
  return {
    status,
    code: typeof fields.code === 'number' ? fields.code : null,
    message: typeof fields.message === 'string' ? fields.message : `HTTP ${status}`,
    moreInfo: typeof moreInfo === 'string' ? moreInfo : null,
  };
}

/**
 * What happened to a request that got no answer, in words, naming where it went: `target` is
 * the URL connected to (the proxy's, through one), of which only the host and port are shown
 * (a proxy's URL may hold a password). The code Node gave stays in brackets, for searching.
 * "No answer" alone sent people looking at the network for a host that plainly refused them.
 */
export function whyNoAnswer(error: unknown, target: string): string {
  const code =
    error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string'
      ? error.code
      : null;
  let host = target;
  let at = target;
  try {
    const url = new URL(target);
    host = url.hostname;
    at = `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    // Not a URL: shown as given.
  }
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused at ${at} (ECONNREFUSED: nothing there accepts connections on that port)`;
    case 'ECONNRESET':
      return `connection closed by ${at} before it answered (ECONNRESET)`;
    case 'ENOTFOUND':
      return `no such host: ${host} (ENOTFOUND)`;
    case 'EAI_AGAIN':
      return `${host} could not be looked up: the DNS did not answer (EAI_AGAIN)`;
    case 'ETIMEDOUT':
      return `no answer from ${at} in time (ETIMEDOUT)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${at} cannot be reached from here (${code})`;
    default:
      return `no answer from ${at} (${code ?? 'no response'})`;
  }
}

/**
 * Where a request went, without query or credentials: for error messages and logs. The
 * origin is the one really tried (the emulator's, under --api-url), scheme included. Here, not
 * in http-client.ts: page-trail.ts names requests too, and importing it from there loaded the
 * twilio SDK with every command.
 */
export function describeRequest(method: string, uri: string): string {
  try {
    const url = new URL(uri);
    return `${method.toUpperCase()} ${url.origin}${url.pathname}`;
  } catch {
    return method.toUpperCase();
  }
}
