/**
 * Faults on demand, the way a bad day at Twilio looks from the client: slow answers, a
 * per-account concurrency limit (429 / 20429 with `Twilio-Concurrent-Requests`), scripted
 * 429s (with or without `Retry-After`), random 5xx and connections dropped without an answer
 * — all of them not processed — and the one fault that is: a request done, then answered 5xx.
 */

import { createRandom } from './random.js';

export interface FaultSettings {
  /** Added to every Twilio request, while it holds its concurrency slot. */
  latency_ms: number;
  /** Requests in flight per account before 429; 0 = no limit. */
  concurrency_limit: number;
  /** Fraction of requests answered with `error_status` instead. */
  error_rate: number;
  error_status: number;
  /** Fraction of requests whose connection is dropped without an answer. */
  reset_rate: number;
  /**
   * Let this many requests (of `hold_methods`) through from the moment it is set, then hold
   * every further one unanswered until the setting changes: a test's way to stop a client at
   * an exact point (then kill it). 0 = off.
   */
  hold_after: number;
  /** The methods `hold_after` counts and holds; empty = every method. */
  hold_methods: string[];
  /** The next this many requests are answered 429 / 20429 (not processed); counts down. */
  throttle_count: number;
  /** The `Retry-After` value every 429 carries, as given (any text); "" = none. */
  retry_after: string;
  /**
   * The next this many requests (of `commit_then_fail_methods`) are processed, then answered
   * `error_status` as if they had failed: a create that took effect though its answer says not.
   */
  commit_then_fail_count: number;
  /** The methods `commit_then_fail_count` counts; empty = every method. */
  commit_then_fail_methods: string[];
}

export const NO_FAULTS: FaultSettings = {
  latency_ms: 0,
  concurrency_limit: 0,
  error_rate: 0,
  error_status: 500,
  reset_rate: 0,
  hold_after: 0,
  hold_methods: [],
  throttle_count: 0,
  retry_after: '',
  commit_then_fail_count: 0,
  commit_then_fail_methods: [],
};

const isRate = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isMethods = (v: unknown) =>
  Array.isArray(v) && v.every((m) => typeof m === 'string' && /^[A-Z]+$/.test(m));

/** Merges a partial update; fields left out keep their value. Returns an error text or null. */
export function updateFaults(
  current: FaultSettings,
  patch: Record<string, unknown>,
): string | null {
  const checks: Record<keyof FaultSettings, (v: unknown) => boolean> = {
    latency_ms: isCount,
    concurrency_limit: isCount,
    error_rate: isRate,
    error_status: (v) => isCount(v) && (v as number) >= 500 && (v as number) <= 599,
    reset_rate: isRate,
    hold_after: isCount,
    hold_methods: isMethods,
    throttle_count: isCount,
    // Any text a header can carry: how a client copes with a garbled one is what it is for.
    retry_after: (v) => typeof v === 'string' && /^[\x20-\x7e]*$/.test(v),
    commit_then_fail_count: isCount,
    commit_then_fail_methods: isMethods,
  };
  for (const [key, value] of Object.entries(patch)) {
    const check = checks[key as keyof FaultSettings];
    if (check === undefined) return `unknown fault setting "${key}"`;
    if (!check(value)) return `invalid value for ${key}: ${JSON.stringify(value)}`;
  }
  Object.assign(current, patch);
  return null;
}

/** The holding part of the faults: counts requests through, parks the rest. */
class Hold {
  private passed = 0;
  private parked: (() => void)[] = [];

  /** A new setting: count from zero, and let everything held so far go. */
  rearm(): void {
    this.passed = 0;
    for (const release of this.parked.splice(0)) release();
  }

  /** Resolves when the request may be answered: at once, or when the hold is lifted. */
  pass(settings: FaultSettings, method: string): Promise<void> | null {
    if (settings.hold_after === 0) return null;
    if (settings.hold_methods.length > 0 && !settings.hold_methods.includes(method)) return null;
    if (this.passed < settings.hold_after) {
      this.passed += 1;
      return null;
    }
    return new Promise((resolve) => this.parked.push(resolve));
  }

  get held(): number {
    return this.parked.length;
  }
}

export class FaultInjector {
  readonly settings: FaultSettings = {
    ...NO_FAULTS,
    hold_methods: [],
    commit_then_fail_methods: [],
  };
  private readonly inFlight = new Map<string, number>();
  private random: () => number;
  private readonly hold = new Hold();

  constructor(private readonly seed: number) {
    this.random = createRandom(seed ^ 0xfa17);
  }

  reset(): void {
    Object.assign(this.settings, NO_FAULTS, { hold_methods: [], commit_then_fail_methods: [] });
    this.inFlight.clear();
    this.random = createRandom(this.seed ^ 0xfa17);
    this.hold.rearm();
  }

  /** Applies a partial update (see `updateFaults`); a hold setting starts counting afresh. */
  update(patch: Record<string, unknown>): string | null {
    const error = updateFaults(this.settings, patch);
    if (error === null && ('hold_after' in patch || 'hold_methods' in patch)) this.hold.rearm();
    return error;
  }

  /** Null when the request goes on now; else a promise that resolves when it may. */
  holdRequest(method: string): Promise<void> | null {
    return this.hold.pass(this.settings, method);
  }

  /** Requests held unanswered right now. */
  get held(): number {
    return this.hold.held;
  }

  shouldDrop(): boolean {
    return this.settings.reset_rate > 0 && this.random() < this.settings.reset_rate;
  }

  /** Whether this request is one of the scripted 429s (and counts it). */
  shouldThrottle(): boolean {
    if (this.settings.throttle_count === 0) return false;
    this.settings.throttle_count -= 1;
    return true;
  }

  /** Whether this request, once processed, is answered `error_status` (and counts it). */
  shouldFailAfterCommit(method: string): boolean {
    const { commit_then_fail_count: left, commit_then_fail_methods: methods } = this.settings;
    if (left === 0 || (methods.length > 0 && !methods.includes(method))) return false;
    this.settings.commit_then_fail_count = left - 1;
    return true;
  }

  shouldFail(): boolean {
    return this.settings.error_rate > 0 && this.random() < this.settings.error_rate;
  }

  /** Takes a concurrency slot for the account, or returns null when the limit is reached. */
  acquire(accountSid: string): { concurrent: number; release: () => void } | null {
    const current = this.inFlight.get(accountSid) ?? 0;
    const limit = this.settings.concurrency_limit;
    if (limit > 0 && current >= limit) return null;
    this.inFlight.set(accountSid, current + 1);
    let released = false;
    return {
      concurrent: current + 1,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight.set(accountSid, (this.inFlight.get(accountSid) ?? 1) - 1);
      },
    };
  }

  concurrent(accountSid: string): number {
    return this.inFlight.get(accountSid) ?? 0;
  }
}
