/**
 * One number moved out of the parent into Acme's subaccount at 10:00 on 2026-11-01, as the
 * reconcile tests that read a real ledger (said-elsewhere-*) tell it: the accounts, the number,
 * a recipient, and the `MovedNumber` reconcile holds to Acme.
 */

import type { Db } from '../../src/db/open.js';
import type { MovedNumber } from '../../src/db/reconcile.js';
import { createRun, finishRun } from '../../src/db/snapshot-runs.js';

export const PARENT = 'AC' + '0'.repeat(32);
export const ACME = 'AC' + '1'.repeat(32);
export const BETA = 'AC' + '2'.repeat(32);
export const N = '+14155550100';
export const R = '+12065550001';
export const MOVE_BEGAN = '2026-11-01T10:00:00Z';

export const moved: MovedNumber[] = [
  {
    numberSid: 'PN' + '1'.repeat(32),
    phoneNumber: N,
    customerId: 'acme',
    subaccountSid: ACME,
    sourceAccountSid: PARENT,
    sourceServiceSid: null,
    movedAt: '2026-11-01T10:00:01Z',
    moveBegan: MOVE_BEGAN,
    subaccountCreatedAt: null,
  },
];

/**
 * A reconcile pass that read `accounts` from `from` to `to` (ISO 8601 UTC) and completed a
 * second later; its run's id, for the events it holds.
 */
export function completedPass(
  db: Db,
  accounts: readonly string[],
  from: string,
  to: string,
): number {
  const run = createRun(
    db,
    {
      parentAccountSid: PARENT,
      startedAt: to,
      pid: 1,
      hostname: 'test',
      partitions: 1,
      keywordsJson: '{}',
      explicitWindow: false,
      madeBy: 'reconcile',
    },
    accounts.map((accountSid) => ({ accountSid, windowStart: from, windowEnd: to })),
    [],
  );
  finishRun(
    db,
    run,
    'completed',
    new Date(Date.parse(to) + 1000).toISOString().replace('.000Z', 'Z'),
  );
  return run;
}
