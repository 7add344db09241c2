/**
 * The `httpClient` handed to the twilio SDK (its documented extension point: an object whose
 * `request(opts)` answers `{statusCode, body, headers}`). The SDK builds every request (URL,
 * query, form body, auth, user agent); this client sends it, and adds:
 * - with an API URL, every `https://*.twilio.com` request (api, messaging, accounts,
 *   bulkexports, any edge or region) goes to that one base URL instead;
 * - every request passes through the one limiter and the one retry policy (a Consent
 *   Management API request also through the limiter's second bucket, Twilio's 100 a minute);
 * - a request that gets no answer becomes a `TwilioError` (status 0) built from method,
 *   host and path only: nothing that carries the Authorization header travels further.
 *
 * It speaks node:http(s) directly rather than through the SDK's axios client: reading a
 * 1000-message page as a streamed UTF-8 string, with no Buffer concatenation, took a quarter
 * of the client's CPU and most of its off-heap memory out of a snapshot.
 */

import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

import createHttpsProxyAgent from 'https-proxy-agent';
import twilio from 'twilio';
import type SdkRequestClient from 'twilio/lib/base/RequestClient.js';
import type SdkResponse from 'twilio/lib/http/response.js';

import { TwilioError } from '../errors.js';
import { countAttempt } from './attempts.js';
import { answeredFields, describeRequest, errorBodyFields, whyNoAnswer } from './error-mapping.js';
import {
  createLimiter,
  DEFAULT_LIMITS,
  type LimiterOptions,
  type RequestLimiter,
} from './limiter.js';
import {
  CONSENT_RETRY,
  DEFAULT_RETRY,
  leastWaitMs,
  parseRetryAfter,
  withRetry,
  type RetryPolicy,
} from './retry.js';

export type RequestOptions<TData> = SdkRequestClient.RequestOptions<TData>;
export type Response<TData> = SdkResponse.default<TData>;

const TWILIO_HOST = /^https:\/\/[a-z0-9.-]+\.twilio\.com(?=\/|$)/i;

/**
 * A request carrying this header gets its body back as the raw bytes (a Buffer), unparsed;
 * the header itself is never sent. It lets a caller that goes through the SDK's own
 * `request()` read a large page its own way (see message-page.ts).
 */
export const RAW_BODY_HEADER = 'X-Submigrate-Raw-Body';

/** `https://messaging.twilio.com/v1/Services` → `<apiUrl>/v1/Services`. */
export function rewriteTwilioUrl(uri: string, apiUrl: string | null): string {
  if (apiUrl === null) return uri;
  return uri.replace(TWILIO_HOST, apiUrl);
}

/**
 * The header that names the Twilio host a rewritten request was meant for. Not `Host`: that
 * one is the `--api-url`'s own, which a reverse proxy routes by and TLS names the server by
 * (Node takes the SNI name and the name the certificate must hold from it).
 */
export const TWILIO_HOST_HEADER = 'X-Twilio-Host';

/**
 * The Twilio host a rewritten request was meant for (`messaging.twilio.com`), sent in
 * `TWILIO_HOST_HEADER` so that the emulator answers as that host would: one origin serves every
 * product, but `https://api.twilio.com/v1/Services` must fail there as it fails at Twilio.
 * Null when nothing is rewritten.
 */
export function twilioHostOf(uri: string, apiUrl: string | null): string | null {
  if (apiUrl === null) return null;
  const match = TWILIO_HOST.exec(uri);
  return match === null ? null : new URL(match[0]).host;
}

const IDEMPOTENT = new Set(['get', 'head', 'options', 'delete']);

/** The Consent Management API, as the SDK addresses it (before any rewrite). */
const CONSENTS = /^https:\/\/accounts\.twilio\.com\/v1\/Consents(?=[/?]|$)/i;
const CONSENTS_BULK = /^https:\/\/accounts\.twilio\.com\/v1\/Consents\/Bulk(?=\?|$)/i;

/** A write `gateWrites`' gate held back: `reason` is what it threw, the request's error. */
class WriteHeld extends Error {
  constructor(readonly reason: unknown) {
    super('write held back');
  }
}

/** Whether a request draws from the limiter's Consent API bucket. */
export function isConsentRequest(uri: string): boolean {
  return CONSENTS.test(uri);
}

/**
 * Whether sending the request twice does what sending it once does. `POST …/Consents/Bulk`
 * is: Twilio upserts each record by its correlation_id, so the same records sent again write
 * the same thing.
 */
