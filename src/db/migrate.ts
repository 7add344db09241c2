/**
 * Forward-only migrations: `migrations/NNN_slug.sql`, numbered from 001 without gaps, each
 * applied once in its own transaction and recorded with its SHA-256. A database that
 * recorded a migration whose file is now missing or different is refused: the schema it
 * holds is no longer the one the code expects.
 */

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type Database from 'better-sqlite3';

import { isoSeconds, type Clock } from '../clock.js';
import { UserError } from '../errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export function readMigrations(directory: string): Migration[] {
  const migrations = readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = FILE.exec(file);
      if (match === null) {
        throw new UserError(`${join(directory, file)}: migration files are named NNN_slug.sql`);
      }
      const sql = readFileSync(join(directory, file), 'utf8');
      return {
        version: Number(match[1]),
        name: file,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new UserError(
        `${directory}: migrations must be numbered 001, 002, … without gaps; found ${migration.name}`,
      );
    }
  });
  return migrations;
}

export function migrate(
  db: Database.Database,
  migrations: readonly Migration[],
  dbPath: string,
  clock: Clock,
): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const applied = db
    .prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version')
    .all() as { version: number; name: string; checksum: string }[];
  for (const record of applied) {
    const migration = migrations[record.version - 1];
    // Another migration of the same number (a newer or another build's 017 beside this one's)
    // is one this version does not know, not an edit of its own.
    if (migration === undefined || migration.name !== record.name) {
      const ours = migration === undefined ? '' : ` (its migration ${migration.name} is another)`;
      throw new UserError(
        `${dbPath}: the database has migration ${record.name}, which this version of submigrate does not know${ours}: a newer or another submigrate wrote it. Use the submigrate that wrote it; the database was not changed.`,
      );
    }
    if (migration.checksum !== record.checksum) {
      throw new UserError(
        `${dbPath}: migration ${record.name} was edited after it was applied (checksum differs). Migrations are never edited; add a new one.`,
      );
    }
  }
  const insert = db.prepare(
    'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)',
  );
  let count = 0;
  for (const migration of migrations.slice(applied.length)) {
    db.transaction(() => {
      db.exec(migration.sql);
      insert.run(migration.version, migration.name, migration.checksum, isoSeconds(clock.now()));
    })();
    count += 1;
  }
  return count;
}
