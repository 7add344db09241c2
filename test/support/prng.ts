/**
 * Seeded dice for the randomized tests: the same seed gives the same draws, run after run
 * (the emulator's mulberry32 stream), so a failing seed can be run again alone.
 */

import { createRandom } from '../../src/emulator/random.js';

export function prng(seed: number) {
  const next = createRandom(seed);
  /** A whole number from min to max, both included. */
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    chance: (p: number) => next() < p,
    int,
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
    shuffle: <T>(items: readonly T[]) => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}

/**
 * The seeds an environment variable names (`1-200`, `5,13,19`, or both: `1-4,19`), or null
 * when it is unset: a randomized test then runs its fixed seeds.
 */
export function seedsFromEnv(name: string): number[] | null {
  const spec = process.env[name];
  if (spec === undefined || spec === '') return null;
  return spec.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
  });
}
