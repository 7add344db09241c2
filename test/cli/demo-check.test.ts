/** The demo's own check: each outcome it shows that did not happen is named, in order. */

import { describe, expect, it } from 'vitest';

import { demoCheckProblems } from '../../src/cli/demo-check.js';
import type { DemoResult } from '../../src/demo/run-demo.js';

const passed = {
  matchingPairs: 10,
  optedOutPairs: 10,
  onlyExport: 2,
  refused: 1,
  violations: 1,
  webhookKept: true,
} as DemoResult;

describe('demoCheckProblems', () => {
  it('none when every outcome happened', () => {
    expect(demoCheckProblems(passed)).toEqual([]);
  });

  it('each missing outcome named', () => {
    expect(
      demoCheckProblems({ ...passed, matchingPairs: 9, refused: 0, webhookKept: false }),
    ).toEqual([
      'the ledger does not match the emulator',
      'no campaign text was refused',
      'the webhook changed',
    ]);
  });
});
