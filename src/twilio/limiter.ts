/**
 * The one limiter every Twilio request goes through: at most `concurrency` requests in
 * flight (Twilio limits concurrency per account) and at most `ratePerSecond` started in any
 * one-second window, spread over up to ten windows a second rather than bursting at the top
 * of each second.
 *
 * The bound holds for every sliding second, not only aligned ones: each window is throttled
 * strictly (p-throttle's `strict`), a whole number of windows makes up a second, and each
 * window is stretched by 5% so that requests a little late on the wire still arrive within it.
 */

import pLimit from 'p-limit';
import pThrottle from 'p-throttle';

export interface LimiterOptions {
  concurrency: number;
  /** 0 or Infinity = no rate limit. */
  ratePerSecond: number;
}

export const DEFAULT_LIMITS: LimiterOptions = { concurrency: 8, ratePerSecond: 100 };

/** Windows are 5% longer than their share of a second: a margin for jitter on the wire. */
const SLACK = 1.05;

/**
 * `limit` starts per `interval` ms, with a whole number of intervals to the second and
 * `limit` × intervals exactly the rate: 10/s → 1 per 100 ms; 100/s → 10 per 100 ms; 25/s →
 * 5 per 200 ms; 13/s → 13 per second. Below 1/s, one start per 1/rate seconds.
 */
export function windowsOf(rate: number): { limit: number; interval: number } {
  if (!Number.isInteger(rate) || rate < 1) return { limit: 1, interval: 1000 / rate };
  for (let windows = Math.min(10, rate); windows > 1; windows--) {
    if (rate % windows === 0) return { limit: rate / windows, interval: 1000 / windows };
  }
  return { limit: rate, interval: 1000 };
}

export interface RequestLimiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly options: LimiterOptions;
}

export function createLimiter(options: LimiterOptions): RequestLimiter {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number ≥ 1, got ${options.concurrency}`);
  }
  if (!(options.ratePerSecond >= 0)) {
    throw new RangeError(`rate must be ≥ 0, got ${options.ratePerSecond}`);
  }
  const slots = pLimit(options.concurrency);
  const rate = options.ratePerSecond;
  let paced: <T>(task: () => Promise<T>) => Promise<T> = (task) => task();
  if (rate > 0 && Number.isFinite(rate)) {
    const { limit, interval } = windowsOf(rate);
    const throttle = pThrottle({ limit, interval: interval * SLACK, strict: true });
    const start = throttle(() => undefined);
    paced = async (task) => {
      await start();
      return task();
    };
  }
  return {
    options,
    // A slot first, then a rate token while holding it: no token is spent waiting for a slot.
    run: (task) => slots(() => paced(task)),
  };
}
