/**
 * awayFromSource: a mapped number whose transfer failed or was not run is away wherever a pass
 * lists it but in the account it comes from (its own subaccount included: no transfer put it
 * there), from when the run that was to move it began.
 */

import { describe, expect, it } from 'vitest';

import type { MovedNumber } from '../../src/db/reconcile.js';
import { awayFromSource } from '../../src/reconcile/away-search.js';
import { ACME, BETA, N, PARENT } from '../support/one-moved-number.js';

const SID = 'PN' + '1'.repeat(32);
const NOW = new Date('2026-11-03T12:00:00.400Z');

const notMoved = (sourceAccountSid: string): MovedNumber => ({
  numberSid: SID,
  phoneNumber: N,
  customerId: 'acme',
  subaccountSid: ACME,
  sourceAccountSid,
  sourceServiceSid: null,
  movedAt: '2026-11-01T10:00:00Z',
  moveBegan: '2026-11-01T10:00:00Z',
  subaccountCreatedAt: null,
});

const listed = [{ sid: SID, phoneNumber: N }];

describe('awayFromSource', () => {
  it('names nothing where the number still is in the account it comes from', () => {
    expect(awayFromSource([notMoved(PARENT)], listed, PARENT, NOW)).toEqual([]);
    expect(awayFromSource([notMoved(BETA)], listed, BETA, NOW)).toEqual([]);
  });

  it('names another account, its own subaccount included, from the run to now', () => {
    for (const where of [BETA, ACME]) {
      expect(awayFromSource([notMoved(PARENT)], listed, where, NOW)).toEqual([
        {
          numberSid: SID,
          phoneNumber: N,
          customerId: 'acme',
          subaccountSid: ACME,
          accountSid: where,
          start: '2026-11-01T10:00:00Z',
          end: '2026-11-03T12:00:00Z',
        },
      ]);
    }
    // Back in the parent, from a subaccount it was planned out of.
    expect(awayFromSource([notMoved(BETA)], listed, PARENT, NOW)).toHaveLength(1);
  });

  it('finds it by SID or by phone number, and names nothing where it is not listed', () => {
    expect(
      awayFromSource([notMoved(PARENT)], [{ sid: SID, phoneNumber: '+1' }], BETA, NOW),
    ).toHaveLength(1);
    expect(
      awayFromSource([notMoved(PARENT)], [{ sid: 'PNx', phoneNumber: N }], BETA, NOW),
    ).toHaveLength(1);
    expect(awayFromSource([notMoved(PARENT)], [], BETA, NOW)).toEqual([]);
  });
});
