import { afterEach, describe, expect, it, vi } from 'vitest';

import { createLimiter, windowsOf, DEFAULT_LIMITS } from '../../src/twilio/limiter.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run (real timers: a macrotask turn drains them all). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tasks that wait for a hand-resolved promise, counting how many run at once. */
function gatedTasks(count: number) {
  const gates = Array.from({ length: count }, () => deferred<string>());
  const state = { running: 0, maxRunning: 0, started: [] as number[], finished: [] as number[] };
  const tasks = gates.map((gate, i) => async () => {
    state.running += 1;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    state.started.push(i);
    try {
      return await gate.promise;
    } finally {
      state.running -= 1;
      state.finished.push(i);
    }
  });
  return { gates, state, tasks };
}

describe('createLimiter: concurrency', () => {
  it('never runs more than `concurrency` tasks at once, and runs them all', async () => {
    const limiter = createLimiter({ concurrency: 3, ratePerSecond: 0 });
    const { gates, state, tasks } = gatedTasks(10);
    const results = tasks.map((task) => limiter.run(task));

    await settle();
    expect(state.started).toEqual([0, 1, 2]);
    expect(state.running).toBe(3);

    // Finish them out of order: each finish lets exactly one more in.
    for (const i of [1, 0, 2, 5, 3, 4, 7, 6, 8, 9]) {
      gates[i]!.resolve(`result ${i}`);
      await settle();
      expect(state.running).toBeLessThanOrEqual(3);
    }

    await expect(Promise.all(results)).resolves.toEqual(
      Array.from({ length: 10 }, (_, i) => `result ${i}`),
    );
    expect(state.maxRunning).toBe(3);
    expect(state.started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(state.running).toBe(0);
  });

  it('starts the next task only when a running one finishes', async () => {
    const limiter = createLimiter({ concurrency: 2, ratePerSecond: 0 });
    const { gates, state, tasks } = gatedTasks(4);
    const results = tasks.map((task) => limiter.run(task));

    await settle();
    expect(state.started).toEqual([0, 1]);
    await settle();
    expect(state.started).toEqual([0, 1]);

    gates[0]!.resolve('a');
    await settle();
    expect(state.started).toEqual([0, 1, 2]);

    gates[1]!.resolve('b');
    gates[2]!.resolve('c');
    gates[3]!.resolve('d');
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd']);
    expect(state.maxRunning).toBe(2);
  });

  it('concurrency 1 runs tasks one after the other, in order', async () => {
    const limiter = createLimiter({ concurrency: 1, ratePerSecond: 0 });
    const { gates, state, tasks } = gatedTasks(5);
    const results = tasks.map((task) => limiter.run(task));
    for (let i = 0; i < 5; i++) {
      await settle();
      expect(state.started).toEqual(Array.from({ length: i + 1 }, (_, j) => j));
      gates[i]!.resolve(String(i));
    }
    await expect(Promise.all(results)).resolves.toEqual(['0', '1', '2', '3', '4']);
    expect(state.maxRunning).toBe(1);
  });

  it('propagates errors and frees the slot of a task that failed', async () => {
    const limiter = createLimiter({ concurrency: 2, ratePerSecond: 0 });
    const { gates, state, tasks } = gatedTasks(4);
    // Settled from the start, so no rejection is ever unhandled.
    const outcomes = Promise.allSettled(tasks.map((task) => limiter.run(task)));
    const boom = new Error('boom');

    await settle();
    gates[0]!.reject(boom);
    gates[1]!.resolve('one');
    await settle();
    expect(state.started).toEqual([0, 1, 2, 3]);
    gates[2]!.resolve('two');
    gates[3]!.reject(new Error('bang'));

    await expect(outcomes).resolves.toEqual([
      { status: 'rejected', reason: boom },
      { status: 'fulfilled', value: 'one' },
      { status: 'fulfilled', value: 'two' },
      { status: 'rejected', reason: new Error('bang') },
    ]);
    expect(state.maxRunning).toBe(2);
  });

  it('propagates a task that throws synchronously', async () => {
    const limiter = createLimiter({ concurrency: 1, ratePerSecond: 0 });
    const failing = limiter.run(() => {
      throw new TypeError('sync');
    });
    await expect(failing).rejects.toThrow(TypeError);
    await expect(limiter.run(async () => 'after')).resolves.toBe('after');
  });

  it('exposes its options', () => {
    const options = { concurrency: 4, ratePerSecond: 25 };
    expect(createLimiter(options).options).toEqual(options);
    expect(createLimiter(DEFAULT_LIMITS).options).toEqual({ concurrency: 8, ratePerSecond: 100 });
  });
});

describe('createLimiter: invalid options', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'concurrency %d → RangeError',
    (concurrency) => {
      expect(() => createLimiter({ concurrency, ratePerSecond: 10 })).toThrow(RangeError);
    },
  );

  it.each([-1, -0.5, Number.NaN, Number.NEGATIVE_INFINITY])(
    'rate %d → RangeError',
    (ratePerSecond) => {
      expect(() => createLimiter({ concurrency: 1, ratePerSecond })).toThrow(RangeError);
    },
  );

  it.each([0, 0.5, 10, Number.POSITIVE_INFINITY])('rate %d is accepted', (ratePerSecond) => {
    expect(() => createLimiter({ concurrency: 1, ratePerSecond })).not.toThrow();
  });
});

