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

const SCHEME = /\b[a-z][a-z0-9+.-]*:\/\//gi;
/** A URL's authority: up to `/`, `?`, `#`, `\` or a space. */
const AUTHORITY = /^[^\s/?#\\]*/;
/** As far as a URL quoted in text may reach: up to a space, a quote or an angle bracket. */
const QUOTED = /^[^\s'"<>]*/;

/**
 * Text with the password of every URL in it masked (`https://user:***@host/sms`), as
 * `shownUrl` shows a webhook URL: Twilio's error messages may quote a webhook URL given to it,
 * basic-auth password and all. A URL with a valid authority is masked as a URL parser reads it
 * (user and password end at its last "@"); one whose password holds an unencoded "/", "?" or
 * "#" (a URL Twilio would refuse, and quote) is masked from its first ":" to the last "@"
 * before a space or quote, which may hide a port and path with it but never shows the password.
 */
export function maskUrlPasswords(text: string): string {
  let shown = '';
  let from = 0;
  SCHEME.lastIndex = 0;
  for (let match = SCHEME.exec(text); match !== null; match = SCHEME.exec(text)) {
    const start = match.index + match[0].length;
    const after = text.slice(start);
    const authority = AUTHORITY.exec(after)![0];
    const colon = authority.indexOf(':');
    const at = authority.includes('@')
      ? authority.lastIndexOf('@')
      : QUOTED.exec(after)![0].lastIndexOf('@');
    if (colon < 0 || at < 0 || colon > at) continue; // no password (a user alone is shown)
    shown += `${text.slice(from, start + colon + 1)}***`;
    from = start + at;
    SCHEME.lastIndex = from;
  }
  return shown + text.slice(from);
}

/**
 * A Twilio API answer that was not a success, or no answer at all (`status` 0: the connection
 * dropped or timed out). `retryable` says whether sending the same request again is safe.
 * The message never carries credentials: it is built from Twilio's error body only, and any
 * URL in it (Twilio quotes a webhook URL it refuses) has its password masked here, where every
 * Twilio error enters the tool, before stderr, the journal or a report can see it.
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
    super(maskUrlPasswords(init.message));
    this.status = init.status;
    this.code = init.code;
    this.moreInfo = init.moreInfo == null ? null : maskUrlPasswords(init.moreInfo);
    this.retryable = init.retryable;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }
}
