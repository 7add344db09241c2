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

export function createSidFactory(seed: number): SidFactory {
  const random = createRandom(seed ^ 0x5eed5eed);
  const issued = new Set<string>();
  const word = () =>
    Math.floor(random() * 4294967296)
      .toString(16)
      .padStart(8, '0');
  return {
    next(prefix) {
      for (;;) {
        const sid = prefix + word() + word() + word() + word();
        if (!issued.has(sid)) {
          issued.add(sid);
          return sid;
        }
      }
    },
  };
}
