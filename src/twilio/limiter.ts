/**
 * The one limiter every Twilio request goes through: at most `concurrency` requests in
 * flight (Twilio limits concurrency per account) and at most `ratePerSecond` started per
 * second, spread in 100 ms windows rather than bursting at the top of each second.
 */

import pLimit from 'p-limit';
import pThrottle from 'p-throttle';

export interface LimiterOptions {
  concurrency: number;
  /** 0 or Infinity = no rate limit. */
  ratePerSecond: number;
}

export const DEFAULT_LIMITS: LimiterOptions = { concurrency: 8, ratePerSecond: 100 };

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
    const perWindow = Math.max(1, Math.floor(rate / 10));
    const throttle = pThrottle({ limit: perWindow, interval: (1000 * perWindow) / rate });
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
