/**
 * The state database: one SQLite file, created with mode 0600 (it holds evidence about
 * people, though never a credential), in WAL mode with foreign keys on, migrated on open.
 */

import { chmodSync, closeSync, openSync } from 'node:fs';

import Database from 'better-sqlite3';

import type { Clock } from '../clock.js';
import { migrate, readMigrations } from './migrate.js';

export type Db = Database.Database;

export interface DbLocation {
  /** The database file. */
  path: string;
  /** The `migrations/` directory. */
  migrationsDir: string;
  clock: Clock;
}

export function openDatabase(location: DbLocation): Db {
  // Create the file ourselves so it never exists with wider permissions, even briefly.
  closeSync(openSync(location.path, 'a', 0o600));
  chmodSync(location.path, 0o600);
  const db = new Database(location.path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    // A snapshot commits pages of evidence keyed by random message SIDs: let the WAL grow to
    // ~40 MB between checkpoints (each one an fsync), and keep 16 MB of pages in cache.
    // Together they halved the ledger's share of a snapshot's time (npm run bench).
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma('cache_size = -16000');
    migrate(db, readMigrations(location.migrationsDir), location.path, location.clock);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens, migrates, runs `fn`, and always closes. */
export async function withDb<T>(location: DbLocation, fn: (db: Db) => Promise<T> | T): Promise<T> {
  const db = openDatabase(location);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
