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

interface RestExceptionLike {
  status: number;
  code?: number;
  message: string;
  moreInfo?: string;
}

function isRestException(error: unknown): error is RestExceptionLike {
  return (
    error instanceof Error &&
    'status' in error &&
    typeof (error as { status: unknown }).status === 'number'
  );
}

/** Turns whatever the SDK threw into a TwilioError; anything unrecognised is rethrown as is. */
export function toTwilioError(error: unknown, idempotent: boolean): unknown {
  if (error instanceof TwilioError) return error;
  if (isRestException(error)) {
    return new TwilioError({
      status: error.status,
      code: typeof error.code === 'number' ? error.code : null,
      message: error.message,
      moreInfo: error.moreInfo ?? null,
      retryable: isRetryableStatus(error.status, idempotent),
    });
  }
  return error;
}
