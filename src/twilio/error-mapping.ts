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
      status: error.status,
      code: typeof error.code === 'number' ? error.code : null,
      message: typeof error.message === 'string' ? error.message : `HTTP ${error.status}`,
      moreInfo: typeof error.moreInfo === 'string' ? error.moreInfo : null,
      retryable: isRetryableStatus(error.status, idempotent),
    });
  }
  return error;
}