/**
 * A Bulk Export custom job: sending it twice makes two jobs over the same days, whose files
 * are the same files; nothing of the account changes. Retried as a GET is.
 */
const EXPORT_JOBS = /^https:\/\/bulkexports\.twilio\.com\/v1\/Exports\/[^/?]+\/Jobs(?=\?|$)/i;

export function isIdempotent(method: string, uri?: string): boolean {
  if (IDEMPOTENT.has(method.toLowerCase())) return true;
  return (
    method.toLowerCase() === 'post' &&
    uri !== undefined &&
    (CONSENTS_BULK.test(uri) || EXPORT_JOBS.test(uri))
  );
}

/** The SDK's params and form data: scalars, or arrays sent as repeated keys. */
function encodeForm(values: object | undefined, into: URLSearchParams): URLSearchParams {
  for (const [key, value] of Object.entries(values ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null) into.append(key, String(item));
    }
  }
  return into;
}

export interface TwilioHttpClientOptions {
  /** Send every Twilio host to this base URL (the emulator); null = the real hosts. */
  apiUrl: string | null;
  limits?: LimiterOptions;
  retry?: RetryPolicy;
  /** The policy for the Consent Management API, whose limit is per minute. */
  consentRetry?: RetryPolicy;
  /** Per-request timeout, milliseconds. */
  timeoutMs?: number;
  /** An HTTP(S) proxy for https requests (HTTPS_PROXY), as the SDK's own client honours. */
  proxyUrl?: string | null;
  /** Told of every attempt once answered (or not): SUBMIGRATE_TRACE writes them down. */
  trace?: (attempt: TracedAttempt) => void;
  /** For tests: injected waits and dice. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** One attempt as it really went: when it left (after the limiter), where, how it ended. */
export interface TracedAttempt {
  /** ISO 8601 with milliseconds, when the request was handed to the socket. */
  started_at: string;
  method: string;
  /** Origin and path only: no query, never credentials. */
  url: string;
  /** 0 when no answer came. */
  status: number;
  ms: number;
}

/** What the client has seen: for summaries, and for tests that count. */
export interface RequestStats {
  requests: number;
  retries: number;
  throttled: number;
  serverErrors: number;
  noAnswer: number;
}

interface Answer {
  statusCode: number;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

export class TwilioHttpClient extends twilio.RequestClient {
  readonly stats: RequestStats = {
    requests: 0,
    retries: 0,
    throttled: 0,
    serverErrors: 0,
    noAnswer: 0,
  };
  private readonly apiUrl: string | null;
  private readonly limiter: RequestLimiter;
  private readonly retry: RetryPolicy;
  private readonly consentRetry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly agents: { http: http.Agent; https: http.Agent };
  /** The proxy https requests go through, as an error may name it: no user or password. */
  private readonly proxyShown: string | null;
  private readonly deps: Required<Pick<TwilioHttpClientOptions, 'sleep' | 'random' | 'now'>>;
  private readonly trace: ((attempt: TracedAttempt) => void) | null;
  /** Asked before each write leaves (`gateWrites`); none: every write goes. */
  private writeGate: (() => void) | null = null;

  constructor(options: TwilioHttpClientOptions) {
    // The SDK's constructor makes an agent of its own from HTTP_PROXY, read raw with Node's
    // legacy `url.parse` (which prints an URL it finds invalid whole, password and all, and
    // throws on a stray "%"): unused here (every request goes through `agents`), it is not made.
    super(hideHttpProxy());
    restoreHttpProxy();
    const limits = options.limits ?? DEFAULT_LIMITS;
    const maxSockets = Math.max(limits.concurrency, 1);
    this.apiUrl = options.apiUrl;
    this.limiter = createLimiter(limits);
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.consentRetry = options.consentRetry ?? CONSENT_RETRY;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets }),
      https: options.proxyUrl
        ? // agent-base's Agent does what node's http.Agent does; its types don't say so.
          (createHttpsProxyAgent(proxyAgentOptions(options.proxyUrl)) as unknown as http.Agent)
        : new https.Agent({ keepAlive: true, maxSockets }),
    };
    this.proxyShown = options.proxyUrl ? shownProxy(options.proxyUrl) : null;
    this.trace = options.trace ?? null;
    this.deps = {
      sleep: options.sleep ?? ((ms) => sleep(ms)),
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
  }

