/**
 * A customer's list is judged by the spans its own numbers were in each account: a span not
 * read counts against it when it begins before the last of its numbers left that account, or
 * at all while one of them is still there (its move failed, was not run or is not finished).
 */

import { describe, expect, it } from 'vitest';

import { KEYWORD_LISTS } from '../../src/optouts/keywords.js';
import { listHorizons, partialCustomers, type Coverage } from '../../src/optouts/export.js';

const PARENT = 'AC0000000000000000000000000000p001';
const SUB = 'AC0000000000000000000000000000s001';

/** The parent read up to 10:00, then not read from 10:00 to 11:00 (a later wave's moves). */
const coverage: Coverage = {
  windows: [
    {
      account_sid: PARENT,
      source: 'api',
      start: '2026-01-01T00:00:00Z',
      end: '2026-06-01T10:00:00Z',
    },
  ],
  not_read: [{ account_sid: PARENT, start: '2026-06-01T10:00:00Z', end: '2026-06-01T11:00:00Z' }],
  never_read: [],
  keyword_lists: KEYWORD_LISTS,
  snapshot_runs: [1],
  older_rules_runs: 0,
  ties_resolved_as_opt_out: 0,
  services_not_known: [],
  not_placed: [],
  undated_evidence: [],
};
const left = (numberSid: string, runId: number, accountSid: string, leftAt: string) => ({
  numberSid,
  runId,
  accountSid,
  leftAt,
});

describe('partialCustomers with each customer judged by its own numbers', () => {
  const stays = [
    // early: its one number left the parent at 09:00, before the span.
    { numberSid: 'PN1', customerId: 'early', accountSid: PARENT },
    // late: left at 10:30, in the span.
    { numberSid: 'PN2', customerId: 'late', accountSid: PARENT },
    // both: one number left at 09:00, the other at 10:30.
    { numberSid: 'PN3', customerId: 'both', accountSid: PARENT },
    { numberSid: 'PN4', customerId: 'both', accountSid: PARENT },
    // still: one number left at 09:00, the other never did (its move failed).
    { numberSid: 'PN5', customerId: 'still', accountSid: PARENT },
    { numberSid: 'PN6', customerId: 'still', accountSid: PARENT },
    // twice: its number left the parent at 09:00, then left a subaccount it was moved back out
    // of: only the parent's span concerns the parent.
    { numberSid: 'PN7', customerId: 'twice', accountSid: PARENT },
    { numberSid: 'PN7', customerId: 'twice', accountSid: SUB },
  ];
  const moves = [
    left('PN1', 1, PARENT, '2026-06-01T09:00:00.000Z'),
    left('PN2', 2, PARENT, '2026-06-01T10:30:00.000Z'),
    left('PN3', 1, PARENT, '2026-06-01T09:00:00.000Z'),
    left('PN4', 2, PARENT, '2026-06-01T10:30:00.000Z'),
    left('PN5', 1, PARENT, '2026-06-01T09:00:00.000Z'),
    left('PN7', 1, PARENT, '2026-06-01T09:00:00.000Z'),
    left('PN7', 2, SUB, '2026-06-01T10:30:00.000Z'),
  ];
  const sources = new Map([
    [PARENT, new Set(['early', 'late', 'both', 'still', 'twice'])],
    [SUB, new Set(['twice'])],
  ]);

  it('holds back only the lists whose numbers were in the account during the span', () => {
    const partial = partialCustomers(coverage, sources, new Map(), listHorizons(stays, moves));
    expect([...partial].sort()).toEqual(['both', 'late', 'still']);
  });

  it('judges a run by the moves up to it: a move in a later run is not yet one', () => {
    // As run 1's reports see it, PN2 and PN4 had not left: every span of the parent counts.
    const partial = partialCustomers(coverage, sources, new Map(), listHorizons(stays, moves, 1));
    expect([...partial].sort()).toEqual(['both', 'late', 'still']);
    expect(partial.has('early')).toBe(false);
  });

  it('without horizons, every span of an account counts, as before', () => {
    const partial = partialCustomers(coverage, sources);
    expect([...partial].sort()).toEqual(['both', 'early', 'late', 'still', 'twice']);
  });

  it('counts any span of the subaccount the customer was moved into', () => {
    const inSub: Coverage = {
      ...coverage,
      not_read: [{ account_sid: SUB, start: '2026-06-01T12:00:00Z', end: '2026-06-01T13:00:00Z' }],
    };
    const partial = partialCustomers(
      inSub,
      new Map([[PARENT, new Set(['early'])]]),
      new Map([[SUB, 'early']]),
      listHorizons(stays, moves),
    );
    expect([...partial]).toEqual(['early']);
  });
});

describe('a span that begins in the second a number left, or within the clock skew after it', () => {
  // The journal keeps the move to the second (10:00:00 is any time up to 10:00:00.999), by this
  // machine's clock, and a STOP's date_sent is Twilio's: a read that ended up to two minutes
  // after the move by our clock may have missed a STOP said just before it by Twilio's.
  const stays = [{ numberSid: 'PN1', customerId: 'edge', accountSid: PARENT }];
  const sources = new Map([[PARENT, new Set(['edge'])]]);
  const partialIfLeftAt = (leftAt: string) =>
    partialCustomers(
      coverage,
      sources,
      new Map(),
      listHorizons(stays, [left('PN1', 1, PARENT, leftAt)]),
    );

  it('counts against the list: the number may still have been there', () => {
    // The span begins at 10:00:00.
    expect([...partialIfLeftAt('2026-06-01T10:00:00Z')]).toEqual(['edge']);
    expect([...partialIfLeftAt('2026-06-01T09:59:59Z')]).toEqual(['edge']);
    // 10:00:00 is within 2 min 1 s of 09:58:00 (the second of the move, then the skew).
    expect([...partialIfLeftAt('2026-06-01T09:58:00Z')]).toEqual(['edge']);
  });

  it('a span from beyond the skew after the move on does not', () => {
    expect([...partialIfLeftAt('2026-06-01T09:57:59Z')]).toEqual([]);
  });
});
