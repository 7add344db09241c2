import { describe, expect, it } from 'vitest';

import {
  backoffDelayMs,
  DEFAULT_RETRY,
  parseRetryAfter,
  withRetry,
  type AttemptOutcome,
  type RetryEvent,
  type RetryPolicy,
} from '../../src/twilio/retry.js';

const POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };

type Step = number | 'no-answer' | { status: number; retryAfterMs: number };

/** An attempt function that plays `steps` in order (the last one repeats) and counts calls. */
function script(steps: Step[]) {
  const errors: Error[] = [];
  const run = {
    calls: 0,
    errors,
    attempt: async (): Promise<AttemptOutcome<string>> => {
      const n = run.calls++;
      const step = steps[Math.min(n, steps.length - 1)];
      if (step === undefined) throw new Error('empty script');
      if (step === 'no-answer') {
        const error = new Error(`no answer #${n + 1}`);
        errors.push(error);
        return { kind: 'no-answer', error };
      }
      const { status, retryAfterMs } =
        typeof step === 'number' ? { status: step, retryAfterMs: null } : step;
      return { kind: 'answer', value: `answer #${n + 1} (${status})`, status, retryAfterMs };
    },
  };
  return run;
}

function deps(randomValue = 0.5) {
  const delays: number[] = [];
  const events: RetryEvent[] = [];
  return {
    delays,
    events,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
    random: () => randomValue,
    onRetry: (event: RetryEvent) => {
      events.push(event);
    },
  };
}

describe('backoffDelayMs (full jitter)', () => {
  it('is floor(random × min(max, base·2^n)) at random 0.5', () => {
    const delays = [0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelayMs(n, POLICY, () => 0.5));
    expect(delays).toEqual([50, 100, 200, 400, 500, 500, 500]);
  });

  it('is floor(random × min(max, base·2^n)) at random 0.999', () => {
    const delays = [0, 1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, POLICY, () => 0.999));
    expect(delays).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('is 0 at random 0 and stays below the ceiling', () => {
    expect(backoffDelayMs(3, POLICY, () => 0)).toBe(0);
    expect(backoffDelayMs(3, POLICY, () => 0.999_999)).toBeLessThan(800);
  });

  it('follows the default policy', () => {
    expect(backoffDelayMs(0, DEFAULT_RETRY, () => 0.5)).toBe(50);
    expect(backoffDelayMs(20, DEFAULT_RETRY, () => 0.5)).toBe(5_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2015, 9, 21, 7, 27, 30);

  it.each([
    ['5', 5_000],
    ['0', 0],
    ['1.5', 1_500],
    [' 2 ', 2_000],
    ['-3', 0],
    ['120', 120_000],
  ])('seconds %j → %d ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('an HTTP date → milliseconds from now', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now)).toBe(30_000);
  });

  it('an HTTP date in the past → 0', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now)).toBe(0);
  });

  it.each([undefined, null, '', '   ', 'soon', 42, ['5']])('%j → null', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });
});

