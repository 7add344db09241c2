/**
 * Migration 035: `transfer_failed_reads` keeps the family read a pass vouched for of a number
 * whose transfer failed, judged where it was found. A database of schema 034 keeps its
 * `number-updated` checks as they were, and the two are kept apart: neither overwrites the
 * other, even under the same number, subaccount and dates.
 */

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { migrate, readMigrations } from '../../src/db/migrate.js';
import {
  numberUpdateChecks,
  recordNumberUpdateChecks,
  recordTransferFailedReads,
  transferFailedReads,
} from '../../src/db/update-checks.js';
import { MIGRATIONS_DIR, tempDir, type TempDir } from '../support/snapshot-harness.js';

const CLOCK = { now: () => new Date('2026-01-01T00:00:00Z') };

describe('migration 035: the family read of a number whose transfer failed kept', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it("keeps schema 034's number-updated checks, and a vouched read apart from them", () => {
    const path = dir.file('034.db');
    const all = readMigrations(MIGRATIONS_DIR);
    const db = new Database(path);
    try {
      migrate(db, all.slice(0, 34), path, CLOCK);
      expect(() => transferFailedReads(db)).toThrow(/no such table/);
      db.prepare(
        `INSERT INTO number_update_checks
           (number_sid, subaccount_sid, span_start, date_updated, outcome, accounts_read,
            requests, found_account_sid, found_message_sid, found_sent_at, checked_at)
         VALUES ('PN1', 'ACacme', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 'unvouched',
                 2, 4, NULL, NULL, NULL, '2026-01-03T00:00:00Z')`,
      ).run();
      migrate(db, all, path, CLOCK);
      const updated = {
        numberSid: 'PN1',
        subaccountSid: 'ACacme',
        spanStart: '2026-01-01T00:00:00Z',
        dateUpdated: '2026-01-02T00:00:00Z',
        outcome: 'unvouched',
        accountsRead: 2,
        requests: 4,
        found: null,
        checkedAt: '2026-01-03T00:00:00Z',
      } as const;
      expect(numberUpdateChecks(db)).toEqual([updated]);
      expect(transferFailedReads(db)).toEqual([]);

      // PN2, refused out of the parent, found in ACother: read up to 4 January, then on to 7.
      const read = {
        numberSid: 'PN2',
        accountSid: 'ACother',
        runBegan: '2026-01-01T00:00:00Z',
        dateUpdated: '2026-01-01T00:00:05Z',
        refusedAt: '2026-01-01T00:00:06Z',
        readUpTo: '2026-01-04T00:00:00Z',
        accountsRead: 3,
        requests: 18,
      };
      recordTransferFailedReads(db, [read]);
      recordTransferFailedReads(db, [{ ...read, readUpTo: '2026-01-07T00:00:00Z', requests: 6 }]);
      const movedOn = { ...read, readUpTo: '2026-01-07T00:00:00Z', requests: 6 };
      expect(transferFailedReads(db)).toEqual([movedOn]);
      // Another refusal of the same number there is another reading, kept beside it.
      const again = { ...read, refusedAt: '2026-01-01T00:00:09Z' };
      recordTransferFailedReads(db, [again]);
      expect(transferFailedReads(db)).toEqual([movedOn, again]);

      // A number-updated check of the same number, subaccount and dates leaves it as it was.
      recordNumberUpdateChecks(db, [
        {
          ...updated,
          numberSid: 'PN2',
          subaccountSid: 'ACother',
          spanStart: read.runBegan,
          dateUpdated: read.dateUpdated,
          outcome: 'found',
          found: { accountSid: 'ACx', messageSid: 'SM1', sentAt: '2026-01-01T00:00:01Z' },
        },
      ]);
      expect(transferFailedReads(db)).toEqual([movedOn, again]);
      expect(numberUpdateChecks(db).map((c) => [c.numberSid, c.outcome])).toEqual([
        ['PN2', 'found'],
        ['PN1', 'unvouched'],
      ]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });
});
