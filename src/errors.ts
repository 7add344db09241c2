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
/** The authority of a URL in quotes, where a space may be part of it. */
const QUOTED_AUTHORITY = /^[^/?#\\]*/;
/**
 * After a port's digits: a space, then one word ending in "@" and a host (the end of the
 * authority follows). Text after a port does not read so (`host:8443 failed; write to
 * ops@example.com`, `host:8443 (ops@example.com)`); a password begun with digits does
 * (`user:2024 pw@host/sms`).
 */
const PASSWORD_TAIL =
  /^ \S*@(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d+)?(?=$|[\s/?#\\])/i;
/** The quote a URL may be written in, by its opening character, and the one that closes it. */
const CLOSERS: Readonly<Record<string, string>> = {
  "'": "'",
  '"': '"',
  '`': '`',
  '<': '>',
  '(': ')',
};

/** A `%XX` that `decodedView` decodes: an ASCII character. */
const ENCODED = /%[0-7][0-9a-f]/i;

/**
 * Text with the password of every URL in it masked (`https://user:***@host/sms`), as
 * `shownUrl` shows a webhook URL: Twilio's error messages may quote a webhook URL given to it,
 * basic-auth password and all, and unencoded. A URL percent-encoded in the text (one in
 * another's query, `https%3A%2F%2Fuser%3Apw%40host`, or encoded again, `https%253A%252F…`) is
 * read as decoded, as often as it takes, and masked where it is written. A URL whose authority
 * holds its "@" is masked as a URL parser reads it (user and password end at its last "@");
 * inside quotes, the authority runs past spaces to the closing quote. One whose password holds
 * a "/", "?", "#", "\" or (unquoted) a space, a URL Twilio would refuse and quote, is masked
 * from its first ":" to the last "@" of the first word after it that holds one: that may hide
 * part of a path with it, but never shows the password. A ":" followed by digits alone is a
 * port, not a password, unless a space and one word ending in "@" and a host follow them
 * (`user:2024 pw@host`: a password; `host:8443 (write to ops@example.com)`: a port); one
 * followed by a space begins none. Unquoted, a password holding both an "@" and a space cannot
 * be told from the end of the URL: what follows its space shows.
 */
export function maskUrlPasswords(text: string): string {
  // As written first (a "%20" or "%2F" in a URL's password is part of it, not the end of a
  // port: `https://user:2024%20pw@host`), then decoded once, twice, … (a URL percent-encoded
  // in the text, or in a URL that is itself encoded) until nothing is left to decode.
  // No URL with a user in it, and nothing encoded that could hide one: nothing to mask.
  if (!text.includes('%') && (!text.includes('://') || !text.includes('@'))) return text;
  let shown = text;
  for (let times = 0; ; times += 1) {
    const view = decodedView(shown, times);
    // No URL, or none with a user in it: nothing to mask at this depth.
    if (view.text.includes('://') && view.text.includes('@')) shown = masked(shown, view);
    if (!ENCODED.test(view.text)) return shown;
  }
}

/** A text decoded, and where each of its characters is in the text: `start[i]` to `end[i]`. */
interface DecodedView {
  text: string;
  start: number[];
  end: number[];
}

/** `text` with its URLs' passwords masked, as read in `view`, a decoded view of it. */
function masked(text: string, view: DecodedView): string {
  let shown = '';
  let from = 0;
  for (const [colon, at] of passwordSpans(view.text)) {
    shown += `${text.slice(from, view.end[colon])}***`;
    from = view.start[at]!;
  }
  return shown + text.slice(from);
}

/**
 * `text` with every `%XX` of an ASCII character decoded `times` times over (`%253A` twice is
 * ":"), and where each of its characters is in `text` (one character, or all of its `%XX`).
 */
function decodedView(text: string, times: number): DecodedView {
  const start = Array.from({ length: text.length }, (_unset, i) => i);
  let view: DecodedView = { text, start, end: start.map((i) => i + 1) };
  for (let n = 0; n < times; n += 1) {
    const once = decodedOnce(view.text);
    const outer = view;
    view = {
      text: once.text,
      start: once.start.map((i) => outer.start[i]!),
      end: once.end.map((i) => outer.end[i - 1]!),
    };
  }
  return view;
}

/** `text` with every `%XX` of an ASCII character decoded once, as a `DecodedView` of it. */
function decodedOnce(text: string): DecodedView {
  let decoded = '';
  const start: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < text.length;) {
    const hex = text[i] === '%' ? /^[0-7][0-9a-f]$/i.exec(text.slice(i + 1, i + 3)) : null;
    const width = hex === null ? 1 : 3;
    decoded += hex === null ? text[i] : String.fromCharCode(parseInt(hex[0], 16));
    start.push(i);
    end.push(i + width);
    i += width;
  }
  return { text: decoded, start, end };
}

/** Where each URL's password is in `text`: the index of the ":" before it and of the "@" after. */
function passwordSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const scheme = new RegExp(SCHEME);
  for (let match = scheme.exec(text); match !== null; match = scheme.exec(text)) {
    const start = match.index + match[0].length;
    const span = passwordAfter(text, start, CLOSERS[text[match.index - 1] ?? '']);
    if (span === null) continue;
    spans.push([start + span[0], start + span[1]]);
    scheme.lastIndex = start + span[1];
  }
  return spans;
}

/** The password of the URL whose authority begins at `start`, as `passwordSpans` gives it. */
function passwordAfter(
  text: string,
  start: number,
  closer: string | undefined,
): [number, number] | null {
  const lineEnd = text.indexOf('\n', start) < 0 ? text.length : text.indexOf('\n', start);
  const closedAt = closer === undefined ? -1 : text.indexOf(closer, start);
  const quoted = closedAt >= 0 && closedAt < lineEnd;
  const after = text.slice(start, quoted ? closedAt : lineEnd);
  const plain = AUTHORITY.exec(after)![0];
  if (plain.startsWith('[')) return null; // an IPv6 host, no user before it
  const colon = plain.indexOf(':');
  if (colon < 0) return null;
  if (/^\d+$/.test(plain.slice(colon + 1))) {
    // A port, unless what follows it is the rest of a password that began with digits.
    const tail = PASSWORD_TAIL.exec(after.slice(plain.length));
    return tail === null ? null : [colon, plain.length + tail[0].lastIndexOf('@')];
  }
  // A ":" then a space ends a sentence about a URL with no path (`https://host: timed out`).
  if (/^\s/.test(after.slice(colon + 1))) return null;
  const authority = quoted ? QUOTED_AUTHORITY.exec(after)![0] : plain;
  const at = authority.lastIndexOf('@');
  if (at > colon) return [colon, at];
  if (at >= 0) return null; // user@host:…
  const first = after.indexOf('@', colon);
  if (first < 0) return null; // no password (a user alone is shown)
  const word = after.slice(first).search(/\s/);
  return [colon, after.lastIndexOf('@', word < 0 ? after.length : first + word)];
}

/**
 * A Twilio API answer that was not a success, or no answer at all (`status` 0: the connection
 * dropped or timed out). `retryable` says whether sending the same request again is safe.
 * The message never carries credentials: it is built from Twilio's error body only, and any
 * URL in it (Twilio quotes a webhook URL it refuses) has its password masked here, where every
 * Twilio error enters the tool, before stderr, the journal or a report can see it.
 */
/**
 * Characters that move or rewrite a terminal's text rather than show: C0 and C1 controls
 * (a carriage return, a newline, an escape sequence's ESC and CSI), the line and paragraph
 * separators, and the bidirectional overrides and isolates that reorder what follows.
 */
const TERMINAL_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

/**
 * An error answer's text as one plain line. Twilio's messages are one line; a proxy's or a
 * tampered one's may carry a carriage return or an escape sequence that, printed by `apply` or
 * `status`, overwrites the line before it (a failure shown as "done"), or breaks a log's lines.
 */
const oneLine = (text: string): string => text.replace(TERMINAL_CONTROLS, ' ');

export class TwilioError extends Error {
  override readonly name = 'TwilioError';
  readonly status: number;
  readonly code: number | null;
  readonly moreInfo: string | null;
  readonly retryable: boolean;
  /** Seconds Twilio asked us to wait (`Retry-After`), when it said so. */
  readonly retryAfterSeconds: number | null;
  /**
   * The subaccount whose own credentials (its Auth Token, from Twilio) were refused (401), or
   * to which a request made with them was refused (403), when the error is that: the
   * credentials in the environment were not the ones refused.
   */
  readonly subaccountSid: string | null;
  /**
   * Twilio's own words, when `message` adds submigrate's advice to them (a refusal to a
   * subaccount): a caller that gives advice of its own quotes these, so that one message does
   * not tell two things to do.
   */
  readonly answered: string | null;

  constructor(init: {
    status: number;
    code: number | null;
    message: string;
    moreInfo?: string | null;
    retryable: boolean;
    retryAfterSeconds?: number | null;
    subaccountSid?: string | null;
    answered?: string | null;
  }) {
    super(oneLine(maskUrlPasswords(init.message)));
    this.status = init.status;
    this.code = init.code;
    this.moreInfo = init.moreInfo == null ? null : maskUrlPasswords(init.moreInfo);
    this.retryable = init.retryable;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
    this.subaccountSid = init.subaccountSid ?? null;
    this.answered = init.answered == null ? null : oneLine(maskUrlPasswords(init.answered));
  }
}
