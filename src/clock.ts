/** Time enters through a parameter (STYLE §5): tests pass a fixed or stepping clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** ISO 8601 UTC to the second: how the ledger and reports write instants. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * How far Twilio's clock may be from ours: its dates (a message's `date_sent`, a resource's
 * `date_created`) are compared with times this machine recorded only with this much room.
 */
export const CLOCK_SKEW_MS = 120_000;

/**
 * The latest `date_sent` (ISO 8601 UTC, whole seconds) Twilio may give a message said before
 * `at`, a moment this machine recorded to the second (a number's move in the journal): that
 * second, and CLOCK_SKEW_MS after it. The same rule as a span not read that counts against a
 * list (`unreadBefore`, src/optouts/export.ts).
 */
export function saidBeforeBy(at: string): string {
  const time = Date.parse(at);
  // A journal time that is no date (none recorded) is left as it was: compared, as before.
  return Number.isNaN(time) ? at : isoSeconds(new Date(time + CLOCK_SKEW_MS));
}

/**
 * The earliest `date_sent` Twilio may give a message said after `at`, a moment this machine
 * recorded to the second (a number's move in the journal): CLOCK_SKEW_MS before it, Twilio's
 * clock running behind ours. The other bound of `saidBeforeBy`.
 */
export function saidAfterBy(at: string): string {
  const time = Date.parse(at);
  // A journal time that is no date (none recorded) is left as it was: compared, as before.
  return Number.isNaN(time) ? at : isoSeconds(new Date(time - CLOCK_SKEW_MS));
}
