/**
 * Migration 029: an index of `numbers` by account SID, so that replacing an account's listing
 * finds its old rows without reading every number listed. A new database has it, and so does
 * a database of every earlier schema (001..028) once opened, with its rows as they were.
 */

import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openDatabase } from '../../src/db/open.js';
import { todayWithListing, upgradedFrom } from '../support/older-schema.js';
import { MIGRATIONS_DIR, tempDir, type TempDir } from '../support/snapshot-harness.js';

const ACCOUNT = `AC${'a'.repeat(32)}`;
const OTHER = `AC${'c'.repeat(32)}`;
const SERVICE = `MG${'b'.repeat(32)}`;

/** The index of `numbers` by account: its columns, and whether it is unique or partial. */
function accountIndex(db: Database.Database) {
  const index = (
    db.prepare('PRAGMA index_list(numbers)').all() as {
      name: string;
      unique: number;
      partial: number;
    }[]
  ).find((i) => i.name === 'numbers_by_account');
  if (index === undefined) return undefined;
  const columns = (
    db.prepare('PRAGMA index_info(numbers_by_account)').all() as { name: string }[]
  ).map((c) => c.name);
  return { columns, unique: index.unique, partial: index.partial };
}

const EXPECTED = { columns: ['account_sid'], unique: 0, partial: 0 };

const numbers = (db: Database.Database) =>
  db.prepare('SELECT * FROM numbers ORDER BY number_sid').all();

describe('migration 029: numbers by account', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('a new database has the index', () => {
    const db = openDatabase({
      path: dir.file('new.db'),
      migrationsDir: MIGRATIONS_DIR,
      clock: { now: () => new Date('2025-01-01T00:00:00Z') },
    });
    try {
      expect(accountIndex(db)).toEqual(EXPECTED);
    } finally {
      db.close();
    }
  });

  it('a database of every earlier schema gets it, its numbers unchanged', () => {
    const source = dir.file('today.db');
    const today = todayWithListing(source, ACCOUNT, SERVICE);
    today
      .prepare(
        `INSERT INTO numbers (account_sid, number_sid, phone_number, number_type,
           messaging_service_sid, service_name, observed_at, run_id)
         VALUES (?, ?, ?, 'toll-free', NULL, NULL, '2025-01-03T00:00:00Z', 1)`,
      )
      .run(OTHER, `PN${'3'.repeat(32)}`, '+18005550403');
    const listed = numbers(today);
    today.close();
    expect(listed).toHaveLength(3);

    const upgraded = upgradedFrom(dir.file, source, 29, (db) => ({
      index: accountIndex(db),
      numbers: numbers(db),
      integrity: db.pragma('integrity_check', { simple: true }),
    }));
    expect(upgraded.map(([version]) => version)).toEqual(
      Array.from({ length: 28 }, (_, i) => i + 1),
    );
    for (const [version, after] of upgraded) {
      expect(after, `schema ${version}`).toEqual({
        index: EXPECTED,
        numbers: listed,
        integrity: 'ok',
      });
    }
  });
});
