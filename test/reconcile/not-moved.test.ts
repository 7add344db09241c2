/**
 * vouchedThere: a number whose transfer failed, found in an account the passes read, is judged
 * there rather than named only when the passes prove it: read there since the run began by
 * passes begun after the refusal, not changed there since, its list whole.
 */

import { describe, expect, it } from 'vitest';

import { notMovedIn, notMovedSenders, vouchedThere } from '../../src/reconcile/not-moved.js';
import type { MovedNumber } from '../../src/db/reconcile.js';

const at = (iso: string) => new Date(iso);
const BEGAN = '2026-11-01T10:00:00Z';
const REFUSED = '2026-11-01T10:00:30Z';
const NOW = at('2026-11-02T10:00:00Z');
const number = { moveBegan: BEGAN };
const proof = {
  refusedAt: REFUSED as string | null,
  listWhole: true,
  sourceReadUpTo: Date.parse('2026-11-01T10:01:00Z'),
  read: [{ start: at('2026-11-01T09:50:00Z'), end: NOW }],
  now: NOW,
};
const span = { changedAt: '2026-11-01T10:00:29Z' };

describe('vouchedThere', () => {
  it('judges a number read there since the run began, not changed since, its list whole', () => {
    expect(vouchedThere(span, number, proof)).toBe(true);
    // Changed within the clocks' allowance of the refusal: the move that made Twilio refuse it.
    expect(vouchedThere({ changedAt: '2026-11-01T10:02:30Z' }, number, proof)).toBe(true);
  });

  it('names it when anything is not proven', () => {
    // A transfer that was not run dates nothing.
    expect(vouchedThere(span, number, { ...proof, refusedAt: null })).toBe(false);
    expect(vouchedThere(span, number, { ...proof, listWhole: false })).toBe(false);
    // The account it comes from not read up to the refusal.
    const early = Date.parse('2026-11-01T10:00:29Z');
    expect(vouchedThere(span, number, { ...proof, sourceReadUpTo: early })).toBe(false);
    // Changed there since (moved again, or edited), or no date to tell.
    expect(vouchedThere({ changedAt: '2026-11-01T10:02:31Z' }, number, proof)).toBe(false);
    expect(vouchedThere({}, number, proof)).toBe(false);
    // Not read there from the run's start (a --since pass), or read only by a pass begun before
    // the refusal (which held none of its sends to a list).
    const late = [{ start: at('2026-11-01T10:00:01Z'), end: NOW }];
    expect(vouchedThere(span, number, { ...proof, read: late })).toBe(false);
    const before = [
      { start: at('2026-11-01T09:00:00Z'), end: at('2026-11-01T10:00:30Z') },
      { start: at('2026-11-01T10:00:30Z'), end: NOW },
    ];
    expect(vouchedThere(span, number, { ...proof, read: before })).toBe(false);
    expect(vouchedThere(span, number, { ...proof, read: [] })).toBe(false);
  });
});

describe('notMovedIn and notMovedSenders', () => {
  const m: MovedNumber = {
    numberSid: 'PN1',
    phoneNumber: '+14155550801',
    customerId: 'acme',
    subaccountSid: 'ACacme',
    sourceAccountSid: 'ACparent',
    sourceServiceSid: null,
    movedAt: BEGAN,
    moveBegan: BEGAN,
    subaccountCreatedAt: null,
  };
  const away = (accountSid: string, numberSid = 'PN1') => ({
    numberSid,
    phoneNumber: m.phoneNumber,
    customerId: 'acme',
    subaccountSid: 'ACacme',
    accountSid,
    start: BEGAN,
    end: '2026-11-02T10:00:00Z',
  });

  it('gives the read accounts a failed transfer number was found in, with when it may have come', () => {
    const found = notMovedIn(
      [away('ACother'), away('ACnone'), away('ACother', 'PN2')],
      [m],
      new Set(['ACother']),
    );
    expect([...found]).toEqual([['ACother', [{ moveBegan: BEGAN }]]]);
  });

  it('holds its sends to its list as it stands at the pass', () => {
    expect(notMovedSenders([m], NOW)).toEqual([{ ...m, movedAt: '2026-11-02T10:00:00Z' }]);
  });
});
