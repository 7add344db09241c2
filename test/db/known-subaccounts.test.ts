/**
 * `knownSubaccounts`: every subaccount the database knows of (a customer's, or one a listing saw
 * a number in), which the number-updated check reads even once Twilio no longer lists it (real
 * SQLite file, migrated).
 */

import { afterEach, describe, expect, it } from 'vitest';

import { recordCustomerSubaccount } from '../../src/db/customers.js';
import { withDb } from '../../src/db/open.js';
import { knownSubaccounts } from '../../src/db/update-checks.js';
import { fixedClock, MIGRATIONS_DIR, tempDir, type TempDir } from '../support/snapshot-harness.js';

describe('knownSubaccounts', () => {
  let dir: TempDir | null = null;
  afterEach(() => {
    dir?.remove();
    dir = null;
  });

  it("takes the customers' subaccounts and the accounts a listing saw a number in, once each", async () => {
    dir = tempDir('submigrate-known-subaccounts-');
    await withDb(
      { path: dir.file('k.db'), migrationsDir: MIGRATIONS_DIR, clock: fixedClock(0) },
      (db) => {
        expect(knownSubaccounts(db)).toEqual([]);
        recordCustomerSubaccount(db, 'acme', 'ACacme', '2026-12-01T00:00:00Z');
        recordCustomerSubaccount(db, 'beta', 'ACbeta', '2026-12-01T00:00:00Z');
        const seen = db.prepare(
          `INSERT INTO number_accounts_seen
             (number_sid, account_sid, phone_number, messaging_service_sid, first_seen, last_seen)
           VALUES (?, ?, ?, NULL, '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')`,
        );
        seen.run('PN1', 'ACparent', '+14155550101');
        seen.run('PN1', 'ACacme', '+14155550101');
        seen.run('PN2', 'ACother', '+14155550102');
        expect(knownSubaccounts(db)).toEqual(['ACacme', 'ACbeta', 'ACother', 'ACparent']);
      },
    );
  });
});