describe('createLimiter: rate (fake timers)', () => {
  const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

  afterEach(() => {
    vi.useRealTimers();
  });

  /** Starts `count` instant tasks; `starts` receives each task's start time, relative to T0. */
  function launch(limiter: ReturnType<typeof createLimiter>, count: number) {
    const starts: number[] = [];
    const results = Array.from({ length: count }, (_, i) =>
      limiter.run(async () => {
        starts.push(Date.now() - T0);
        return i;
      }),
    );
    return { starts, results };
  }

  it('at 10/s, starts one task per 100 ms window (stretched 5% for jitter)', async () => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 50, ratePerSecond: 10 });
    const { starts, results } = launch(limiter, 20);

    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toHaveLength(1);
    for (let window = 1; window <= 10; window++) {
      await vi.advanceTimersByTimeAsync(104);
      expect(starts).toHaveLength(window);
      await vi.advanceTimersByTimeAsync(1);
      expect(starts).toHaveLength(window + 1);
    }

    await vi.runAllTimersAsync();
    await expect(Promise.all(results)).resolves.toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(starts).toEqual(Array.from({ length: 20 }, (_, i) => i * 105));
  });

  it('a window longer than a timer can wait (--rate 1e-7) is waited out, not polled every millisecond', async () => {
    vi.useFakeTimers({ now: T0 });
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const limiter = createLimiter({ concurrency: 2, ratePerSecond: 1e-7 });
    const { starts, results } = launch(limiter, 2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(starts).toEqual([0]);
    // One timer for the whole wait so far (setTimeout fires a longer one after 1 ms: a
    // thousand re-checks in this second).
    expect(timers.mock.calls.length).toBeLessThan(5);
    // The window is 1e7 s, stretched 5%: the second starts when it ends, not before.
    const window = 1.05e10;
    await vi.advanceTimersByTimeAsync(window - 1001);
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([0, window]);
    await expect(Promise.all(results)).resolves.toEqual([0, 1]);
  });

  it.each([
    [10, 1, 100],
    [100, 10, 100],
    [1000, 100, 100],
    [25, 5, 200],
    [13, 13, 1000],
    [7, 1, 1000 / 7],
    [1, 1, 1000],
    [0.5, 1, 2000],
    // A second holds whole requests: 2.5/s is at most 2 in any second.
    [2.5, 1, 500],
    [1.5, 1, 1000],
    [20.5, 2, 100],
  ])('%d/s is %d per %d ms: a whole number of windows a second', (rate, limit, interval) => {
    expect(windowsOf(rate)).toEqual({ limit, interval });
  });

  it.each([10, 20, 25, 13, 100])(
    'at %d/s, no sliding one-second window ever holds more than the rate',
    async (rate) => {
      vi.useFakeTimers({ now: T0 });
      const limiter = createLimiter({ concurrency: 1000, ratePerSecond: rate });
      const { starts, results } = launch(limiter, rate * 4);
      await vi.runAllTimersAsync();
      await Promise.all(results);
      for (const start of starts) {
        // Arrivals up to 4 ms late on the wire may not crowd a window either.
        const within = starts.filter((t) => t >= start - 4 && t < start + 1000);
        expect(within.length).toBeLessThanOrEqual(rate);
      }
      // And the rate is used: four seconds' worth take a little over three seconds.
      expect(starts.at(-1)!).toBeLessThan(4 * 1000 * 1.05);
    },
  );

  it('at 100/s, starts ten at once rather than 100, then spreads the rest evenly', async () => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 50, ratePerSecond: 100 });
    const { starts, results } = launch(limiter, 25);

    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toHaveLength(10);
    await vi.advanceTimersByTimeAsync(104);
    expect(starts).toHaveLength(10);
    await vi.runAllTimersAsync();
    await Promise.all(results);
    // Never more than ten in any window of 105 ms, and all 25 within three windows.
    for (const start of starts) {
      expect(starts.filter((t) => t >= start && t < start + 105).length).toBeLessThanOrEqual(10);
    }
    expect(starts.at(-1)!).toBeLessThan(3 * 105);
  });

  it('at 1/s, spaces starts a second apart', async () => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 4, ratePerSecond: 1 });
    const { starts, results } = launch(limiter, 3);
    await vi.runAllTimersAsync();
    await Promise.all(results);
    expect(starts).toEqual([0, 1_050, 2_100]);
  });

  it.each([0, Number.POSITIVE_INFINITY])('rate %d starts everything at once', async (rate) => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 50, ratePerSecond: rate });
    const { starts, results } = launch(limiter, 30);
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toEqual(Array.from({ length: 30 }, () => 0));
    await Promise.all(results);
  });

  it('holds a slot before taking a rate token: a task freed late starts at once', async () => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 1, ratePerSecond: 10 });
    const gate = deferred<string>();
    const starts: number[] = [];
    const first = limiter.run(async () => {
      starts.push(Date.now() - T0);
      return gate.promise;
    });
    const second = limiter.run(async () => {
      starts.push(Date.now() - T0);
      return 'second';
    });

    await vi.advanceTimersByTimeAsync(500);
    expect(starts).toEqual([0]);
    gate.resolve('first');
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toEqual([0, 500]);
    await expect(Promise.all([first, second])).resolves.toEqual(['first', 'second']);
  });

  it('limits concurrency and rate together', async () => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 2, ratePerSecond: 10 });
    const { gates, state, tasks } = gatedTasks(4);
    const results = tasks.map((task) => limiter.run(task));

    await vi.advanceTimersByTimeAsync(0);
    expect(state.started).toEqual([0]);
    await vi.advanceTimersByTimeAsync(105);
    expect(state.started).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(state.started).toEqual([0, 1]);

    gates[0]!.resolve('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(state.started).toEqual([0, 1, 2]);
    gates[1]!.resolve('b');
    await vi.advanceTimersByTimeAsync(0);
    // Task 2 took this window's token; task 3 waits for the next window.
    expect(state.started).toEqual([0, 1, 2]);
    await vi.advanceTimersByTimeAsync(105);
    expect(state.started).toEqual([0, 1, 2, 3]);

    gates[2]!.resolve('c');
    gates[3]!.resolve('d');
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd']);
    expect(state.maxRunning).toBe(2);
  });
});

