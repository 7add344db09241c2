/**
 * One number moved out of the parent into Acme's subaccount at 10:00 on 2026-11-01, as the
 * reconcile tests that read a real ledger (said-elsewhere-*) tell it: the accounts, the number,
 * a recipient, and the `MovedNumber` reconcile holds to Acme.
 */

import type { MovedNumber } from '../../src/db/reconcile.js';

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
