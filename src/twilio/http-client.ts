/**
 * The `httpClient` handed to the twilio SDK: the SDK's own RequestClient, plus
 * - with an API URL, every `https://*.twilio.com` request (api, messaging, accounts,
 *   bulkexports, any edge or region) goes to that one base URL instead;
 * - every request passes through the one limiter and the one retry policy;
 * - a request that gets no answer becomes a `TwilioError` (status 0) built from method,
 *   host and path only, so the SDK's axios error (whose config carries the Authorization
 *   header) never travels further.
 */

import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import twilio from 'twilio';
import type SdkRequestClient from 'twilio/lib/base/RequestClient.js';
import type SdkResponse from 'twilio/lib/http/response.js';

import { TwilioError } from '../errors.js';
import {
  createLimiter,
  DEFAULT_LIMITS,
  type LimiterOptions,
  type RequestLimiter,
} from './limiter.js';
import { DEFAULT_RETRY, parseRetryAfter, withRetry, type RetryPolicy } from './retry.js';

export type RequestOptions<TData> = SdkRequestClient.RequestOptions<TData>;
export type Response<TData> = SdkResponse.default<TData>;

const TWILIO_HOST = /^https:\/\/[a-z0-9.-]+\.twilio\.com(?=\/|$)/i;

/** `https://messaging.twilio.com/v1/Services` → `<apiUrl>/v1/Services`. */
export function rewriteTwilioUrl(uri: string, apiUrl: string | null): string {
  if (apiUrl === null) return uri;
  return uri.replace(TWILIO_HOST, apiUrl);
}

const IDEMPOTENT = new Set(['get', 'head', 'options', 'delete']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method.toLowerCase());
}

/** Where a request went, without query or credentials: for error messages and logs. */
export function describeRequest(method: string, uri: string): string {
  try {
    const url = new URL(uri);
    return `${method.toUpperCase()} ${url.host}${url.pathname}`;
  } catch {
    return method.toUpperCase();
  }
}

export interface TwilioHttpClientOptions {
  /** Send every Twilio host to this base URL (the emulator); null = the real hosts. */
  apiUrl: string | null;
  limits?: LimiterOptions;
  retry?: RetryPolicy;
  /** Per-request timeout, milliseconds. */
  timeoutMs?: number;
  /** For tests: injected waits and dice. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** What the client has seen: for summaries, and for tests that count. */
export interface RequestStats {
  requests: number;
  retries: number;
  throttled: number;
  serverErrors: number;
  noAnswer: number;
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
  private readonly deps: Required<Pick<TwilioHttpClientOptions, 'sleep' | 'random' | 'now'>>;

  constructor(options: TwilioHttpClientOptions) {
    const limits = options.limits ?? DEFAULT_LIMITS;
    const maxSockets = Math.max(limits.concurrency, 1);
    super({ keepAlive: true, timeout: options.timeoutMs ?? 30_000, maxSockets });
    // The SDK only builds an https agent; plain-http emulator URLs want keep-alive too.
    this.axios.defaults.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    this.apiUrl = options.apiUrl;
    this.limiter = createLimiter(limits);
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.deps = {
      sleep: options.sleep ?? ((ms) => sleep(ms)),
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
  }

  override request<TData>(opts: RequestOptions<TData>): Promise<Response<TData>> {
    const uri = rewriteTwilioUrl(opts.uri, this.apiUrl);
    const once = async () => {
      this.stats.requests += 1;
      try {
        const response = await this.limiter.run(() => super.request<TData>({ ...opts, uri }));
        if (response.statusCode === 429) this.stats.throttled += 1;
        if (response.statusCode >= 500) this.stats.serverErrors += 1;
        return {
          kind: 'answer' as const,
          value: response,
          status: response.statusCode,
          retryAfterMs: parseRetryAfter(headerOf(response.headers, 'retry-after'), this.deps.now()),
        };
      } catch (error) {
        this.stats.noAnswer += 1;
        return { kind: 'no-answer' as const, error: noAnswer(opts.method, opts.uri, error) };
      }
    };
    return withRetry(once, isIdempotent(opts.method), this.retry, {
      sleep: this.deps.sleep,
      random: this.deps.random,
      onRetry: () => {
        this.stats.retries += 1;
      },
    });
  }
}

function headerOf(headers: unknown, name: string): unknown {
  if (headers === null || typeof headers !== 'object') return undefined;
  return (headers as Record<string, unknown>)[name];
}

function noAnswer(method: string, uri: string, error: unknown): TwilioError {
  const cause =
    error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string'
      ? error.code
      : 'no response';
  return new TwilioError({
    status: 0,
    code: null,
    message: `${describeRequest(method, uri)}: no answer (${cause})`,
    retryable: isIdempotent(method),
  });
}
