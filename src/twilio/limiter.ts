/**
 * The one limiter every Twilio request goes through: at most `concurrency` requests in
 * flight (Twilio limits concurrency per account) and at most `ratePerSecond` started in any
 * one-second window, spread over up to ten windows a second rather than bursting at the top
 * of each second.
 *
 * The bound holds for every sliding second, not only aligned ones: each window counts the
 * requests that really started in it (`createWindowGate`), a whole number of windows makes up
 * a second, and each window is stretched by 5% so that requests a little late on the wire still
 * arrive within it.
 *
 * A second bucket per account holds the Consent Management API
 * (`accounts.twilio.com/v1/Consents`) to Twilio's own limit for it, `consentPerMinute`
 * requests (default 100) in any minute for each account that authenticates (the records land
 * in that account, and Twilio's limits are per account). Those
 * requests wait for that bucket before they take a slot, so nothing else ever waits behind
 * them; and because the wait and the start are then apart, the bucket counts each request from
 * the moment it really starts (see `createWindowGate`).
 *
 * A 429 holds every start back (`holdOff`) for as long as its retry waits: the limit Twilio
 * says is reached is the account's, so the requests that were not refused yet would be.
 */

import { setTimeout as sleep } from 'node:timers/promises';

import pLimit from 'p-limit';

export interface LimiterOptions {
  concurrency: number;
  /** 0 or Infinity = no rate limit. */
  ratePerSecond: number;
  /**
   * Consent Management API requests started in any minute (Twilio: 100; the default when
   * left out). 0 or Infinity = no cap.
   */
  consentPerMinute?: number;
  /** How long that minute lasts, in milliseconds: 60,000 (tests run a faster clock). */
  minuteMs?: number;
}

export const DEFAULT_LIMITS: LimiterOptions = { concurrency: 8, ratePerSecond: 100 };

/** Twilio's limit on the Consent Management API: 100 requests a minute, per account. */
export const DEFAULT_CONSENT_PER_MINUTE = 100;

/** Which bucket a request draws from besides the per-second one: an account's consent bucket. */
export interface Bucket {
  /** The account the request authenticates as. */
  consent: string;
}

/** Windows are 5% longer than their share of a second: a margin for jitter on the wire. */
const SLACK = 1.05;

/**
 * `limit` starts per `interval` ms, with a whole number of intervals to the second and
 * `limit` × intervals exactly the rate: 10/s → 1 per 100 ms; 100/s → 10 per 100 ms; 25/s →
 * 5 per 200 ms; 13/s → 13 per second. Below 1/s, one start per 1/rate seconds. Above 1/s, a
 * fraction is held to the whole number below it: a second holds whole requests, so 2.5/s
 * allows 2 in any second (one every 400 ms would put 3 in some), and no pacing does better.
 */
export function windowsOf(rate: number, periodMs = 1000): { limit: number; interval: number } {
  if (rate < 1) return { limit: 1, interval: periodMs / rate };
  if (!Number.isInteger(rate)) return windowsOf(Math.floor(rate), periodMs);
  for (let windows = Math.min(10, rate); windows > 1; windows--) {
    if (rate % windows === 0) return { limit: rate / windows, interval: periodMs / windows };
  }
  return { limit: rate, interval: periodMs };
}

export interface RequestLimiter {
  /** Runs `task` when a slot and a token allow it (and, with a bucket, that bucket too). */
  run<T>(task: () => Promise<T>, bucket?: Bucket): Promise<T>;
  /**
   * Starts no request for `ms` milliseconds from now: Twilio answered 429, so the account is
   * over its limit for every request, not only the one it refused. A hold that ends later
   * extends the one under way; one that ends sooner changes nothing.
   */
  holdOff(ms: number): void;
  /**
   * Twilio answered 429: the account has more requests in flight than it takes, so fewer are
   * let in flight — half as many, one at least — and one more again for each round of answers
   * (as many as are in flight) with no 429, up to `concurrency`.
   */
  throttled(): void;
  /** Twilio answered, not 429: a step back up towards `concurrency` after `throttled`. */
  answered(): void;
  /** Requests let in flight now: `concurrency`, or fewer since a 429. */
  readonly inFlight: number;
  readonly options: LimiterOptions;
}

export interface WindowGate {
  /**
   * Waits until a request may start; the request calls the function it gets back when it
   * really starts (it must, once, even if it fails first).
   */
  acquire(): Promise<() => void>;
}

/**
 * At most `limit` requests in any `windowMs`, counted from when each really starts, however
 * long it waits between being let through and starting. A request is let through only while
 * fewer than `limit` others have started within the window or have been let through and not
 * started yet; so for any window, the last request let through among those that started in it
 * counted all the others, and the bound holds for every sliding window. First come, first let
 * through.
 */
