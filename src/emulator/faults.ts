/**
 * Faults on demand, the way a bad day at Twilio looks from the client: slow answers, a
 * per-account concurrency limit (429 / 20429 with `Twilio-Concurrent-Requests`), random
 * 5xx and connections dropped without an answer. Faulted requests are not processed.
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
}

export const NO_FAULTS: FaultSettings = {
  latency_ms: 0,
  concurrency_limit: 0,
  error_rate: 0,
  error_status: 500,
  reset_rate: 0,
};

const isRate = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

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
  };
  for (const [key, value] of Object.entries(patch)) {
    const check = checks[key as keyof FaultSettings];
    if (check === undefined) return `unknown fault setting "${key}"`;
    if (!check(value)) return `invalid value for ${key}: ${JSON.stringify(value)}`;
  }
  Object.assign(current, patch);
  return null;
}

export class FaultInjector {
  readonly settings: FaultSettings = { ...NO_FAULTS };
  private readonly inFlight = new Map<string, number>();
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = createRandom(seed ^ 0xfa17);
  }

  reset(): void {
    Object.assign(this.settings, NO_FAULTS);
    this.inFlight.clear();
    this.random = createRandom(this.seed ^ 0xfa17);
  }

  shouldDrop(): boolean {
    return this.settings.reset_rate > 0 && this.random() < this.settings.reset_rate;
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
