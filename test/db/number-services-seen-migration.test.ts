/**
 * Migration 026: every Messaging Service a listing saw a number in is kept for good. A database
 * of any earlier schema (001..025) holds the latest listing of each account in `numbers`; the
 * upgrade keeps each of its numbers' services from it, and none for a number in no service.
 */

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { migrate, readMigrations } from '../../src/db/migrate.js';
import { olderDatabase } from '../support/older-schema.js';
import { MIGRATIONS_DIR, tempDir, type TempDir } from '../support/snapshot-harness.js';

const CLOCK = { now: () => new Date('2026-01-01T00:00:00.000Z') };
const ACCOUNT = `AC${'a'.repeat(32)}`;
const SERVICE = `MG${'b'.repeat(32)}`;

describe('migration 026: the services listings saw each number in', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('fills from the numbers table on a database of every earlier schema', () => {
    const all = readMigrations(MIGRATIONS_DIR);
    const source = dir.file('today.db');
    const today = new Database(source);
    migrate(today, all, source, CLOCK);
    today
      .prepare(
        `INSERT INTO snapshot_runs (id, parent_account_sid, status, started_at, pid, hostname,
           partitions, keywords_json, explicit_window)
         VALUES (1, ?, 'completed', '2025-01-01T00:00:00Z', 1, 'h', 1, '{}', 0)`,
      )
      .run(ACCOUNT);
    const number = today.prepare(
      `INSERT INTO numbers (account_sid, number_sid, phone_number, number_type,
         messaging_service_sid, service_name, observed_at, run_id)
       VALUES (?, ?, ?, 'local', ?, ?, '2025-01-02T00:00:00Z', 1)`,
    );
    number.run(ACCOUNT, `PN${'1'.repeat(32)}`, '+14155550401', SERVICE, 'Shared');
    number.run(ACCOUNT, `PN${'2'.repeat(32)}`, '+14155550402', null, null);
    today.close();

    const upgraded = all
      .filter((m) => m.version < 26)
      .map((m) => {
        const target = dir.file(`schema-${m.version}.db`);
        olderDatabase(source, target, m.version);
        const db = new Database(target);
        try {
          migrate(db, all, target, CLOCK);
          return db.prepare('SELECT * FROM number_services_seen').all();
        } finally {
          db.close();
        }
      });
    expect(upgraded).toHaveLength(25);
    for (const seen of upgraded) {
      expect(seen).toEqual([
        {
          phone_number: '+14155550401',
          account_sid: ACCOUNT,
          messaging_service_sid: SERVICE,
          first_seen: '2025-01-02T00:00:00Z',
        },
      ]);
    }
  });
});
