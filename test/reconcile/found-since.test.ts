/**
 * A span a pass found a moved number in no account it listed (`number-not-found`), and the next
 * pass found it in another account since the same arrival (`number-away`): the second names the
 * number's sends there, and the first says nothing more. The first's end is carried on to when
 * the next pass finished (`awayUntil`), while the second ends when that pass looked, a second
 * earlier on a loaded machine: reconcile-number-away-unlisted failed so, both named. Real SQLite
 * file, migrated; the passes' times as a loaded machine leaves them.
 */

import { afterEach, describe, expect, it } from 'vitest';

import { withDb, type Db } from '../../src/db/open.js';
import { recordNumbersAway, recordPass, type MovedNumber } from '../../src/db/reconcile.js';
import { awaySpans, foundSince, NOT_FOUND } from '../../src/reconcile/away.js';
import { fixedClock, MIGRATIONS_DIR, tempDir, type TempDir } from '../support/snapshot-harness.js';

const ACME = 'ACacme';
const OTHER = 'ACother';
const m = {
  numberSid: 'PN1',
  phoneNumber: '+14155550981',
  customerId: 'acme',
  subaccountSid: ACME,
  sourceAccountSid: 'ACparent',
  sourceServiceSid: null,
  movedAt: '2026-12-07T12:48:49Z',
  moveBegan: '2026-12-07T12:48:50Z',
  subaccountCreatedAt: null,
} as MovedNumber;
const span = (accountSid: string, end: string) => ({
  numberSid: m.numberSid,
  phoneNumber: m.phoneNumber,
  customerId: m.customerId,
  subaccountSid: ACME,
  accountSid,
  start: '2026-12-07T12:48:50Z',
  end,
});

/** A reconcile pass that began at `startedAt` and finished at `finishedAt`. */
function pass(db: Db, startedAt: string, finishedAt: string): void {
  const run = Number(
    db
      .prepare(
        `INSERT INTO snapshot_runs (parent_account_sid, status, started_at, finished_at, pid,
           hostname, partitions, keywords_json, explicit_window, made_by)
         VALUES ('ACparent', 'completed', ?, ?, 1, 'h', 1, '{}', 0, 'reconcile')`,
      )
      .run(startedAt, finishedAt).lastInsertRowid,
  );
  recordPass(db, { snapshotRunId: run, finishedAt, sendsChecked: 0 }, [], []);
}

describe('a number found nowhere, then found elsewhere by the next pass', () => {
  let dir: TempDir | null = null;
  afterEach(() => {
    dir?.remove();
    dir = null;
  });

  it('names only where the next pass found it, though that pass finished a second after it looked', async () => {
    dir = tempDir('submigrate-found-since-');
    await withDb(
      { path: dir.file('f.db'), migrationsDir: MIGRATIONS_DIR, clock: fixedClock(0) },
      (db) => {
        // The first pass finds A nowhere at :51; the next begins at :52, finds A in Other at
        // :52 and finishes at :53.
        pass(db, '2026-12-07T12:48:50Z', '2026-12-07T12:48:51Z');
        recordNumbersAway(db, [span(NOT_FOUND, '2026-12-07T12:48:51Z')]);
        pass(db, '2026-12-07T12:48:52Z', '2026-12-07T12:48:53Z');
        recordNumbersAway(db, [span(OTHER, '2026-12-07T12:48:52Z')]);
        expect(awaySpans(db, [m])).toEqual([
          expect.objectContaining({
            reason: 'number-away',
            accountSid: OTHER,
            start: '2026-12-07T12:48:50Z',
          }),
        ]);
      },
    );
  });

  it('keeps the span found nowhere when the account it was found in came before it', () => {
    const found = [span(OTHER, '2026-12-07T12:48:51Z')];
    expect(foundSince(span(NOT_FOUND, '2026-12-07T12:48:53Z'), found)).toBe(false);
    expect(foundSince(span(NOT_FOUND, '2026-12-07T12:48:51Z'), found)).toBe(true);
    // Of another arrival (found since a later one): not the same stay.
    expect(
      foundSince(span(NOT_FOUND, '2026-12-07T12:48:51Z'), [
        { ...found[0]!, start: '2026-12-07T12:48:51Z' },
      ]),
    ).toBe(false);
  });
});
