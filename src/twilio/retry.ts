/**
 * The one retry policy: retry what Twilio says was not processed (429) and, for idempotent
 * requests only, server errors and lost connections; never another 4xx. Waits are exponential
 * backoff with full jitter, or as long as `Retry-After` asks (up to a minute) when longer.
 */

import { isRetryableStatus } from './error-mapping.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 10_000 };

/**
 * For the Consent Management API, whose limit is per minute (100 requests by default): a 429
 * there means the minute is spent, and waits of a tenth of a second would give up long before
 * it is over. Ceilings from a second up to a minute: about a minute in all on average (full
 * jitter), two at most.
 */
export const CONSENT_RETRY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
};

/** A `Retry-After` longer than this is treated as this: a maintenance window is not a wait. */
const MAX_RETRY_AFTER_MS = 60_000;

export type AttemptOutcome<T> =
  | { kind: 'answer'; value: T; status: number; retryAfterMs: number | null }
  | { kind: 'no-answer'; error: Error };

export interface RetryEvent {
  attempt: number;
  /** HTTP status, or 0 when there was no answer. */
  status: number;
  delayMs: number;
}

export interface RetryDeps {
  sleep(ms: number): Promise<void>;
  random(): number;
  onRetry?(event: RetryEvent): void;
}

/** Full jitter (AWS architecture blog): uniform in [0, min(max, base · 2^attempt)). */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `nowMs`; null if absent or unreadable. */
export function parseRetryAfter(value: unknown, nowMs: number): number | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/**
 * How long a 429 holds every request back, known as it arrives (before its retry draws its
 * backoff): the policy's first ceiling, or what `Retry-After` asks (up to a minute) if longer.
 */
export function leastWaitMs(retryAfterMs: number | null, policy: RetryPolicy): number {
  return Math.max(policy.baseDelayMs, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

export async function withRetry<T>(
  attempt: () => Promise<AttemptOutcome<T>>,
  idempotent: boolean,
  policy: RetryPolicy,
  deps: RetryDeps,
): Promise<T> {
  for (let n = 0; ; n++) {
    const outcome = await attempt();
    const status = outcome.kind === 'answer' ? outcome.status : 0;
    const retryable = status < 400 && status !== 0 ? false : isRetryableStatus(status, idempotent);
    if (!retryable || n + 1 >= policy.maxAttempts) {
      if (outcome.kind === 'no-answer') throw outcome.error;
      return outcome.value;
    }
    const retryAfter = outcome.kind === 'answer' ? outcome.retryAfterMs : null;
    const backoff = backoffDelayMs(n, policy, deps.random);
    // `Retry-After` is a floor, never a way around the backoff: answered with 0 (or a date
    // gone by) every time, the attempts would otherwise all be spent within milliseconds.
    const delayMs =
      retryAfter === null ? backoff : Math.max(backoff, Math.min(retryAfter, MAX_RETRY_AFTER_MS));
    deps.onRetry?.({ attempt: n + 1, status, delayMs });
    await deps.sleep(delayMs);
  }
}
