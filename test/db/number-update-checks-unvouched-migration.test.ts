/**
 * Migration 032: `number_update_checks` takes `unvouched` (a span a pass could not vouch for
 * without a message found, kept so that later passes name it). A database of schema 031 keeps
 * its checks as they were, and then takes an unvouched one.
 */

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { migrate, readMigrations } from '../../src/db/migrate.js';
import { numberUpdateChecks, recordNumberUpdateChecks } from '../../src/db/update-checks.js';
import { MIGRATIONS_DIR, tempDir, type TempDir } from '../support/snapshot-harness.js';

const CLOCK = { now: () => new Date('2026-01-01T00:00:00Z') };

describe('migration 032: number-updated spans not vouched for kept', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('keeps the checks of schema 031, and takes an unvouched one', () => {
    const path = dir.file('031.db');
    const all = readMigrations(MIGRATIONS_DIR);
    const db = new Database(path);
    try {
      migrate(db, all.slice(0, 31), path, CLOCK);
      db.prepare(
        `INSERT INTO number_update_checks
           (number_sid, subaccount_sid, span_start, date_updated, outcome, accounts_read,
            requests, found_account_sid, found_message_sid, found_sent_at, checked_at)
         VALUES ('PN1', 'ACacme', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 'found', 2, 4,
                 'ACbeta', 'SM1', '2026-01-01T12:00:00Z', '2026-01-03T00:00:00Z')`,
      ).run();
      expect(() =>
        db
          .prepare(
            `INSERT INTO number_update_checks VALUES
               ('PN2', 'ACacme', 'a', 'b', 'unvouched', 0, 0, NULL, NULL, NULL, 'c')`,
          )
          .run(),
      ).toThrow(/CHECK/);
      migrate(db, all, path, CLOCK);
      const kept = {
        numberSid: 'PN1',
        subaccountSid: 'ACacme',
        spanStart: '2026-01-01T00:00:00Z',
        dateUpdated: '2026-01-02T00:00:00Z',
        outcome: 'found',
        accountsRead: 2,
        requests: 4,
        found: { accountSid: 'ACbeta', messageSid: 'SM1', sentAt: '2026-01-01T12:00:00Z' },
        checkedAt: '2026-01-03T00:00:00Z',
      } as const;
      const unvouched = {
        ...kept,
        numberSid: 'PN2',
        outcome: 'unvouched',
        found: null,
      } as const;
      recordNumberUpdateChecks(db, [unvouched]);
      expect(numberUpdateChecks(db)).toEqual([kept, unvouched]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });
});
