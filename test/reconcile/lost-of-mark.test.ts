/**
 * What no pass can read again of a customer's "not judged again" mark once a pass has read the
 * rest with the list whole: the part older than the Messages API window, and each stay of a
 * number that has left the customer's subaccount since the mark (a later wave moved it on).
 */

import { describe, expect, it } from 'vitest';

import { lostOfMark } from '../../src/reconcile/marks.js';
import { indexStays } from '../../src/reconcile/stays.js';

const SUB = 'ACacme';
const NOW = new Date('2026-12-03T12:00:00Z');
const stay = (numberSid: string, accountSid: string, began: string, left: string | null) => ({
  numberSid,
  accountSid,
  began,
  left,
});
const where = (
  stays: ReturnType<typeof stay>[],
  current: [string, string][],
  readable = '2026-01-01T00:00:00Z',
) => ({
  subaccounts: new Set([SUB]),
  stays,
  current: new Map(current),
  readable: () => new Date(readable),
  now: NOW,
});

describe('lostOfMark', () => {
  it('nothing, when the whole mark is readable and every number is still there', () => {
    const stays = [stay('PN1', SUB, '2026-12-01T10:00:00Z', null)];
    expect(lostOfMark('acme', '2026-12-01T10:00:00Z', where(stays, [['PN1', SUB]]))).toEqual([]);
  });

  it('from the mark to what the Messages API shows now', () => {
    expect(lostOfMark('acme', '2025-10-01T00:00:00Z', where([], []))).toEqual([
      {
        customerId: 'acme',
        accountSid: SUB,
        start: '2025-10-01T00:00:00Z',
        end: '2026-01-01T00:00:00Z',
        reason: 'retention',
      },
    ]);
  });

  it('each stay there that ended after the mark, from the later of the two; none that ended before it, nor in another account', () => {
    const stays = [
      stay('PN1', SUB, '2026-12-01T10:00:00Z', '2026-12-01T11:00:00Z'),
      stay('PN2', SUB, '2026-12-01T10:00:00Z', '2026-12-02T09:00:00Z'),
      stay('PN3', SUB, '2026-12-02T10:00:00Z', null),
      stay('PN4', 'ACbeta', '2026-12-02T09:00:00Z', null),
    ];
    // PN3's stay has no later transfer, but the customer's subaccount is another now: until now.
    const current: [string, string][] = [
      ['PN3', 'ACother'],
      ['PN4', 'ACbeta'],
    ];
    expect(
      lostOfMark('acme', '2026-12-01T12:00:00Z', where(stays, current)).map((s) => [
        s.start,
        s.end,
        s.reason,
      ]),
    ).toEqual([
      ['2026-12-01T12:00:00Z', '2026-12-02T09:00:00Z', 'numbers-left'],
      ['2026-12-02T10:00:00Z', '2026-12-03T12:00:00Z', 'numbers-left'],
    ]);
  });

  it('the same spans, in the same order, from the stays indexed once by account as from the list', () => {
    const stays = [
      stay('PN1', 'ACbeta', '2026-12-01T09:00:00Z', '2026-12-01T11:00:00Z'),
      stay('PN2', SUB, '2026-12-01T10:00:00Z', '2026-12-02T09:00:00Z'),
      stay('PN1', SUB, '2026-12-01T11:00:00Z', '2026-12-02T08:00:00Z'),
      stay('PN3', 'ACbeta', '2026-12-02T10:00:00Z', null),
      stay('PN4', 'ACgamma', '2026-12-02T09:00:00Z', '2026-12-02T10:00:00Z'),
    ];
    const current: [string, string][] = [
      ['PN1', 'ACother'],
      ['PN2', 'ACother'],
      ['PN3', 'ACother'],
    ];
    const both = (given: Parameters<typeof lostOfMark>[2]['stays']) =>
      lostOfMark('acme', '2025-12-01T00:00:00Z', {
        ...where([], current),
        subaccounts: new Set(['ACbeta', SUB]),
        stays: given,
      });
    const fromList = both(stays);
    expect(fromList.map((s) => [s.accountSid, s.start, s.reason])).toEqual([
      ['ACbeta', '2025-12-01T00:00:00Z', 'retention'],
      [SUB, '2025-12-01T00:00:00Z', 'retention'],
      ['ACbeta', '2026-12-01T09:00:00Z', 'numbers-left'],
      [SUB, '2026-12-01T10:00:00Z', 'numbers-left'],
      [SUB, '2026-12-01T11:00:00Z', 'numbers-left'],
      ['ACbeta', '2026-12-02T10:00:00Z', 'numbers-left'],
    ]);
    expect(both(indexStays(stays))).toEqual(fromList);
  });
});
