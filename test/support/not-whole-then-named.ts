/**
 * The story's end the reconcile tests of a source account read only part of the way share:
 * the first pass cannot judge the send (the customer's list not whole, exit 3), and once a
 * snapshot reads the source account up to now, the next pass names it.
 */

import { expect } from 'vitest';

import type { CliResult } from './snapshot-harness.js';

interface PassJson {
  newViolations: number;
  notWhole: { customerIds: string[] } | null;
}

/**
 * `reconcile --fail-on-violation` holds `customer`'s list not whole (no violation named, exit
 * 3); `snapshot --account source` reads the rest; the next pass names one violation, whole.
 */
export async function expectNotWholeThenNamed(
  cli: (args: string[]) => Promise<CliResult>,
  db: string,
  source: string,
  customer: string,
): Promise<void> {
  const first = await cli(['reconcile', '--fail-on-violation', '--json', '--db', db]);
  expect(first.code, first.stdout + first.stderr).toBe(3);
  const result = JSON.parse(first.stdout) as PassJson;
  expect(result.newViolations).toBe(0);
  expect(result.notWhole?.customerIds).toEqual([customer]);

  // Read up to now, the STOP is on the number's list, and the next pass names the send.
  expect((await cli(['snapshot', '--db', db, '--account', source])).code).toBe(0);
  const second = await cli(['reconcile', '--fail-on-violation', '--json', '--db', db]);
  expect(second.code, second.stderr).toBe(3);
  const named = JSON.parse(second.stdout) as PassJson;
  expect(named.newViolations).toBe(1);
  expect(named.notWhole).toBeNull();
}
