/**
 * The spans of a "not judged again" mark that no pass can read again are kept for good
 * (migration 023) and named by every later pass: two numbers of a customer's subaccount that
 * left it at different times after the mark make two spans with the same start, and the one
 * that ends later must be kept whole, not dropped as a duplicate of the other.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { markJudgedNotWhole, neverJudgedWhole } from '../../src/db/reconcile.js';
import { lostOfMark } from '../../src/reconcile/marks.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const SUB = 'ACacme';
const NOW = new Date('2026-12-03T12:00:00Z');
const MARK = '2026-12-01T12:00:00Z';

describe('reconcile_never_judged_whole', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it.each([
    ['the earlier leaver first', ['PN1', 'PN2']],
    ['the later leaver first', ['PN2', 'PN1']],
  ])(
    'keeps the whole span of two numbers that left at different times, from the same start (%s)',
    async (_, order) => {
      // Both were in the subaccount before the mark; PN1 left a day before PN2.
      const leftAt: Record<string, string> = {
        PN1: '2026-12-02T09:00:00Z',
        PN2: '2026-12-03T09:00:00Z',
      };
      const stays = order.map((numberSid) => ({
        numberSid,
        accountSid: SUB,
        began: '2026-11-30T10:00:00Z',
        left: leftAt[numberSid]!,
      }));
      const lost = lostOfMark('acme', MARK, {
        subaccounts: new Set([SUB]),
        stays,
        current: new Map([
          ['PN1', 'ACbeta'],
          ['PN2', 'ACbeta'],
        ]),
        readable: () => new Date('2026-01-01T00:00:00Z'),
        now: NOW,
      });
      await withLedger(dir.file('n.db'), (db) => {
        markJudgedNotWhole(db, new Map([['acme', MARK]]), []);
        markJudgedNotWhole(db, new Map(), ['acme'], lost);
        const kept = neverJudgedWhole(db);
        // Every moment of what was lost is still named: up to when the later one left.
        const lastEnd = kept
          .filter((s) => s.accountSid === SUB && s.start <= MARK)
          .reduce((end, s) => (s.end > end ? s.end : end), '');
        expect(lastEnd).toBe('2026-12-03T09:00:00Z');
      });
    },
  );
});
