/**
 * `--rate` as a fraction, through the client against the emulator: no one-second window may
 * hold more than the rate (0.5: one request every two seconds, so no two within two seconds),
 * and `--rate 1` with 8 requests allowed in flight still starts one a second. Judged from when
 * each attempt left (the client's trace, which the limiter controls; the emulator's arrival
 * times can bunch behind a stall of its event loop), each checked against the emulator's log.
 */

import { describe, expect, it } from 'vitest';

import type { TracedAttempt } from '../../src/twilio/http-client.js';
import { requestLog, startTestEmulator } from '../support/emulator.js';

/** Sends `count` fetches at once through a client held to `rate` and `concurrency`. */
async function startTimes(rate: number, concurrency: number, count: number): Promise<number[]> {
  const left: TracedAttempt[] = [];
  const env = await startTestEmulator(
    {},
    { limits: { concurrency, ratePerSecond: rate }, trace: (attempt) => left.push(attempt) },
  );
  try {
    await Promise.all(
      Array.from({ length: count }, () => env.parent.api.v2010.accounts(env.parentSid).fetch()),
    );
    expect((await requestLog(env)).filter((e) => e.status === 200)).toHaveLength(count);
  } finally {
    await env.close();
  }
  expect(left).toHaveLength(count);
  return left.map((a) => Date.parse(a.started_at)).sort((a, b) => a - b);
}

/** The most starts any window of `ms` holds. */
const busiest = (times: number[], ms: number) =>
  Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + ms).length));

describe('--rate with a fraction, and --rate 1 with --concurrency 8', () => {
  it.each([
    [2.5, 8, 6, 2],
    [1.5, 8, 4, 1],
    [1, 8, 4, 1],
  ])(
    '--rate %d --concurrency %d: %d requests, never more than %d in any second',
    async (rate, concurrency, count, most) => {
      const times = await startTimes(rate, concurrency, count);
      expect(busiest(times, 1_000)).toBeLessThanOrEqual(most);
      expect(most).toBeLessThanOrEqual(rate);
    },
  );

  it('--rate 0.5: one request every two seconds', async () => {
    const times = await startTimes(0.5, 8, 3);
    expect(busiest(times, 2_000)).toBe(1);
  });
});
