/**
 * Recording the mapping: 100,000 rows are written without a per-row foreign-key check when
 * every number's customer is in the same batch, and the check is on again afterwards; a
 * number whose customer is not in the batch is still checked (and refused).
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { listCustomerNumbers, listCustomers, recordMapping } from '../../src/db/customers.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const number = (i: number, customerId: string) => ({
  numberSid: `PN${String(i).padStart(32, '0')}`,
  phoneNumber: `+1415555${String(i).padStart(4, '0')}`,
  customerId,
  sourceAccountSid: `AC${'a'.repeat(32)}`,
  sourceServiceSid: null,
  atSource: true,
});

describe('recordMapping', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('records customers and numbers, and leaves foreign keys enforced', async () => {
    await withLedger(dir.file('c.db'), (db) => {
      recordMapping(
        db,
        'sha',
        '2026-01-01T00:00:00Z',
        [{ customerId: 'acme', customerName: 'Acme', messagingService: null }],
        [number(1, 'acme'), number(2, 'acme')],
      );
      expect(listCustomers(db).map((c) => c.customerId)).toEqual(['acme']);
      expect(listCustomerNumbers(db).map((n) => n.phoneNumber)).toEqual([
        '+14155550001',
        '+14155550002',
      ]);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    });
  });

  it('accepts a number whose customer an earlier mapping recorded, numbers given one by one', async () => {
    await withLedger(dir.file('c.db'), (db) => {
      const acme = { customerId: 'acme', customerName: 'Acme', messagingService: null };
      recordMapping(db, 'sha', '2026-01-01T00:00:00Z', [acme], [number(1, 'acme')]);
      function* later() {
        yield number(2, 'acme');
      }
      recordMapping(db, 'sha2', '2026-01-02T00:00:00Z', [], later());
      expect(listCustomerNumbers(db).map((n) => n.customerId)).toEqual(['acme', 'acme']);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    });
  });

  it('still refuses a number whose customer is nowhere, and writes nothing', async () => {
    await withLedger(dir.file('c.db'), (db) => {
      expect(() =>
        recordMapping(
          db,
          'sha',
          '2026-01-01T00:00:00Z',
          [{ customerId: 'acme', customerName: 'Acme', messagingService: null }],
          [number(1, 'acme'), number(2, 'nobody')],
        ),
      ).toThrow(/FOREIGN KEY/);
      expect(listCustomers(db)).toEqual([]);
      expect(listCustomerNumbers(db)).toEqual([]);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    });
  });
});
