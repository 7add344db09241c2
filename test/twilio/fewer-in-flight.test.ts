/**
 * An account that takes fewer requests in flight than `--concurrency` (Twilio answers the rest
 * 429 / 20429, with no Retry-After): the client lets fewer in flight — half as many after a
 * 429, one more again for each round of answers without one — so every request gets through.
 * Held back alone, the refused requests came back together into the same limit: of 200 reads
 * at 8 in flight against a limit of 2, about 20 spent all 8 attempts (538 429s in all).
 */

import { describe, expect, it } from 'vitest';

import { createLimiter } from '../../src/twilio/limiter.js';
import { DEFAULT_RETRY } from '../../src/twilio/retry.js';
import { requestLog, startTestEmulator } from '../support/emulator.js';

describe('an account that takes fewer requests in flight than asked', () => {
  it('200 reads at 8 in flight against a limit of 2: every one gets through', async () => {
    const env = await startTestEmulator(
      {},
      { retry: DEFAULT_RETRY, limits: { concurrency: 8, ratePerSecond: 0 } },
    );
    try {
      await env.control('POST', '/__emulator/faults', { concurrency_limit: 2, latency_ms: 60 });
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, () => env.parent.api.v2010.accounts(env.parentSid).fetch()),
      );
      const refused = results.filter((r) => r.status === 'rejected');
      expect(refused.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      const log = await requestLog(env);
      expect(log.filter((e) => e.status === 200)).toHaveLength(200);
      // The limit was met (the test is about something), and then kept to.
      const throttled = log.filter((e) => e.status === 429).length;
      expect(throttled).toBeGreaterThan(0);
      expect(throttled).toBeLessThan(200);
    } finally {
      await env.close();
    }
  });
});

describe('the limiter after a 429', () => {
  it('halves the requests in flight, to one at least, and comes back up as answers come', () => {
    const limiter = createLimiter({ concurrency: 8, ratePerSecond: 0 });
    expect(limiter.inFlight).toBe(8);
    limiter.throttled();
    expect(limiter.inFlight).toBe(4);
    for (let i = 0; i < 5; i++) limiter.throttled();
    expect(limiter.inFlight).toBe(1);
    // One more for each round of answers without a 429: 1 answer at 1, 2 at 2, …
    limiter.answered();
    expect(limiter.inFlight).toBe(2);
    limiter.answered();
    expect(limiter.inFlight).toBe(2);
    limiter.answered();
    expect(limiter.inFlight).toBe(3);
    for (let i = 0; i < 3 + 4 + 5 + 6 + 7; i++) limiter.answered();
    expect(limiter.inFlight).toBe(8);
    limiter.answered();
    expect(limiter.inFlight).toBe(8);
  });
});