describe('createLimiter: the Consent API bucket (fake timers)', () => {
  const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

  afterEach(() => {
    vi.useRealTimers();
  });

  /** Starts `count` instant consent tasks; `starts` receives each start, relative to T0. */
  function consents(
    limiter: ReturnType<typeof createLimiter>,
    count: number,
    starts: number[],
    account = 'AC1',
  ) {
    return Array.from({ length: count }, (_, i) =>
      limiter.run(
        async () => {
          starts.push(Date.now() - T0);
          return i;
        },
        { consent: account },
      ),
    );
  }

  /** The most starts any sliding window of `windowMs` holds. */
  const busiest = (starts: readonly number[], windowMs: number) =>
    Math.max(0, ...starts.map((s) => starts.filter((t) => t >= s && t < s + windowMs).length));

  it('100 a minute by default: 120 requests, never more than 100 in any 60 s (nor 63 s)', async () => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 8, ratePerSecond: 0 });
    const starts: number[] = [];
    const results = consents(limiter, 120, starts);
    await vi.runAllTimersAsync();
    await expect(Promise.all(results)).resolves.toHaveLength(120);
    expect(busiest(starts, 60_000)).toBeLessThanOrEqual(100);
    expect(busiest(starts, 63_000)).toBeLessThanOrEqual(100);
    // Spread like the per-second windows: ten at once, then ten every 6.3 s.
    expect(busiest(starts, 6_300)).toBe(10);
    expect(starts.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => 0));
    expect(starts.at(-1)).toBe(11 * 6_300);
  });

  it('each account has its own 100 a minute: two accounts go side by side', async () => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 8, ratePerSecond: 0 });
    const one: number[] = [];
    const two: number[] = [];
    const results = [...consents(limiter, 20, one, 'AC1'), ...consents(limiter, 20, two, 'AC2')];
    await vi.runAllTimersAsync();
    await Promise.all(results);
    // Each account's twenty: ten at once, ten 6.3 s later, whatever the other account does.
    for (const starts of [one, two]) {
      expect(starts.filter((t) => t === 0)).toHaveLength(10);
      expect(starts.filter((t) => t === 6_300)).toHaveLength(10);
    }
  });

  it('a shorter minute (a test clock) scales every window with it', async () => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({
      concurrency: 4,
      ratePerSecond: 0,
      consentPerMinute: 100,
      minuteMs: 6_000,
    });
    const starts: number[] = [];
    const results = consents(limiter, 250, starts);
    await vi.runAllTimersAsync();
    await Promise.all(results);
    expect(busiest(starts, 6_000)).toBeLessThanOrEqual(100);
    expect(busiest(starts, 630)).toBe(10);
    expect(starts.at(-1)).toBe(24 * 630);
  });

  it('other requests never wait behind consent requests waiting for their bucket', async () => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 2, ratePerSecond: 0, consentPerMinute: 10 });
    const starts: number[] = [];
    const waiting = consents(limiter, 30, starts);
    await vi.advanceTimersByTimeAsync(0);
    // One request's worth of bucket per 6.3 s: the first started, 29 wait, holding no slot.
    expect(starts).toEqual([0]);
    const other = await limiter.run(async () => Date.now() - T0);
    expect(other).toBe(0);
    await vi.runAllTimersAsync();
    await Promise.all(waiting);
    expect(busiest(starts, 60_000)).toBeLessThanOrEqual(10);
  });

  it('counts a request from when it starts, however long it waited for a slot', async () => {
    vi.useFakeTimers({ now: T0 });
    // One slot, held 10 s by a slow ordinary request; 2 consent requests a "minute" of 1 s
    // (one per 500 ms window).
    const limiter = createLimiter({
      concurrency: 1,
      ratePerSecond: 0,
      consentPerMinute: 2,
      minuteMs: 1_000,
    });
    const gate = deferred<string>();
    const slow = limiter.run(() => gate.promise);
    const starts: number[] = [];
    const results = consents(limiter, 6, starts);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starts).toEqual([]);
    gate.resolve('slow');
    await vi.runAllTimersAsync();
    await Promise.all([slow, ...results]);
    // The first was let through at 0 but started at 10 s: the bucket counts it from then, so
    // the next go a window (500 ms, + 5%) apart from that real start, not bunched behind it.
    expect(starts).toEqual([10_000, 10_525, 11_050, 11_575, 12_100, 12_625]);
  });

  it('a failed consent request still counts, and frees what it held', async () => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 1, ratePerSecond: 0, consentPerMinute: 1 });
    const failing = limiter.run(() => Promise.reject(new Error('boom')), { consent: 'AC1' });
    await expect(failing).rejects.toThrow('boom');
    const starts: number[] = [];
    const next = consents(limiter, 1, starts);
    await vi.advanceTimersByTimeAsync(62_999);
    expect(starts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([63_000]);
    await Promise.all(next);
  });

  it.each([0, Number.POSITIVE_INFINITY])('consentPerMinute %d: no cap', async (rate) => {
    vi.useFakeTimers({ now: T0 });
    const limiter = createLimiter({ concurrency: 50, ratePerSecond: 0, consentPerMinute: rate });
    const starts: number[] = [];
    const results = consents(limiter, 300, starts);
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toHaveLength(300);
    await Promise.all(results);
  });

  it.each([-1, Number.NaN])('consentPerMinute %d → RangeError', (rate) => {
    expect(() =>
      createLimiter({ concurrency: 1, ratePerSecond: 0, consentPerMinute: rate }),
    ).toThrow(RangeError);
  });

  it('windowsOf a minute: 100 → 10 per 6 s', () => {
    expect(windowsOf(100, 60_000)).toEqual({ limit: 10, interval: 6_000 });
    expect(windowsOf(7, 60_000)).toEqual({ limit: 1, interval: 60_000 / 7 });
  });
});

