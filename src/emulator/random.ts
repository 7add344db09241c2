/**
 * Deterministic randomness for the emulator: SIDs, fault rolls and scenarios all draw from
 * seeded streams so that the same `--seed` gives the same SIDs, run after run.
 */

/** mulberry32: a small, fast 32-bit PRNG; good enough for identifiers and dice, not crypto. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SidFactory {
  /** A new SID: the two-letter prefix and 32 lowercase hex digits, as Twilio writes them. */
  next(prefix: string): string;
}

/**
 * SIDs from a seeded stream. mulberry32's state walks a full 2^32 cycle, so no SID reuses the
 * states of another within the first 2^30 SIDs; two SIDs could only meet by all 128 bits
 * colliding by chance. Remembering every SID issued (a Set of a million strings) buys nothing.
 * A SID a seed gives explicitly is another matter: EmulatorState.newSid skips those in use.
 */
export function createSidFactory(seed: number): SidFactory {
  const random = createRandom(seed ^ 0x5eed5eed);
  const word = () => ((random() * 4294967296) >>> 0).toString(16).padStart(8, '0');
  return {
    next: (prefix) => prefix + word() + word() + word() + word(),
  };
}
