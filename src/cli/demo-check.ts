import type { DemoResult } from '../demo/run-demo.js';

/** The demo checks itself: every outcome it shows must have happened. Each that did not, named. */
export function demoCheckProblems(result: DemoResult): string[] {
  return [
    result.matchingPairs !== result.optedOutPairs && 'the ledger does not match the emulator',
    result.onlyExport === 0 && 'Bulk Export revealed no opt-out older than 400 days',
    result.refused === 0 && 'no campaign text was refused',
    result.violations === 0 && 'reconcile found no violation',
    !result.webhookKept && 'the webhook changed',
  ].filter((p): p is string => typeof p === 'string');
}