  override request<TData>(opts: RequestOptions<TData>): Promise<Response<TData>> {
    // The SDK follows a list's next-page link wherever it points, credentials and all.
    if (!TWILIO_HOST.test(opts.uri)) return Promise.reject(notTwilio(opts.method, opts.uri));
    const consent = isConsentRequest(opts.uri);
    const policy = consent ? this.consentRetry : this.retry;
    const tries = { attempts: 0, waitedMs: 0 };
    const once = async () => {
      tries.attempts += 1;
      this.stats.requests += 1;
      countAttempt(opts.method);
      try {
        let retryAfterMs: number | null = null;
        const answer = await this.limiter.run(
          async () => {
            this.passGate(opts.method);
            const answered = await this.traced(opts);
            retryAfterMs = parseRetryAfter(answered.headers['retry-after'], this.deps.now());
            // The account's limit, not this request's: held back before this request's slot
            // frees, or the request waiting for it would start into the same 429. (A Consent
            // API 429 holds nothing else back: its limit is per minute, its bucket paces it,
            // and only the refused request waits, for its own longer backoff.)
            if (answered.statusCode === 429 && !consent) {
              this.limiter.holdOff(leastWaitMs(retryAfterMs, policy));
              this.limiter.throttled();
            } else if (answered.statusCode !== 429) this.limiter.answered();
            return answered;
          },
          consent ? { consent: opts.username ?? '' } : undefined,
        );
        if (answer.statusCode === 429) this.stats.throttled += 1;
        if (answer.statusCode >= 500) this.stats.serverErrors += 1;
        return {
          kind: 'answer' as const,
          value: answer,
          status: answer.statusCode,
          retryAfterMs,
        };
      } catch (error) {
        if (error instanceof WriteHeld) throw error.reason;
        this.stats.noAnswer += 1;
        const tried = rewriteTwilioUrl(opts.uri, this.apiUrl);
        const via = tried.startsWith('https:') ? this.proxyShown : null;
        return {
          kind: 'no-answer' as const,
          error: noAnswer(opts.method, tried, error, isIdempotent(opts.method, opts.uri), via),
        };
      }
    };
    const raw = (opts.headers as Record<string, string> | undefined)?.[RAW_BODY_HEADER];
    return withRetry(once, isIdempotent(opts.method, opts.uri), policy, {
      sleep: this.deps.sleep,
      random: this.deps.random,
      onRetry: ({ status, delayMs }) => {
        this.stats.retries += 1;
        tries.waitedMs += delayMs;
        // No other request starts while this one waits out its 429 either.
        if (status === 429 && !consent) this.limiter.holdOff(delayMs);
      },
    }).then((answer) => {
      if (answer.statusCode === 429 && !consent && tries.attempts > 1) {
        throw stillThrottled(opts.method, rewriteTwilioUrl(opts.uri, this.apiUrl), answer, tries);
      }
      // The SDK would JSON.parse it and throw a bare SyntaxError; a raw read checks its own.
      if (raw === undefined && isNotJson(answer)) {
        throw notJson(opts.method, rewriteTwilioUrl(opts.uri, this.apiUrl), answer);
      }
      return isSuccess(answer.statusCode)
        ? answer
        : { ...answer, body: withoutCredentials(answer.body, opts.username, opts.password) };
    }) as Promise<Response<TData>>;
  }

  /**
   * `gate` is asked before every write (any method but GET) leaves: after its slot and rate
   * token in the limiter and any retry's back-off, in the same turn of the event loop as the
   * request is handed to the socket. What it throws is the request's error, unchanged: the
   * request is not sent, nor tried again. `null` lets every write go.
   */
  gateWrites(gate: (() => void) | null): void {
    this.writeGate = gate;
  }

  private passGate(method: string): void {
    if (this.writeGate === null || method.toUpperCase() === 'GET') return;
    try {
      this.writeGate();
    } catch (error) {
      throw new WriteHeld(error);
    }
  }

  /**
   * The agent an https request to somewhere else than Twilio's API must go through: the
   * HTTPS_PROXY one when a proxy is set, else none (Node's own). Bulk Export day files are
   * read from storage with it, outside the client's requests.
   */
  httpsProxyAgent(): http.Agent | null {
    return this.proxyShown === null ? null : this.agents.https;
  }

  private async traced<TData>(opts: RequestOptions<TData>): Promise<Answer> {
    const trace = this.trace;
    if (trace === null) return this.send(opts);
    const startedAt = Date.now();
    const started = performance.now();
    const record = (status: number) =>
      trace({
        started_at: new Date(startedAt).toISOString(),
        method: opts.method.toUpperCase(),
        url: describeRequest(opts.method, rewriteTwilioUrl(opts.uri, this.apiUrl)).replace(
          /^\S+ /,
          '',
        ),
        status,
        ms: Math.round(performance.now() - started),
      });
    try {
      const answer = await this.send(opts);
      record(answer.statusCode);
      return answer;
    } catch (error) {
      record(0);
      throw error;
    }
  }

