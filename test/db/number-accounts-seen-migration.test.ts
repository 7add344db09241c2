/**
 * Migration 027: every account a listing saw a number in is kept for good. A database of any
 * earlier schema (001..026) holds the latest listing of each account in `numbers`, and one of
 * schema 026 also the first listing that saw a number in each service of an account
 * (`number_services_seen`), a replaced listing's among them. The upgrade keeps each number's
 * account from the first, first and last seen at its listing, and from the second each other
 * account its number was seen in, first and last seen at the first listing that saw it there.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { todayWithListing, upgradedFrom } from '../support/older-schema.js';
import { tempDir, type TempDir } from '../support/snapshot-harness.js';

const ACCOUNT = `AC${'a'.repeat(32)}`;
const OTHER = `AC${'c'.repeat(32)}`;
const SERVICE = `MG${'b'.repeat(32)}`;
const ELSEWHERE = `MG${'d'.repeat(32)}`;
const PN1 = `PN${'1'.repeat(32)}`;
const PN2 = `PN${'2'.repeat(32)}`;

describe('migration 027: the accounts listings saw each number in', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('fills from the numbers table (and 026 services) on a database of every earlier schema', () => {
    const source = dir.file('today.db');
    const today = todayWithListing(source, ACCOUNT, SERVICE);
    const insert = today.prepare(
      `INSERT INTO number_services_seen (phone_number, account_sid, messaging_service_sid,
         first_seen, last_seen) VALUES (?, ?, ?, ?, ?)`,
    );
    // (Schema 026 kept the first listing alone: the last is that one too.)
    const service = { run: (...row: string[]) => insert.run(...row, row[3]) };
    // The one 026 kept of the listing above, and one of a listing the other account's replaced.
    service.run('+14155550401', ACCOUNT, SERVICE, '2025-01-02T00:00:00Z');
    service.run('+14155550401', OTHER, ELSEWHERE, '2024-12-01T00:00:00Z');
    service.run('+14155550401', OTHER, SERVICE, '2024-12-05T00:00:00Z');
    today.close();

    const upgraded = upgradedFrom(dir.file, source, 27, (db) =>
      db.prepare('SELECT * FROM number_accounts_seen ORDER BY number_sid, account_sid').all(),
    );
    expect(upgraded).toHaveLength(26);
    const listed = (sid: string, phone: string, service: string | null) => ({
      number_sid: sid,
      account_sid: ACCOUNT,
      phone_number: phone,
      messaging_service_sid: service,
      first_seen: '2025-01-02T00:00:00Z',
      last_seen: '2025-01-02T00:00:00Z',
    });
    for (const [version, seen] of upgraded) {
      expect(seen, `schema ${version}`).toEqual([
        listed(PN1, '+14155550401', SERVICE),
        // Schema 026 kept the other account's listing: the first that saw it there counts.
        ...(version === 26
          ? [
              {
                number_sid: PN1,
                account_sid: OTHER,
                phone_number: '+14155550401',
                messaging_service_sid: ELSEWHERE,
                first_seen: '2024-12-01T00:00:00Z',
                last_seen: '2024-12-01T00:00:00Z',
              },
            ]
          : []),
        listed(PN2, '+14155550402', null),
      ]);
    }
  });
});
