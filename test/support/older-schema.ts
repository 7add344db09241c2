/**
 * A database as an older submigrate left it: made by migrations 001..N only, holding what a
 * database of today's schema holds in the tables and columns that schema had. The rows are
 * those today's commands wrote (a snapshot, a plan, an apply killed half way), so they are
 * realistic; what only a later migration records (a number's origin, a run's rules version)
 * is left out, as an older submigrate never wrote it. The next command that opens the file
 * migrates it to today's schema.
 */

import { rmSync } from 'node:fs';

import Database from 'better-sqlite3';

import { migrate, readMigrations } from '../../src/db/migrate.js';
import { APPLICATION_ID } from '../../src/db/open.js';
import { MIGRATIONS_DIR } from './snapshot-harness.js';

const CLOCK = { now: () => new Date('2024-01-01T00:00:00.000Z') };

/** The columns of each table `db` has (its own migration record aside). */
function columnsOf(db: Database.Database, schema = 'main'): Map<string, string[]> {
  const tables = db
    .prepare(
      `SELECT name FROM ${schema}.sqlite_master WHERE type = 'table' AND name <> 'schema_migrations'`,
    )
    .pluck()
    .all() as string[];
  return new Map(
    tables.map((table) => [
      table,
      (db.prepare(`PRAGMA ${schema}.table_info("${table}")`).all() as { name: string }[]).map(
        (c) => c.name,
      ),
    ]),
  );
}

/**
 * Writes at `target` the database `source` (today's schema) would have been under migrations
 * 001..`version`: each of that schema's tables filled with the source's rows, in the columns
 * it had. The source is only read.
 */
export function olderDatabase(source: string, target: string, version: number): void {
  rmSync(target, { force: true });
  const db = new Database(target);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`application_id = ${APPLICATION_ID}`);
    migrate(db, readMigrations(MIGRATIONS_DIR).slice(0, version), target, CLOCK);
    db.prepare('ATTACH DATABASE ? AS today').run(source);
    const today = columnsOf(db, 'today');
    db.pragma('foreign_keys = OFF');
    db.transaction(() => {
      for (const [table, columns] of columnsOf(db)) {
        const had = today.get(table);
        if (had === undefined) continue;
        // A table an older migration made with rows (the database's own id) takes today's.
        db.exec(`DELETE FROM main."${table}"`);
        const shared = columns.filter((c) => had.includes(c)).map((c) => `"${c}"`);
        db.exec(
          `INSERT INTO main."${table}" (${shared.join(', ')}) SELECT ${shared.join(', ')} FROM today."${table}"`,
        );
      }
    })();
    db.exec('DETACH DATABASE today');
  } finally {
    db.close();
  }
}

/**
 * A database of today's schema at `file` whose one completed snapshot run listed `account`'s
 * two numbers, PN1… (`+14155550401`, in `service`) and PN2… (`+14155550402`, in none), on
 * 2025-01-02: the listing the fill of a later migration reads. Left open for more rows.
 */
export function todayWithListing(
  file: string,
  account: string,
  service: string,
): Database.Database {
  const today = new Database(file);
  migrate(today, readMigrations(MIGRATIONS_DIR), file, CLOCK);
  today
    .prepare(
      `INSERT INTO snapshot_runs (id, parent_account_sid, status, started_at, pid, hostname,
         partitions, keywords_json, explicit_window)
       VALUES (1, ?, 'completed', '2025-01-01T00:00:00Z', 1, 'h', 1, '{}', 0)`,
    )
    .run(account);
  const number = today.prepare(
    `INSERT INTO numbers (account_sid, number_sid, phone_number, number_type,
       messaging_service_sid, service_name, observed_at, run_id)
     VALUES (?, ?, ?, 'local', ?, ?, '2025-01-02T00:00:00Z', 1)`,
  );
  number.run(account, `PN${'1'.repeat(32)}`, '+14155550401', service, 'Shared');
  number.run(account, `PN${'2'.repeat(32)}`, '+14155550402', null, null);
  return today;
}

/**
 * A database of today's schema at `file` whose apply lock an older submigrate wrote: `holder`
 * (pid, hostname) since `acquiredAt`, naming no run, with none of what later migrations add to
 * the lock (its renewal, its token). The source the lock migrations' tests upgrade from.
 */
export function todayWithOlderLock(
  file: string,
  holder: { pid: number; hostname: string; acquiredAt: string },
): void {
  const today = new Database(file);
  try {
    migrate(today, readMigrations(MIGRATIONS_DIR), file, CLOCK);
    today
      .prepare(
        `INSERT INTO apply_lock (id, run_id, pid, hostname, acquired_at) VALUES (1, NULL, ?, ?, ?)`,
      )
      .run(holder.pid, holder.hostname, holder.acquiredAt);
  } finally {
    today.close();
  }
}

/** The columns of `table` in a database made new at `file` (every migration run). */
export function columnsOfNew(file: string, table: string): string[] {
  const db = new Database(file);
  try {
    migrate(db, readMigrations(MIGRATIONS_DIR), file, CLOCK);
    return columnsOf(db).get(table) ?? [];
  } finally {
    db.close();
  }
}

/**
 * `source` (today's schema) as each schema before migration `below` would have held it,
 * migrated to today's in `dir`'s files: `[version, read(db)]` for each.
 */
export function upgradedFrom<T>(
  file: (name: string) => string,
  source: string,
  below: number,
  read: (db: Database.Database) => T,
): [number, T][] {
  const all = readMigrations(MIGRATIONS_DIR);
  return all
    .filter((m) => m.version < below)
    .map((m) => {
      const target = file(`schema-${m.version}.db`);
      olderDatabase(source, target, m.version);
      const db = new Database(target);
      try {
        migrate(db, all, target, CLOCK);
        return [m.version, read(db)];
      } finally {
        db.close();
      }
    });
}
