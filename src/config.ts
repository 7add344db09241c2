/**
 * Credentials and the API URL, read from an environment passed in (only `cli/` hands over
 * `process.env`). Credentials come from the environment only, never a flag, and are named
 * as Twilio's own tools name them.
 */

import { UserError } from './errors.js';

export type Credentials =
  | { kind: 'auth-token'; accountSid: string; authToken: string }
  | { kind: 'api-key'; accountSid: string; apiKey: string; apiSecret: string };

type Env = Record<string, string | undefined>;

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const API_KEY_SID = /^SK[0-9a-fA-F]{32}$/;

/**
 * A SID as Twilio writes it, its hex digits in lower case, as the mapping reads a
 * subaccount_sid: one typed in upper case was sent so (the emulator answered 401) and would
 * match none of the SIDs Twilio answers with. Anything else as given, for the checks to refuse.
 */
function twilioSid(text: string | undefined, pattern: RegExp): string | undefined {
  return text !== undefined && pattern.test(text)
    ? `${text.slice(0, 2)}${text.slice(2).toLowerCase()}`
    : text;
}

export function readCredentials(env: Env): Credentials {
  const accountSid = twilioSid(env['TWILIO_ACCOUNT_SID']?.trim(), ACCOUNT_SID);
  const authToken = env['TWILIO_AUTH_TOKEN']?.trim();
  const apiKey = twilioSid(env['TWILIO_API_KEY']?.trim(), API_KEY_SID);
  const apiSecret = env['TWILIO_API_SECRET']?.trim();
  if (!accountSid) {
    throw new UserError(
      'TWILIO_ACCOUNT_SID is not set. Set TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, ' +
        'or with TWILIO_API_KEY and TWILIO_API_SECRET.',
    );
  }
  if (API_KEY_SID.test(accountSid)) {
    throw new UserError(
      'TWILIO_ACCOUNT_SID holds an API key SID (SK…): set it in TWILIO_API_KEY, with TWILIO_API_SECRET, and TWILIO_ACCOUNT_SID to the Account SID (AC…) the key belongs to.',
    );
  }
  if (!ACCOUNT_SID.test(accountSid)) {
    throw new UserError('TWILIO_ACCOUNT_SID must be an Account SID: AC followed by 32 hex digits.');
  }
  if (apiKey) {
    if (!API_KEY_SID.test(apiKey)) {
      throw new UserError('TWILIO_API_KEY must be an API key SID: SK followed by 32 hex digits.');
    }
    if (!apiSecret) throw new UserError('TWILIO_API_KEY is set but TWILIO_API_SECRET is not.');
    return { kind: 'api-key', accountSid, apiKey, apiSecret };
  }
  if (!authToken && apiSecret) {
    throw new UserError(
      'TWILIO_API_SECRET is set but TWILIO_API_KEY is not: set TWILIO_API_KEY to the API key SID (SK…) the secret belongs to.',
    );
  }
  if (!authToken) {
    throw new UserError(
      'TWILIO_AUTH_TOKEN is not set (or set TWILIO_API_KEY and TWILIO_API_SECRET instead).',
    );
  }
  return { kind: 'auth-token', accountSid, authToken };
}

/** Every secret value the environment holds, so output can be scrubbed of them. */
export function secretsIn(env: Env): string[] {
  return ['TWILIO_AUTH_TOKEN', 'TWILIO_API_SECRET']
    .map((name) => env[name]?.trim())
    .filter((value): value is string => value !== undefined && value.length >= 8);
}

/** `--api-url` wins over `SUBMIGRATE_API_URL`; null means the real Twilio hosts. */
export function readApiUrl(flag: string | undefined, env: Env): string | null {
  const value = flag ?? env['SUBMIGRATE_API_URL'];
  if (value === undefined || value.trim() === '') return null;
  // A value with an "@" may carry a user and password (refused below when it is a URL): it is
  // not echoed, however it fails.
  const shown = value.includes('@') ? '(not shown: it may hold a password)' : `"${value}"`;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new UserError(`--api-url: ${shown} is not a URL (expected e.g. http://127.0.0.1:4010).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`--api-url: ${shown} must start with http:// or https://.`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UserError('--api-url must not carry credentials; use the TWILIO_* variables.');
  }
  return url.toString().replace(/\/$/, '');
}

