/**
 * How many times a piece of work sent its writes to Twilio, retries included: the journal
 * records it per step. The http client counts each attempt of a write (not the reads a step
 * may make first, such as fetching a subaccount's token) into the counter of the async
 * context it runs in.
 */

import { AsyncLocalStorage } from 'node:async_hooks';

export interface AttemptCounter {
  writes: number;
}

const scope = new AsyncLocalStorage<AttemptCounter>();

/** Runs `work` with `counter` counting the write attempts it makes. */
export function countingAttempts<T>(counter: AttemptCounter, work: () => Promise<T>): Promise<T> {
  return scope.run(counter, work);
}

/** Called by the http client for every attempt it sends. */
export function countAttempt(method: string): void {
  if (method.toLowerCase() === 'get') return;
  const counter = scope.getStore();
  if (counter !== undefined) counter.writes += 1;
}
