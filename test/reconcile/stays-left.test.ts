/**
 * The spans moved numbers spent in subaccounts that hold none of them now: the subaccounts no
 * reconcile pass reads again, whose unread spans it names `not checked`.
 */

import { describe, expect, it } from 'vitest';

import { staysInLeftSubaccounts } from '../../src/reconcile/run-reconcile.js';

const at = (iso: string) => new Date(iso);
const NOW = at('2026-12-03T12:00:00Z');
const stay = (numberSid: string, accountSid: string, began: string, left: string | null) => ({
  numberSid,
  accountSid,
  began,
  left,
});

describe('staysInLeftSubaccounts', () => {
  it('leaves out a subaccount that still holds a moved number', () => {
    const stays = [stay('PN1', 'ACheld', '2026-12-01T10:00:00Z', null)];
    expect(staysInLeftSubaccounts(stays, new Map([['ACheld', []]]), NOW)).toEqual(new Map());
  });

  it('from the first number moving in until the last one left, merged', () => {
    const stays = [
      stay('PN1', 'AClef', '2026-12-01T10:00:00Z', '2026-12-01T12:00:00Z'),
      stay('PN2', 'AClef', '2026-12-01T11:00:00Z', '2026-12-02T09:00:00Z'),
      stay('PN3', 'AClef', '2026-12-02T20:00:00Z', '2026-12-02T21:00:00Z'),
    ];
    expect(staysInLeftSubaccounts(stays, new Map(), NOW)).toEqual(
      new Map([
        [
          'AClef',
          [
            { start: at('2026-12-01T10:00:00Z'), end: at('2026-12-02T09:00:00Z') },
            { start: at('2026-12-02T20:00:00Z'), end: at('2026-12-02T21:00:00Z') },
          ],
        ],
      ]),
    );
  });

  it('a stay no later transfer ended (the customer’s subaccount is another now) lasts until now', () => {
    const stays = [stay('PN1', 'ACold', '2026-12-01T10:00:00Z', null)];
    expect(staysInLeftSubaccounts(stays, new Map([['ACnew', []]]), NOW)).toEqual(
      new Map([['ACold', [{ start: at('2026-12-01T10:00:00Z'), end: NOW }]]]),
    );
  });
});