/** The longest delay setTimeout keeps (2^31 − 1 ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createWindowGate(limit: number, windowMs: number): WindowGate {
  const started: number[] = [];
  const waiting: (() => void)[] = [];
  let letThrough = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const pump = () => {
    const now = Date.now();
    while (started.length > 0 && started[0]! <= now - windowMs) started.shift();
    while (waiting.length > 0 && started.length + letThrough < limit) {
      letThrough += 1;
      waiting.shift()!();
    }
    // The oldest start leaves the window: the next one may go then. (When every place is
    // held by a request not started yet, its start calls pump.)
    if (waiting.length > 0 && started.length > 0 && timer === null) {
      timer = setTimeout(
        () => {
          timer = null;
          pump();
        },
        // Node runs a longer timer at once (and warns): a window of more than about 24 days
        // (`--rate` below 5e-7) is waited out in such steps, each pump checking again.
        Math.min(started[0]! + windowMs - now, MAX_TIMER_MS),
      );
    }
  };
  return {
    async acquire() {
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        pump();
      });
      let done = false;
      return () => {
        if (done) return;
        done = true;
        letThrough -= 1;
        started.push(Date.now());
        pump();
      };
    },
  };
}

export function createLimiter(options: LimiterOptions): RequestLimiter {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number ≥ 1, got ${options.concurrency}`);
  }
  if (!(options.ratePerSecond >= 0)) {
    throw new RangeError(`rate must be ≥ 0, got ${options.ratePerSecond}`);
  }
  const consentRate = options.consentPerMinute ?? DEFAULT_CONSENT_PER_MINUTE;
  const minuteMs = options.minuteMs ?? 60_000;
  if (!(consentRate >= 0)) {
    throw new RangeError(`consent rate must be ≥ 0, got ${options.consentPerMinute}`);
  }
  if (!(minuteMs > 0)) throw new RangeError(`minuteMs must be > 0, got ${options.minuteMs}`);
  const slots = pLimit(options.concurrency);
  const rate = options.ratePerSecond;
  let heldUntil = 0;
  const afterHold = async () => {
    for (let wait = heldUntil - Date.now(); wait > 0; wait = heldUntil - Date.now()) {
      await sleep(wait);
    }
  };
  let paced: <T>(task: () => Promise<T>) => Promise<T> = async (task) => {
    await afterHold();
    return task();
  };
  if (rate > 0 && Number.isFinite(rate)) {
    const { limit, interval } = windowsOf(rate);
    // Counted from when each request starts, not from when it is let through: one let through
    // and then held up (the event loop busy) would otherwise start close behind the next, and
    // a busy second could hold one request more than the rate.
    const gate = createWindowGate(limit, interval * SLACK);
    // The hold first: a place taken before it would be spent on a window nothing starts in.
    // And again once the place comes: a 429 heard while this request waited for it holds this
    // one too (its place is spent: the rate is a ceiling, never a quota to use up).
    paced = async (task) => {
      for (;;) {
        await afterHold();
        const start = await gate.acquire();
        start();
        if (heldUntil <= Date.now()) return task();
      }
    };
  }
  // 100 a minute is 10 in every 6.3 s: spread like the per-second windows, and no minute
  // (60 s, or even 63) can hold more than 100 starts.
  const capped = consentRate > 0 && Number.isFinite(consentRate);
  const gates = new Map<string, WindowGate>();
  const consentGate = (account: string): WindowGate => {
    let gate = gates.get(account);
    if (gate === undefined) {
      const { limit, interval } = windowsOf(consentRate, minuteMs);
      gates.set(account, (gate = createWindowGate(limit, interval * SLACK)));
    }
    return gate;
  };
  // Answers with no 429 since the last change of `slots.concurrency` below `concurrency`.
  let calm = 0;
  return {
    options,
    holdOff: (ms) => {
      heldUntil = Math.max(heldUntil, Date.now() + ms);
    },
    // Held back alone, the requests a 429 refused come back together after the hold into the
    // same limit: 200 reads at 8 in flight against an account that takes 2 saw 20 spend all
    // their retries. Fewer in flight is what the answer asks for.
    throttled: () => {
      slots.concurrency = Math.max(1, Math.floor(slots.concurrency / 2));
      calm = 0;
    },
    answered: () => {
      if (slots.concurrency >= options.concurrency) return;
      calm += 1;
      if (calm >= slots.concurrency) {
        slots.concurrency += 1;
        calm = 0;
      }
    },
    get inFlight() {
      return slots.concurrency;
    },
    // A slot first, then a rate token while holding it: no token is spent waiting for a slot.
    // A Consent API request waits for its own bucket before it takes a slot.
    run: async (task, bucket) => {
      if (bucket === undefined || !capped) return slots(() => paced(task));
      const start = await consentGate(bucket.consent).acquire();
      try {
        return await slots(() =>
          paced(() => {
            start();
            return task();
          }),
        );
      } finally {
        start();
      }
    },
  };
}
