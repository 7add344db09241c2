/**
 * The one error vocabulary (STYLE §4). Only `cli/main.ts` turns these into exit codes:
 * UserError → 1, RefusedError → 4, TwilioError → 1, anything else is a bug.
 */

const toldAfterErrors = new WeakMap<object, string[]>();

/**
 * Records what else went wrong after `error`, as one line, for `cli/main.ts` to print beneath
 * it: an error that followed from another (the reports of a run that failed) must not hide
 * the first one, but the user must not be left to think it did not happen either.
 */
export function tellAfter(error: unknown, line: string): void {
  if (typeof error !== 'object' || error === null) return;
  toldAfterErrors.set(error, [...(toldAfterErrors.get(error) ?? []), line]);
}

/** The lines `tellAfter` recorded for `error`, in order. */
export function toldAfter(error: unknown): readonly string[] {
  return typeof error === 'object' && error !== null ? (toldAfterErrors.get(error) ?? []) : [];
}

/** Bad input the user can fix: a flag, a file, a row. Printed as its message, no stack. */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** The tool declined to act to protect the user (stale plan, lock held, opt-outs not snapshotted). */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

/**
 * A Twilio API answer that was not a success, or no answer at all (`status` 0: the connection
 * dropped or timed out). `retryable` says whether sending the same request again is safe.
 * The message never carries credentials: it is built from Twilio's error body only.
 */
export class TwilioError extends Error {
  override readonly name = 'TwilioError';
  readonly status: number;
  readonly code: number | null;
  readonly moreInfo: string | null;
  readonly retryable: boolean;
  /** Seconds Twilio asked us to wait (`Retry-After`), when it said so. */
  readonly retryAfterSeconds: number | null;

  constructor(init: {
    status: number;
    code: number | null;
    message: string;
    moreInfo?: string | null;
    retryable: boolean;
    retryAfterSeconds?: number | null;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.moreInfo = init.moreInfo ?? null;
    this.retryable = init.retryable;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }
}