  /** One attempt: the request as the SDK built it, the answer as the SDK expects it. */
  private async send<TData>(opts: RequestOptions<TData>): Promise<Answer> {
    const url = new URL(rewriteTwilioUrl(opts.uri, this.apiUrl));
    encodeForm(opts.params, url.searchParams);
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string>) };
    const raw = headers[RAW_BODY_HEADER] !== undefined;
    delete headers[RAW_BODY_HEADER];
    const twilioHost = twilioHostOf(opts.uri, this.apiUrl);
    if (twilioHost !== null) headers[TWILIO_HOST_HEADER] = twilioHost;
    if (opts.username && opts.password) {
      headers['Authorization'] =
        `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    } else if (opts.authStrategy) {
      headers['Authorization'] = await opts.authStrategy.getAuthString();
    }
    const payload =
      opts.data === undefined || opts.data === null
        ? undefined
        : encodeForm(opts.data as object, new URLSearchParams()).toString();
    if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
    const secure = url.protocol === 'https:';
    return new Promise<Answer>((resolve, reject) => {
      const request = (secure ? https : http).request(
        url,
        {
          method: opts.method.toUpperCase(),
          headers,
          agent: secure ? this.agents.https : this.agents.http,
          timeout: opts.timeout ?? this.timeoutMs,
        },
        (response) => {
          const done = (body: unknown) =>
            resolve({ statusCode: response.statusCode ?? 0, body, headers: response.headers });
          response.on('error', reject);
          if (raw) {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => done(Buffer.concat(chunks)));
            return;
          }
          response.setEncoding('utf8');
          let text = '';
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            if (text === '' || !/json/i.test(response.headers['content-type'] ?? '')) {
              return done(text);
            }
            try {
              done(JSON.parse(text));
            } catch {
              done(text); // not JSON after all: hand the SDK the text, as axios would
            }
          });
        },
      );
      request.on('timeout', () =>
        request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
      );
      request.on('error', reject);
      request.end(payload);
    });
  }
}

const isSuccess = (status: number) => status >= 200 && status < 300;

/**
 * The ways a request's credentials may be written in an answer: the Basic `Authorization`
 * value (base64 of `SID:token`), and the token or secret itself, plain, JSON-escaped and
 * URL-encoded. Shorter than 8 characters, a value is no secret worth mangling a message for.
 */
function credentialForms(username: string | undefined, password: string | undefined): string[] {
  if (!username || !password || password.length < 8) return [];
  const forms = [
    Buffer.from(`${username}:${password}`).toString('base64'),
    JSON.stringify(password).slice(1, -1),
    encodeURIComponent(password),
    new URLSearchParams({ p: password }).toString().slice(2),
    password,
  ];
  return [...new Set(forms)];
}

/**
 * An error answer's body with the request's own credentials taken out, wherever it quotes them.
 * Twilio never does, but a proxy between here and Twilio may answer an error that echoes the
 * request, Authorization header and all, in Twilio's own JSON (`{"message": "… Basic QUM…"}`):
 * its message becomes the TwilioError's, which stderr, the journal and the reports show. Taken
 * out here, where every answer enters the tool, the parent's token and each subaccount's alike
 * (whose token no other redaction knows). A success is data, not read for messages: left as is.
 */
function withoutCredentials(
  body: unknown,
  username: string | undefined,
  password: string | undefined,
): unknown {
  const forms = credentialForms(username, password);
  if (forms.length === 0) return body;
  const clean = (text: string) =>
    forms.reduce((shown, form) => shown.split(form).join('[redacted]'), text);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return clean(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [clean(k), walk(v)]));
  };
  // A raw read's bytes, parsed by its reader: its text is cleaned, as any other text.
  return Buffer.isBuffer(body) ? Buffer.from(clean(body.toString('utf8'))) : walk(body);
}

/** A success (but 204, which has no body) whose body is not JSON: a proxy's page, or nothing. */
function isNotJson(answer: Answer): boolean {
  const { statusCode: status, body } = answer;
  return status >= 200 && status < 300 && status !== 204 && typeof body === 'string';
}

/**
 * `answer`'s body, described for an error: its type and size, never its text (a proxy's page
 * may echo the request, Authorization header and all).
 */
function describeBody(contentType: unknown, bytes: number): string {
  const type = typeof contentType === 'string' && contentType !== '' ? contentType : 'no type';
  return `${type.split(';')[0]!.trim()}, ${bytes} bytes`;
}

function notJson(method: string, uri: string, answer: Answer): TwilioError {
  const bytes = Buffer.byteLength(answer.body as string);
  return new TwilioError({
    status: answer.statusCode,
    code: null,
    message:
      `${describeRequest(method, uri)}: answered HTTP ${answer.statusCode} with a body that is not ` +
      `JSON (${describeBody(answer.headers['content-type'], bytes)}), as a proxy between here and ` +
      'Twilio may answer; nothing in it was used. Run the command again; if it goes on, check ' +
      'the network or proxy.',
    retryable: false,
  });
}

/**
 * A request Twilio answered 429 every time it was sent, its retries spent: named, with how
 * long it was tried, what Twilio said (never the request's credentials) and what to do.
 */
function stillThrottled(
  method: string,
  uri: string,
  answer: Answer,
  tries: { attempts: number; waitedMs: number },
): TwilioError {
  const said = answeredFields(429, errorBodyFields(answer.body));
  const code = said.code === null ? '' : `, Twilio ${said.code}`;
  return new TwilioError({
    ...said,
    message:
      `${describeRequest(method, uri)}: Twilio answered 429 (${said.message}${code}) to all ` +
      `${tries.attempts} attempts over ${(tries.waitedMs / 1000).toFixed(1)} s, and it was not ` +
      'sent again: the account is over its limit on requests in flight or per second (another ' +
      'client may be using it too). Run the command again later, or with a lower --concurrency ' +
      'or --rate.',
    retryable: true,
  });
}

/**
 * A request for somewhere that is not Twilio (a next-page link that points elsewhere): the
 * credentials go to `https://*.twilio.com` only, so it is not sent.
 */
function notTwilio(method: string, uri: string): TwilioError {
  return new TwilioError({
    status: 0,
    code: null,
    message:
      `${describeRequest(method, uri)}: not a Twilio address (https://….twilio.com), so it was ` +
      'not sent: submigrate sends its credentials to Twilio only. A link in an answer from ' +
      'Twilio, or from a proxy between here and Twilio, pointed there.',
    retryable: false,
  });
}

function noAnswer(
  method: string,
  uri: string,
  error: unknown,
  idempotent: boolean,
  proxy: string | null,
): TwilioError {
  // Through a proxy, a refused connection is the proxy's: the message says which one it was.
  const via = proxy === null ? '' : ` through the proxy ${proxy}`;
  return new TwilioError({
    status: 0,
    code: null,
    message: `${describeRequest(method, uri)}${via}: ${whyNoAnswer(error, proxy ?? uri)}`,
    retryable: idempotent,
  });
}

/**
 * The proxy agent's options, from the WHATWG parse of its URL: handed a string, the agent reads
 * it with Node's legacy `url.parse`, which prints a URL it finds invalid whole (password and
 * all) in a deprecation warning. Its `debug` output (`DEBUG=*`) prints these options: they show
 * themselves without user or password.
 */
function proxyAgentOptions(proxyUrl: string): createHttpsProxyAgent.HttpsProxyAgentOptions {
  const url = new URL(proxyUrl);
  const shown = shownProxy(proxyUrl);
  const options: createHttpsProxyAgent.HttpsProxyAgentOptions = {
    protocol: url.protocol,
    // `[::1]` is a URL's spelling of an IPv6 address; a socket connects to `::1`.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
  };
  if (url.username !== '' || url.password !== '') {
    options.auth = `${decoded(url.username)}:${decoded(url.password)}`;
  }
  // Copied along with the rest by the agent (Object.assign copies symbol keys too).
  return Object.assign(options, { [inspect.custom]: () => `[proxy ${shown}]` });
}

let hiddenHttpProxy: string | undefined;

/** Takes HTTP_PROXY out of the environment for the SDK's constructor; its options: none. */
function hideHttpProxy(): undefined {
  hiddenHttpProxy = process.env['HTTP_PROXY'];
  delete process.env['HTTP_PROXY'];
  return undefined;
}

function restoreHttpProxy(): void {
  if (hiddenHttpProxy !== undefined) process.env['HTTP_PROXY'] = hiddenHttpProxy;
  hiddenHttpProxy = undefined;
}

/** A URL's user or password as typed: `%23` is `#`; a `%` that encodes nothing is itself. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** `http://user:secret@proxy:3128/` → `http://proxy:3128`. */
function shownProxy(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '(unreadable proxy URL)';
  }
}