describe('createLimiter: a hold (real timers)', () => {
  // A 429 holds every start back, those already waiting for a rate token included: with a
  // rate, the requests queued for their tokens when it came started as the tokens did, into
  // the account's limit the 429 said was reached.
  it.each([2, 10])(
    'at --rate %d, no task waiting for its token starts until a hold set meanwhile is over',
    async (rate) => {
      const limiter = createLimiter({ concurrency: 4, ratePerSecond: rate });
      const HOLD_MS = 1_500;
      let heldAt = 0;
      const starts: number[] = [];
      await Promise.all([
        limiter.run(async () => {
          heldAt = Date.now();
          limiter.holdOff(HOLD_MS);
        }),
        ...[1, 2, 3].map(() =>
          limiter.run(async () => {
            starts.push(Date.now());
          }),
        ),
      ]);
      expect(starts).toHaveLength(3);
      for (const start of starts) expect(start - heldAt).toBeGreaterThanOrEqual(HOLD_MS);
    },
  );
});

describe('createLimiter: a busy event loop (real timers)', () => {
  // A rate window counts a request from when it really starts. Counted from when it was due,
  // a start the event loop held up (here a task blocking it, as a long GC pause or a big page
  // being parsed would) left the next window's start due on time, right behind it: --rate 2
  // started three requests within one second.
  it('at --rate 2, no second holds three starts when a start is held up past the next', async () => {
    const limiter = createLimiter({ concurrency: 8, ratePerSecond: 2 });
    const t0 = Date.now();
    const starts: number[] = [];
    await Promise.all([
      limiter.run(async () => {
        starts.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 300));
        // Blocks the loop past the moment the second start is due (one window: 525 ms).
        while (Date.now() < t0 + 1_100);
      }),
      ...[1, 2, 3].map(() =>
        limiter.run(async () => {
          starts.push(Date.now());
        }),
      ),
    ]);
    expect(starts).toHaveLength(4);
    for (const start of starts) {
      expect(starts.filter((t) => t >= start && t < start + 1_000).length).toBeLessThanOrEqual(2);
    }
  });
});
