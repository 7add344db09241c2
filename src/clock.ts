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
