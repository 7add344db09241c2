/**
 * Migration 028: each Messaging Service a listing saw a number in keeps the last listing that
 * saw it there, and when it left. A database of any earlier schema (001..027) holds the latest
 * listing of each account in `numbers`; one of schema 026 also the first listing that saw a
 * number in each service of an account (`number_services_seen`), and one of schema 027 also
 * the last listing that saw it in each account, with the service it was in then
 * (`number_accounts_seen`). The upgrade takes the last listing that saw the number in the
 * service from the latest one where it still shows it there, else from 027's row where its
 * service is the same, else the first; a number the account's latest listing no longer shows
 * there stayed until then and had left by that listing.
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

describe('migration 028: when a number was last seen in each service', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('fills from the numbers table, 026 services and 027 accounts on a database of every earlier schema', () => {
    const source = dir.file('today.db');
    // PN1 (+14155550401) in SERVICE and PN2 (+14155550402) in none, listed on 2 January.
    const today = todayWithListing(source, ACCOUNT, SERVICE);
    const service = today.prepare(
      `INSERT INTO number_services_seen (phone_number, account_sid, messaging_service_sid,
         first_seen, last_seen) VALUES (?, ?, ?, ?, ?)`,
    );
    // PN1 first seen in SERVICE on 20 December, still there; PN2 seen there on 1 December, out
    // of it on 2 January; PN1 seen in the other account's service from 1 November.
    service.run('+14155550401', ACCOUNT, SERVICE, '2024-12-20T00:00:00Z', '2025-01-02T00:00:00Z');
    service.run('+14155550402', ACCOUNT, SERVICE, '2024-12-01T00:00:00Z', '2024-12-01T00:00:00Z');
    service.run('+14155550401', OTHER, ELSEWHERE, '2024-11-01T00:00:00Z', '2024-12-10T00:00:00Z');
    const account = today.prepare(
      `INSERT INTO number_accounts_seen (number_sid, account_sid, phone_number,
         messaging_service_sid, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    account.run(
      PN1,
      ACCOUNT,
      '+14155550401',
      SERVICE,
      '2024-12-20T00:00:00Z',
      '2025-01-02T00:00:00Z',
    );
    account.run(PN2, ACCOUNT, '+14155550402', null, '2024-12-01T00:00:00Z', '2025-01-02T00:00:00Z');
    // Last listed in the other account on 10 December, in ELSEWHERE still.
    account.run(
      PN1,
      OTHER,
      '+14155550401',
      ELSEWHERE,
      '2024-11-01T00:00:00Z',
      '2024-12-10T00:00:00Z',
    );
    today.close();

    const upgraded = upgradedFrom(dir.file, source, 28, (db) =>
      db
        .prepare(
          `SELECT phone_number AS phone, account_sid AS account, messaging_service_sid AS service,
                  first_seen AS firstSeen, last_seen AS lastSeen, stayed_until AS stayedUntil,
                  left_seen AS leftSeen
           FROM number_services_seen ORDER BY phone_number, account_sid`,
        )
        .all(),
    );
    expect(upgraded).toHaveLength(27);
    const row = (
      phone: string,
      account: string,
      service: string,
      [firstSeen, lastSeen, stayedUntil, leftSeen]: (string | null)[],
    ) => ({ phone, account, service, firstSeen, lastSeen, stayedUntil, leftSeen });
    for (const [version, seen] of upgraded) {
      if (version < 26) {
        // Migration 026 kept the latest listing alone: PN1 in SERVICE, still there.
        expect(seen, `schema ${version}`).toEqual([
          row('+14155550401', ACCOUNT, SERVICE, [
            '2025-01-02T00:00:00Z',
            '2025-01-02T00:00:00Z',
            null,
            null,
          ]),
        ]);
        continue;
      }
      expect(seen, `schema ${version}`).toEqual([
        // Still in it at the account's latest listing: seen there last then, not left.
        row('+14155550401', ACCOUNT, SERVICE, [
          '2024-12-20T00:00:00Z',
          '2025-01-02T00:00:00Z',
          null,
          null,
        ]),
        // In the other account's service: schema 027 kept the last listing that saw it there
        // (in that service); 026 the first alone. It had left by the listing that saw it in
        // the account it is in now.
        row('+14155550401', OTHER, ELSEWHERE, [
          '2024-11-01T00:00:00Z',
          ...(version === 27
            ? ['2024-12-10T00:00:00Z', '2024-12-10T00:00:00Z']
            : ['2024-11-01T00:00:00Z', '2024-11-01T00:00:00Z']),
          '2025-01-02T00:00:00Z',
        ]),
        // Out of it at the account's latest listing: 027's row is of no service, so the first
        // listing is the last known to have seen it there; it had left by the latest.
        row('+14155550402', ACCOUNT, SERVICE, [
          '2024-12-01T00:00:00Z',
          '2024-12-01T00:00:00Z',
          '2024-12-01T00:00:00Z',
          '2025-01-02T00:00:00Z',
        ]),
      ]);
    }
  });
});
