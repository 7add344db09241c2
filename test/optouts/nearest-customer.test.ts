/**
 * `optouts --customer` typed a little off: the "did you mean" names the customer_id meant, and
 * never picks one of several equally near, whose list would then be exported and handed over
 * as the one asked for.
 */

import { describe, expect, it } from 'vitest';

import { nearestCustomer } from '../../src/optouts/export.js';

describe("optouts --customer's did-you-mean", () => {
  it('names the one id meant', () => {
    expect(nearestCustomer('Harbor-Yoga', ['harbor-yoga', 'falcon-flights'])).toBe(
      '; did you mean harbor-yoga?',
    );
    expect(nearestCustomer('falcon-flight', ['harbor-yoga', 'falcon-flights'])).toBe(
      '; did you mean falcon-flights?',
    );
    expect(nearestCustomer('nobody', ['harbor-yoga', 'falcon-flights'])).toBe('');
  });

  it('names every id equally near, not the first found', () => {
    expect(nearestCustomer('acme-3', ['acme-4', 'acme-2', 'globex'])).toBe(
      '; did you mean acme-2 or acme-4?',
    );
    // Two ids that differ only in case, typed in a third.
    expect(nearestCustomer('ACME', ['acme', 'Acme'])).toBe('; did you mean Acme or acme?');
    expect(nearestCustomer('shop-0', ['shop-1', 'shop-2', 'shop-3', 'shop-4', 'shop-5'])).toBe(
      '; did you mean shop-1, shop-2, shop-3 or 2 more as near?',
    );
  });
});