describe('withRetry', () => {
  it.each([true, false])('retries 429 until success (idempotent: %s)', async (idempotent) => {
    const run = script([429, 429, 200]);
    const d = deps();
    await expect(withRetry(run.attempt, idempotent, POLICY, d)).resolves.toBe('answer #3 (200)');
    expect(run.calls).toBe(3);
    expect(d.delays).toEqual([50, 100]);
  });

  it.each([500, 502, 503])('retries %d for an idempotent request (GET)', async (status) => {
    const run = script([status, status, 200]);
    const d = deps();
    await expect(withRetry(run.attempt, true, POLICY, d)).resolves.toBe('answer #3 (200)');
    expect(run.calls).toBe(3);
  });

  it.each([500, 503])('returns a POST %d after one attempt', async (status) => {
    const run = script([status, 200]);
    const d = deps();
    await expect(withRetry(run.attempt, false, POLICY, d)).resolves.toBe(`answer #1 (${status})`);
    expect(run.calls).toBe(1);
    expect(d.delays).toEqual([]);
  });

  it('retries no answer for an idempotent request', async () => {
    const run = script(['no-answer', 'no-answer', 200]);
    const d = deps();
    await expect(withRetry(run.attempt, true, POLICY, d)).resolves.toBe('answer #3 (200)');
    expect(run.calls).toBe(3);
  });

  it('throws a POST that got no answer after one attempt', async () => {
    const run = script(['no-answer', 200]);
    const d = deps();
    await expect(withRetry(run.attempt, false, POLICY, d)).rejects.toBe(run.errors[0]);
    expect(run.calls).toBe(1);
    expect(d.delays).toEqual([]);
  });

  it.each([400, 401, 403, 404, 409])('never retries %d', async (status) => {
    for (const idempotent of [true, false]) {
      const run = script([status, 200]);
      const d = deps();
      await expect(withRetry(run.attempt, idempotent, POLICY, d)).resolves.toBe(
        `answer #1 (${status})`,
      );
      expect(run.calls).toBe(1);
      expect(d.events).toEqual([]);
    }
  });

  it.each([200, 201, 204, 302])('returns %d at once', async (status) => {
    const run = script([status]);
    await expect(withRetry(run.attempt, true, POLICY, deps())).resolves.toBe(
      `answer #1 (${status})`,
    );
    expect(run.calls).toBe(1);
  });

  it.each([1, 2, 3, 5])('makes exactly maxAttempts = %d attempts', async (maxAttempts) => {
    const run = script([429]);
    const d = deps();
    const policy = { ...POLICY, maxAttempts };
    await expect(withRetry(run.attempt, true, policy, d)).resolves.toBe(
      `answer #${maxAttempts} (429)`,
    );
    expect(run.calls).toBe(maxAttempts);
    expect(d.delays).toHaveLength(maxAttempts - 1);
  });

  it('returns the last answer after exhausting attempts', async () => {
    const run = script([503]);
    const d = deps();
    await expect(withRetry(run.attempt, true, POLICY, d)).resolves.toBe('answer #5 (503)');
    expect(run.calls).toBe(5);
    expect(d.delays).toEqual([50, 100, 200, 400]);
  });

  it('throws the last error after exhausting attempts', async () => {
    const run = script(['no-answer']);
    const d = deps();
    const failure = withRetry(run.attempt, true, { ...POLICY, maxAttempts: 3 }, d);
    await expect(failure).rejects.toThrow('no answer #3');
    expect(run.calls).toBe(3);
    expect(run.errors).toHaveLength(3);
    await expect(failure).rejects.toBe(run.errors[2]);
  });

  it('uses full-jitter backoff between attempts (random 0.999)', async () => {
    const run = script([429]);
    const d = deps(0.999);
    await withRetry(run.attempt, false, POLICY, d);
    expect(d.delays).toEqual([99, 199, 399, 799]);
  });

  it('caps the backoff at maxDelayMs', async () => {
    const run = script([429]);
    const d = deps(0.5);
    await withRetry(run.attempt, false, { ...POLICY, maxAttempts: 8 }, d);
    expect(d.delays).toEqual([50, 100, 200, 400, 500, 500, 500]);
  });

  it('honours Retry-After (seconds) instead of the backoff', async () => {
    const now = Date.UTC(2024, 0, 1);
    const run = script([{ status: 429, retryAfterMs: parseRetryAfter('3', now) ?? -1 }, 200]);
    const d = deps();
    await expect(withRetry(run.attempt, false, POLICY, d)).resolves.toBe('answer #2 (200)');
    expect(d.delays).toEqual([3_000]);
  });

  it('honours Retry-After (HTTP date) instead of the backoff', async () => {
    const now = Date.UTC(2024, 0, 1, 12, 0, 0);
    const retryAfterMs = parseRetryAfter('Mon, 01 Jan 2024 12:00:07 GMT', now) ?? -1;
    const run = script([{ status: 503, retryAfterMs }, 200]);
    const d = deps();
    await withRetry(run.attempt, true, POLICY, d);
    expect(d.delays).toEqual([7_000]);
  });

  it('caps Retry-After at 60 s', async () => {
    const run = script([
      { status: 429, retryAfterMs: 3_600_000 },
      { status: 429, retryAfterMs: 60_001 },
      { status: 429, retryAfterMs: 60_000 },
      200,
    ]);
    const d = deps();
    await withRetry(run.attempt, false, POLICY, d);
    expect(d.delays).toEqual([60_000, 60_000, 60_000]);
  });

  it('uses the backoff when Retry-After is absent, Retry-After when present', async () => {
    const run = script([429, { status: 429, retryAfterMs: 1_234 }, 429, 200]);
    const d = deps();
    await withRetry(run.attempt, false, POLICY, d);
    expect(d.delays).toEqual([50, 1_234, 200]);
  });

  it('a Retry-After of 0 (or a date gone by) does not skip the backoff', async () => {
    const run = script([{ status: 429, retryAfterMs: 0 }]);
    const d = deps();
    await withRetry(run.attempt, false, POLICY, d);
    expect(d.delays).toEqual([50, 100, 200, 400]);
  });

  it('a Retry-After shorter than the backoff waits the backoff', async () => {
    const run = script([429, 429, 429, { status: 429, retryAfterMs: 150 }, 200]);
    const d = deps();
    await withRetry(run.attempt, false, POLICY, d);
    expect(d.delays).toEqual([50, 100, 200, 400]);
  });

  it('does not retry a 400 even when it carries Retry-After', async () => {
    const run = script([{ status: 400, retryAfterMs: 1_000 }, 200]);
    const d = deps();
    await expect(withRetry(run.attempt, true, POLICY, d)).resolves.toBe('answer #1 (400)');
    expect(d.delays).toEqual([]);
  });

  it('reports each retry with its attempt, status and delay', async () => {
    const run = script([429, 'no-answer', { status: 503, retryAfterMs: 2_000 }, 200]);
    const d = deps();
    await withRetry(run.attempt, true, POLICY, d);
    expect(d.events).toEqual([
      { attempt: 1, status: 429, delayMs: 50 },
      { attempt: 2, status: 0, delayMs: 100 },
      { attempt: 3, status: 503, delayMs: 2_000 },
    ]);
    expect(d.delays).toEqual(d.events.map((event) => event.delayMs));
  });

  it('reports no retry after the last attempt', async () => {
    const run = script([429]);
    const d = deps();
    await withRetry(run.attempt, false, { ...POLICY, maxAttempts: 3 }, d);
    expect(d.events.map((event) => event.attempt)).toEqual([1, 2]);
  });

  it('works without onRetry', async () => {
    const run = script([429, 200]);
    const { sleep, random } = deps();
    await expect(withRetry(run.attempt, false, POLICY, { sleep, random })).resolves.toBe(
      'answer #2 (200)',
    );
  });

  it('waits for sleep before the next attempt', async () => {
    const run = script([429, 200]);
    let release: () => void = () => {};
    const sleeping = new Promise<void>((resolve) => {
      release = resolve;
    });
    const done = withRetry(run.attempt, false, POLICY, { sleep: () => sleeping, random: () => 0 });
    await Promise.resolve();
    await Promise.resolve();
    expect(run.calls).toBe(1);
    release();
    await expect(done).resolves.toBe('answer #2 (200)');
    expect(run.calls).toBe(2);
  });
});
