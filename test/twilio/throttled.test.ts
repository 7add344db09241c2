/**
 * 429s through the one limiter and retry policy, against the emulator's scripted 429s
 * (`throttle_count`, with `retry_after` as the header): Twilio's limit is the account's, so a
 * 429 holds every request back, not only the one refused; a `Retry-After` of 0, a negative one,
 * a date gone by or an unreadable one never lets the retries go at once; retries count against
 * the rate; and when the retries are spent the error names the request, never the token.
 * Times are the emulator's request log's arrival times (lower bounds only, no wall-clock limits).
 */

import { describe, expect, it } from 'vitest';

import type { RequestLogEntry } from '../../src/emulator/control.js';
import { TwilioError } from '../../src/errors.js';
import type { TracedAttempt } from '../../src/twilio/http-client.js';
import type { RetryPolicy } from '../../src/twilio/retry.js';
import { requestLog, startTestEmulator, type TestEmulator } from '../support/emulator.js';

const POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 10_000 };

async function withEmulator(
  client: Parameters<typeof startTestEmulator>[1],
  test: (env: TestEmulator) => Promise<void>,
): Promise<void> {
  const env = await startTestEmulator({}, { retry: POLICY, ...client });
  try {
    await test(env);
  } finally {
    await env.close();
  }
}

const fetchParent = (env: TestEmulator) => env.parent.api.v2010.accounts(env.parentSid).fetch();
const at = (entry: RequestLogEntry) => Date.parse(entry.time);

describe('a 429 holds back every request, not only the one refused', () => {
  it.each([
    ['1', 1_000],
    ['0', 100],
    ['-5', 100],
    ['Thu, 01 Jan 2015 00:00:00 GMT', 100],
    ['soon', 100],
    ['', 100],
  ])(
    'Retry-After %j: nothing arrives within %d ms of the 429, the retry included',
    async (retryAfter, holdMs) => {
      await withEmulator({ limits: { concurrency: 1, ratePerSecond: 0 } }, async (env) => {
        await env.control('POST', '/__emulator/faults', {
          throttle_count: 1,
          retry_after: retryAfter,
        });
        await Promise.all([1, 2, 3, 4, 5].map(() => fetchParent(env)));
        const log = await requestLog(env);
        expect(log.map((e) => e.status)).toEqual([429, 200, 200, 200, 200, 200]);
        // The next request left only once the 429 was back and its hold over: it arrived at
        // least that long after the 429 arrived (however slow the machine, never sooner).
        expect(at(log[1]!) - at(log[0]!)).toBeGreaterThanOrEqual(holdMs);
      });
    },
  );

  it('with --concurrency 4, no request starts while a 429 is waited out', async () => {
    await withEmulator({ limits: { concurrency: 4, ratePerSecond: 0 } }, async (env) => {
      await env.control('POST', '/__emulator/faults', { throttle_count: 1, retry_after: '1' });
      // Four at once (the first refused), then twelve more queued behind them.
      await Promise.all(Array.from({ length: 16 }, () => fetchParent(env)));
      const log = await requestLog(env);
      const refused = log.findIndex((e) => e.status === 429);
      expect(refused).toBe(0);
      // Those that arrived after the 429's answer had left were sent after it was heard:
      // every one of them waited out its second.
      const answered = at(log[0]!) + log[0]!.duration_ms;
      const later = log.slice(1).filter((e) => at(e) > answered + 50);
      expect(later.length).toBeGreaterThanOrEqual(12);
      for (const entry of later) expect(at(entry) - at(log[0]!)).toBeGreaterThanOrEqual(1_000);
    });
  });
});

describe('retries of a 429', () => {
  it('a Retry-After of 0 does not spend the retries at once: they back off', async () => {
    await withEmulator({ random: () => 0.999 }, async (env) => {
      await env.control('POST', '/__emulator/faults', { throttle_count: 3, retry_after: '0' });
      await fetchParent(env);
      const log = await requestLog(env);
      expect(log.map((e) => e.status)).toEqual([429, 429, 429, 200]);
      // Full jitter at 0.999 under ceilings of 100, 200 and 400 ms.
      expect(at(log[3]!) - at(log[0]!)).toBeGreaterThanOrEqual(99 + 199 + 399);
    });
  });

  it('count against --rate: no second holds more than the rate, 429s and retries included', async () => {
    // When each attempt left, from the client's own trace: the emulator's arrival times can
    // bunch up behind a stall of its event loop on a loaded machine.
    const left: TracedAttempt[] = [];
    const trace = (attempt: TracedAttempt) => left.push(attempt);
    await withEmulator({ limits: { concurrency: 4, ratePerSecond: 2 }, trace }, async (env) => {
      await env.control('POST', '/__emulator/faults', { throttle_count: 3, retry_after: '0' });
      await Promise.all(Array.from({ length: 6 }, () => fetchParent(env)));
      expect((await requestLog(env)).map((e) => e.status).sort()).toEqual([
        ...Array<number>(6).fill(200),
        ...Array<number>(3).fill(429),
      ]);
      const times = left.map((a) => Date.parse(a.started_at));
      expect(times).toHaveLength(9);
      for (const start of times) {
        expect(times.filter((t) => t >= start && t < start + 1_000).length).toBeLessThanOrEqual(2);
      }
    });
  });

  it('spent, they end in an error naming the request and the attempts, never the token', async () => {
    await withEmulator({}, async (env) => {
      await env.control('POST', '/__emulator/faults', { throttle_count: 100, retry_after: '0' });
      const error = await fetchParent(env).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TwilioError);
      const { message, status, code } = error as TwilioError;
      expect({ status, code }).toEqual({ status: 429, code: 20429 });
      expect(message).toContain(`GET ${env.url}/2010-04-01/Accounts/${env.parentSid}.json`);
      expect(message).toMatch(/answered 429 \(Too Many Requests, Twilio 20429\) to all 4 attempts/);
      expect(message).toMatch(/lower --concurrency or --rate/);
      expect(message).not.toContain(env.parentToken);
      expect(await requestLog(env)).toHaveLength(4);
    });
  });
});
