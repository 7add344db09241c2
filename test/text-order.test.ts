/**
 * compareText puts text in SQLite's ORDER BY order (code points), which the suppression list
 * says it follows: comparing UTF-16 code units put an emoji (two surrogates) before full-width
 * letters and U+E000–U+FFFF, where SQLite puts it after; and a customer id with an emoji went
 * after the rows with no customer, which the list puts last.
 */

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import type { OptOutExportRow } from '../src/optouts/export.js';
import { compareText } from '../src/text-order.js';
import { optOutRowOrder } from './support/list-order.js';

const TEXTS = [
  'abel',
  'Zeta',
  'aage',
  'zoe',
  'ab',
  '',
  'é',
  'Ａcme',
  '\ue000private',
  '\uffff',
  '😀 Pizza',
  '𝐒TOP',
  'İstanbul',
  'ıı',
  '\ud7ff',
];

describe('compareText', () => {
  it('orders as SQLite ORDER BY does', () => {
    const db = new Database(':memory:');
    const bySqlite = (
      db.prepare('SELECT value FROM json_each(?) ORDER BY value').all(JSON.stringify(TEXTS)) as {
        value: string;
      }[]
    ).map((row) => row.value);
    db.close();
    expect([...TEXTS].sort(compareText)).toEqual(bySqlite);
  });

  it('is 0 for the same text only', () => {
    expect(compareText('😀', '😀')).toBe(0);
    expect(compareText('a', 'ab')).toBeLessThan(0);
    expect(compareText('ab', 'a')).toBeGreaterThan(0);
  });
});

describe("the suppression list's order", () => {
  const row = (customer: string | null, recipient: string) =>
    ({ customer_id: customer, recipient, evidence_message_sid: 'SM1' }) as OptOutExportRow;

  it('puts the rows with no customer last, whatever the customer ids hold', () => {
    const rows = [row(null, '+1'), row('😀 Pizza', '+2'), row('\uffff', '+3'), row('acme', '+4')];
    expect(rows.sort(optOutRowOrder).map((r) => r.customer_id)).toEqual([
      'acme',
      '\uffff',
      '😀 Pizza',
      null,
    ]);
  });
});
