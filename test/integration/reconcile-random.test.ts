/**
 * Randomized differential trials of `reconcile` (test/support/reconcile-fuzz.ts): for each seed
 * a random migration (number- and service-scope opt-outs, ties, refusals, with or without
 * `--carry-optouts`), random traffic in the subaccounts after the move, and reconcile passes
 * (plain, `--since`, cut short by faults; some after days beyond a short retention window),
 * each held against an independent oracle: the findings, pending sends, unread and
 * not-checked spans and `--fail-on-violation` after every pass, then the built CLI's exit
 * code, `--json` and violations.csv.
 *
 * Other seeds: `RECONCILE_FUZZ_SEEDS=1-200 npx vitest run test/integration/reconcile-random.test.ts`
 * (`RECONCILE_FUZZ_SEGMENTS=8` for more passes; `RECONCILE_FUZZ_DUMP=1` prints each trial's
 * history and what the tool and the oracle recorded). Runs the built CLI: `npm run build` first.
 */

import { describe, expect, it } from 'vitest';

import { runReconcileTrial, type ReconcileTrialResult } from '../support/reconcile-fuzz.js';
import { seedsFromEnv } from '../support/prng.js';

// 2002: a send left pending, then the span before it older than the window (fixed in
// reconcile: judged, not dropped).
// 3018, 3045, 3181: an opt-out said in the subaccount since the move, through the customer's
// new Messaging Service, holds its numbers' sends that did not go through it (the oracle
// learnt it from docs/opt-out-rules.md): a refusal of another number's send through the
// service (3018), a STOP to another number (3045), a STOP to the number itself and a refusal
// of its own (3181).
// 3444, 3528: two more of those rules the oracle learnt from it. A refusal through the service
// that follows a STOP said through it by the same person, no opt-in between, is that STOP's
// doing and holds from it (3444: the oracle held a send made before the STOP, after the person
// had opted in). The number's own refusal through the service is lifted only by an opt-in to
// the number, not by one said through the service to another of its numbers (3528: the oracle
// let go a refused send the tool counted blocked).
// 3757: a refusal-only violation whose violations.csv evidence_message_sid was the number's
// other refusal of that second, through the service it left (listViolations took the smaller
// SID of either scope), where the pair is the number's own (fixed: the refusal its pair stands
// from is named).
// One seed of 3401-3800 still disagrees, not unsafe: 3510, a refused send the tool counts
// blocked where the oracle does not (saidSinceMoved gives the numbers it groups the earliest of
// their last sightings in the service, and an opt-in said there to another number after that lifts
// nothing for any of them: the tool holds longer than docs/opt-out-rules.md says).
// Seeds 3801-4100 all agree (300 seeds, in chunks of 50), and so do 4101-4250 (150 seeds, in chunks
// of 30: 582 passes, 88 cut short, 721 violations, 455 blocked, 141 pending). Seeds 4251-4340
// agree too, after the day's reconcile changes (8cc885e-8cdc4fe; 90 seeds in chunks of 30: 366
// passes, 57 cut short, 444 violations, 273 blocked, 114 pending, 83 unread spans shown, 82 not
// checked, 74 read again, 6 held by a service's opt-out since the move), each chunk's counts the
// same as at eff3a6e, before them. Seeds 4341-4520 agree (180 seeds, in chunks of 30: 703
// passes, 107 cut short, 878 violations, 586 blocked, 173 pending, 123 unread spans shown, 135
// not checked, 111 read again, 12 held by a service's opt-out since the move).
const FIXED_SEEDS = [
  ...Array.from({ length: 8 }, (_, i) => 2000 + i),
  3018,
  3045,
  3181,
  3444,
  3528,
  3757,
];

const SEEDS = seedsFromEnv('RECONCILE_FUZZ_SEEDS') ?? FIXED_SEEDS;
const SEGMENTS = process.env['RECONCILE_FUZZ_SEGMENTS'];

describe('reconcile against an independent oracle', () => {
  it(`agrees on ${SEEDS.length} random migrations and the traffic after them`, async () => {
    const results: ReconcileTrialResult[] = [];
    for (const seed of SEEDS) {
      const result = await runReconcileTrial(
        seed,
        SEGMENTS === undefined ? {} : { segments: Number(SEGMENTS) },
      );
      results.push(result);
      if (result.findings.length > 0) {
        console.log(
          `seed ${seed} (${result.description.join('; ')}):\n${result.findings.map((f) => `  ${f}`).join('\n')}`,
        );
      }
    }
    const sum = (
      key:
        | 'passes'
        | 'faulted'
        | 'violations'
        | 'blocked'
        | 'pending'
        | 'unreadSpans'
        | 'notChecked'
        | 'readAgain'
        | 'heldByService',
    ) => results.reduce((n, r) => n + r[key], 0);
    console.log(
      `${results.length} trials: ${sum('passes')} passes (${sum('faulted')} cut short), ` +
        `${sum('violations')} violations, ${sum('blocked')} blocked, ${sum('pending')} pending, ` +
        `${sum('unreadSpans')} unread spans shown, ${sum('notChecked')} not checked, ` +
        `${sum('readAgain')} read again after a list not whole, ` +
        `${sum('heldByService')} held by a service's opt-out since the move`,
    );
    const failed = results.filter((r) => r.findings.length > 0).map((r) => r.seed);
    expect(
      failed,
      `failing seeds: ${failed.join(', ')} (rerun with RECONCILE_FUZZ_SEEDS=<seed>)`,
    ).toEqual([]);
    // The fixed trials must reach the cases they are for, or agreeing proves little. (Seeds
    // given through the environment, one alone among them, need not reach every case.)
    if (SEEDS === FIXED_SEEDS) {
      for (const key of [
        'violations',
        'blocked',
        'pending',
        'unreadSpans',
        'faulted',
        'notChecked',
        'readAgain',
        'heldByService',
      ] as const) {
        expect(sum(key), key).toBeGreaterThan(0);
      }
    }
  }, 600_000);
});
