/**
 * Randomized differential trials of the opt-out ledger (test/support/ledger-fuzz.ts): for
 * each seed a random history with keyword variants and near-misses, number- and service-scope
 * opt-outs, numbers moving between services, ties, refused sends, a subaccount, a short
 * retention window, incremental and `--since` snapshots, faults and runs cut short, then
 * `optouts` held against an independent oracle and against the emulator's opt-out store.
 *
 * Other seeds: `FUZZ_SEEDS=1-500 FUZZ_KILL_SEEDS=7001-7020 npx vitest run
 * test/integration/ledger-fuzz.test.ts` (`FUZZ_EVENTS=350` for longer histories,
 * `FUZZ_EXOTIC=0` without the non-ASCII look-alikes). The kill trials run the built CLI:
 * `npm run build` first.
 */

import { describe, expect, it } from 'vitest';

import { runKillTrial, runTrial, type TrialResult } from '../support/ledger-fuzz.js';
import { seedsFromEnv } from '../support/prng.js';

const FIXED_SEEDS = Array.from({ length: 24 }, (_, i) => 1000 + i);

const SEEDS = seedsFromEnv('FUZZ_SEEDS') ?? FIXED_SEEDS;
const KILL_SEEDS = seedsFromEnv('FUZZ_KILL_SEEDS') ?? [7023];

function report(result: TrialResult): void {
  if (result.findings.length === 0) return;
  console.log(
    `seed ${result.seed} (${result.description.join('; ')}):\n${result.findings.map((f) => `  [${f.kind} cp${f.checkpoint}] ${f.detail}`).join('\n')}`,
  );
}

describe('opt-out ledger against an independent oracle and the emulator’s truth', () => {
  const results: TrialResult[] = [];

  it(`agrees on ${SEEDS.length} random histories`, async () => {
    for (const seed of SEEDS) {
      const result = await runTrial({ seed });
      results.push(result);
      report(result);
    }
    const failSafe: Record<string, number> = {};
    for (const r of results) {
      for (const [k, n] of Object.entries(r.failSafe)) failSafe[k] = (failSafe[k] ?? 0) + n;
    }
    console.log(
      `${results.length} trials, ${results.reduce((n, r) => n + r.snapshots, 0)} snapshots, ` +
        `${results.reduce((n, r) => n + r.truthPairs, 0)} pairs Twilio blocks at the end, ` +
        `${results.reduce((n, r) => n + r.invisible, 0)} invisible (STOP dropped, nothing after); ` +
        `fail-safe extras: ${JSON.stringify(failSafe)}`,
    );
    const failed = results.filter((r) => r.findings.length > 0).map((r) => r.seed);
    expect(failed, `failing seeds: ${failed.join(', ')} (rerun with FUZZ_SEEDS=<seed>)`).toEqual(
      [],
    );
  }, 600_000);

  it(`agrees after a snapshot killed (SIGKILL) mid-run and run again, ${KILL_SEEDS.length} histories (built CLI)`, async () => {
    const failed: number[] = [];
    for (const seed of KILL_SEEDS) {
      const result = await runKillTrial(seed);
      console.log(
        `kill seed ${seed}: ${result.description.join('; ')}; ${result.truthPairs} pairs Twilio blocks, ${result.ledgerRows} on the list; fail-safe ${JSON.stringify(result.failSafe)}`,
      );
      report(result);
      if (result.findings.length > 0) failed.push(seed);
    }
    expect(
      failed,
      `failing seeds: ${failed.join(', ')} (rerun with FUZZ_KILL_SEEDS=<seed>)`,
    ).toEqual([]);
  }, 600_000);
});