/**
 * Node's own debug sections that print an outgoing request's options, headers and all, to
 * stderr: with them the Authorization header (the Auth Token or API secret, merely
 * base64-encoded) would be printed for every connection. Found by running snapshot with each
 * section on (Node 20): `http` and `net` for an http URL, `http` and `https` for an https one;
 * `tls`, `http2`, `stream` and `undici`/`fetch` print no header.
 */
const HEADER_DEBUG_SECTIONS = ['http', 'https', 'net'] as const;

/**
 * The sections of `HEADER_DEBUG_SECTIONS` that `NODE_DEBUG` turns on, matched as Node matches
 * them (lib/internal/util/debuglog.js): comma-separated names, `*` a wildcard, case ignored.
 * Node reads NODE_DEBUG once, at startup: a command that talks to Twilio is refused while any
 * is on, since unsetting it from inside the process would not turn the printing off.
 */
export function headerPrintingDebug(env: Env): string[] {
  const value = env['NODE_DEBUG'];
  if (value === undefined || value === '') return [];
  const pattern = value
    .replace(/[|\\{}()[\]^$+?.]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll(',', '$|^');
  const enabled = new RegExp(`^${pattern}$`, 'i');
  return HEADER_DEBUG_SECTIONS.filter((section) => enabled.test(section));
}

/** Refuses, naming NODE_DEBUG and why, when Node would print the requests' Authorization. */
export function refuseHeaderPrintingDebug(env: Env): void {
  const sections = headerPrintingDebug(env);
  if (sections.length === 0) return;
  throw new UserError(
    `NODE_DEBUG=${env['NODE_DEBUG']} makes Node print every request to Twilio on stderr, its Authorization header with the credentials in it (${sections.join(', ')}); nothing was sent. Run again without NODE_DEBUG, or with sections other than http, https and net. To see what is sent, use SUBMIGRATE_TRACE=FILE.`,
  );
}

/** Hosts whose traffic never leaves the machine. */
const LOOPBACK =
  /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\])$/i;

/**
 * What to warn of an `--api-url`: plain http to another machine carries the credentials
 * (Basic auth: the Auth Token or API secret, merely base64-encoded) unencrypted over the
 * network. Right for an emulator in a lab, with its fake credentials; never for real ones.
 * Not refused: the tool cannot tell a fake token from a real one.
 */
export function apiUrlWarning(apiUrl: string | null): string | null {
  if (apiUrl === null) return null;
  const url = new URL(apiUrl);
  if (url.protocol !== 'http:' || LOOPBACK.test(url.hostname)) return null;
  return `warning: --api-url ${url.origin} is plain http to another machine: the TWILIO_* credentials cross the network unencrypted. Use it only with an emulator's credentials.`;
}

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const;

/**
 * The proxy for https requests: `HTTPS_PROXY`, else `HTTP_PROXY` (lower-case names too), or
 * null. It may carry a user and password, so an error names the variable, never its value;
 * and a value the WHATWG URL parser cannot read is refused here rather than handed to Node's
 * legacy `url.parse`, which prints such a URL whole in a deprecation warning (DEP0170).
 */
export function readProxyUrl(env: Env): string | null {
  const name = PROXY_VARIABLES.find((n) => env[n] !== undefined);
  const value = name === undefined ? '' : env[name]!.trim();
  if (name === undefined || value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(
      `${name} is not a URL (not shown: it may hold a password). Write it as http://user:password@host:port, with a "#", "%", "/" or "@" in the user or password percent-encoded (%23, %25, %2F, %40).`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(
      `${name} must start with http:// or https:// (not shown: it may hold a password).`,
    );
  }
  return url.href;
}
