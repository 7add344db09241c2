/**
 * The moved numbers a send from no phone number (an RCS agent, a short code, a sender ID) or
 * with no sender is held to the lists of: those an apply put in the service it went through,
 * else every moved number of its subaccount. A pass may hold every agent send of a large
 * history: the numbers are walked once, not once per send.
 */

import { describe, expect, it } from 'vitest';

import type { MovedNumber } from '../../src/db/reconcile.js';
import { sendersIn } from '../../src/reconcile/senders.js';

/** A moved number that counts how often its subaccount is looked at. */
function number(numberSid: string, subaccountSid: string, reads: { n: number }): MovedNumber {
  const fields = {
    numberSid,
    phoneNumber: `+1415555${numberSid.slice(2).padStart(4, '0')}`,
    customerId: `c-${subaccountSid}`,
    sourceAccountSid: 'ACparent',
    sourceServiceSid: null,
    movedAt: '2026-12-01T10:00:00Z',
    moveBegan: '2026-12-01T10:00:00Z',
    subaccountCreatedAt: null,
  };
  return Object.defineProperty(fields, 'subaccountSid', {
    enumerable: true,
    get: () => {
      reads.n += 1;
      return subaccountSid;
    },
  }) as MovedNumber;
}

describe('sendersIn', () => {
  const reads = { n: 0 };
  // Two subaccounts: AC1 with PN1 and PN2 in MG1, PN3 in no service; AC2 with PN4.
  const moved = [
    number('PN1', 'AC1', reads),
    number('PN2', 'AC1', reads),
    number('PN3', 'AC1', reads),
    number('PN4', 'AC2', reads),
  ];
  const attached = new Map([
    ['PN1', 'MG1'],
    ['PN2', 'MG1'],
    ['PN4', 'MG2'],
  ]);
  const sids = (numbers: readonly MovedNumber[]) => numbers.map((n) => n.numberSid);

  it('takes the numbers an apply put in the service, else every moved number of the subaccount', () => {
    const sendersOf = sendersIn(moved, attached);
    expect(sids(sendersOf({ accountSid: 'AC1', messagingServiceSid: 'MG1' }))).toEqual([
      'PN1',
      'PN2',
    ]);
    // A service the customer made since, none, or another subaccount's: the whole subaccount.
    for (const service of ['MGnew', null, 'MG2']) {
      expect(sids(sendersOf({ accountSid: 'AC1', messagingServiceSid: service }))).toEqual([
        'PN1',
        'PN2',
        'PN3',
      ]);
    }
    expect(sids(sendersOf({ accountSid: 'AC2', messagingServiceSid: null }))).toEqual(['PN4']);
    expect(sendersOf({ accountSid: 'AC3', messagingServiceSid: 'MG1' })).toEqual([]);
  });

  it('walks the moved numbers once, not once for each send', () => {
    reads.n = 0;
    const sendersOf = sendersIn(moved, attached);
    for (let i = 0; i < 1_000; i += 1) {
      sendersOf({ accountSid: i % 2 === 0 ? 'AC1' : 'AC2', messagingServiceSid: 'MG1' });
    }
    // Once each to group them by subaccount (a per-send walk reads them 4,000 times).
    expect(reads.n).toBe(moved.length);
  });
});
