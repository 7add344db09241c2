/**
 * The spans in which a moved number was in a subaccount it has left since that no reconcile
 * pass read while it was there: a pass after it left holds its sends there to no list, so
 * reconcile names them `not checked`.
 */

import { describe, expect, it } from 'vitest';

import type { TimeRange } from '../../src/optouts/windows.js';
import { unjudgedStays } from '../../src/reconcile/stays.js';

const at = (iso: string) => new Date(iso);
const NOW = at('2026-12-03T12:00:00Z');
const stay = (numberSid: string, accountSid: string, began: string, left: string | null) => ({
  numberSid,
  accountSid,
  began,
  left,
});
const range = (start: string, end: string): TimeRange => ({ start: at(start), end: at(end) });
const noPass = () => [];

describe('unjudgedStays', () => {
  it('leaves out a number where it is now', () => {
    const stays = [stay('PN1', 'ACnow', '2026-12-01T10:00:00Z', null)];
    expect(unjudgedStays(stays, new Map([['PN1', 'ACnow']]), noPass, NOW)).toEqual(new Map());
  });

  it('from each number moving in until it left, merged, less what passes read before it left', () => {
    const stays = [
      stay('PN1', 'ACold', '2026-12-01T10:00:00Z', '2026-12-01T12:00:00Z'),
      stay('PN2', 'ACold', '2026-12-01T11:00:00Z', '2026-12-02T09:00:00Z'),
      stay('PN3', 'ACold', '2026-12-02T20:00:00Z', '2026-12-02T21:00:00Z'),
    ];
    // A pass read 10:30 to 11:30 (before PN1 and PN2 left: it judged both) and one read on to
    // 20:30 (after they left: it judged only PN3's sends, until then).
    const read = () => [
      range('2026-12-01T10:30:00Z', '2026-12-01T11:30:00Z'),
      range('2026-12-01T11:30:00Z', '2026-12-02T20:30:00Z'),
    ];
    expect(unjudgedStays(stays, new Map(), read, NOW)).toEqual(
      new Map([
        [
          'ACold',
          [
            range('2026-12-01T10:00:00Z', '2026-12-01T10:30:00Z'),
            range('2026-12-01T11:30:00Z', '2026-12-02T09:00:00Z'),
            range('2026-12-02T20:30:00Z', '2026-12-02T21:00:00Z'),
          ],
        ],
      ]),
    );
  });

  it('a stay no later transfer ended (its customer’s subaccount is another now) lasts until now', () => {
    const stays = [stay('PN1', 'ACold', '2026-12-01T10:00:00Z', null)];
    expect(unjudgedStays(stays, new Map([['PN1', 'ACnew']]), noPass, NOW)).toEqual(
      new Map([['ACold', [range('2026-12-01T10:00:00Z', NOW.toISOString())]]]),
    );
  });

  it('a stay no later transfer ended that a plan has seen the number out of since ends then (and the clocks’ allowance), not at now', () => {
    const stays = [
      {
        ...stay('PN1', 'ACold', '2026-12-01T10:00:00Z', null),
        seenWhereHeld: '2026-12-02T08:00:00Z',
      },
      {
        ...stay('PN2', 'ACold', '2026-12-01T10:00:00Z', null),
        seenWhereHeld: '2026-12-03T11:59:00Z',
      },
    ];
    const elsewhere = new Map([
      ['PN1', 'ACnew'],
      ['PN2', 'ACnew'],
    ]);
    expect(unjudgedStays(stays.slice(0, 1), elsewhere, noPass, NOW)).toEqual(
      new Map([['ACold', [range('2026-12-01T10:00:00Z', '2026-12-02T08:02:00Z')]]]),
    );
    // A pass within the allowance of that plan: until it.
    expect(unjudgedStays(stays.slice(1), elsewhere, noPass, NOW)).toEqual(
      new Map([['ACold', [range('2026-12-01T10:00:00Z', NOW.toISOString())]]]),
    );
  });

  it('does not count a window that ended in the second the number left: its pass may have come after', () => {
    // The transfer out finished at 12:00:00.3 and a pass began at 12:00:00.7 (both said
    // 12:00:00): that pass held none of PN1's sends in ACold to its list. Only the window
    // that ended before it left counts.
    const stays = [stay('PN1', 'ACold', '2026-12-01T10:00:00Z', '2026-12-01T12:00:00Z')];
    const read = () => [
      range('2026-12-01T09:00:00Z', '2026-12-01T11:00:00Z'),
      range('2026-12-01T10:50:00Z', '2026-12-01T12:00:00Z'),
    ];
    expect(unjudgedStays(stays, new Map(), read, NOW)).toEqual(
      new Map([['ACold', [range('2026-12-01T11:00:00Z', '2026-12-01T12:00:00Z')]]]),
    );
  });
});
