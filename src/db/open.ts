/**
 * The state database: one SQLite file of ours, marked as ours (`PRAGMA application_id`),
 * created exclusively with mode 0600 (it holds evidence about people, though never a
 * credential), in WAL mode with foreign keys on, migrated on open.
 *
 * `--db` names a path the user typed; it may be anything. A file that is not a submigrate
 * database is refused before SQLite opens it: its bytes and its mode stay exactly as they were.
 */

import {
  chmodSync,
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

import Database from 'better-sqlite3';

import type { Clock } from '../clock.js';
import { tellAfter, toldAfter, UserError } from '../errors.js';
import { isFileOrNothing } from '../files.js';
import { migrate, readMigrations, type Migration } from './migrate.js';

export type Db = Database.Database;

/** "SUBM": the mark in the database header (offset 68) that says a file is ours. */
export const APPLICATION_ID = 0x5355424d;

export interface DbLocation {
  /** The database file. */
  path: string;
  /** The `migrations/` directory. */
  migrationsDir: string;
  clock: Clock;
}

export interface OpenOptions {
  /**
   * `create` (the default) makes a new database when none exists; `existing` refuses a
   * missing one with this advice (read-only commands never create a database).
   */
  mode?: 'create' | 'existing';
  /** What to tell the user when `mode` is `existing` and there is no database. */
  missingAdvice?: string;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

type Found = 'missing' | 'ours' | 'legacy';

/**
 * What is at `path`, without opening it as a database or changing anything about it:
 * nothing, or a submigrate database (one unmarked is told by the first migration of
 * `migrationsDir` recorded in it). Anything else is a UserError.
 */
export function inspect(path: string, migrationsDir: string): Found {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if (code === 'ENOTDIR')
      throw new UserError(`--db ${path}: ${fileAbove(path)} is not a folder.`);
    throw new UserError(`--db ${path}: ${(error as Error).message}`);
  }
  if (stat.isDirectory()) throw new UserError(`--db ${path} is a folder, not a database file.`);
  if (!stat.isFile()) throw new UserError(`--db ${path} is not a regular file.`);
  const header = Buffer.alloc(100);
  let read = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      read = readSync(fd, header, 0, 100, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new UserError(`--db ${path}: cannot read it (${(error as Error).message}).`);
  }
  const notOurs = `--db ${path} exists and is not a submigrate database; refusing to touch it. Name a new file, or one submigrate created.`;
  if (read < 100 || !header.subarray(0, 16).equals(SQLITE_HEADER)) throw new UserError(notOurs);
  const applicationId = header.readUInt32BE(68);
  if (applicationId === APPLICATION_ID) return 'ours';
  // Databases written before the mark existed carry 0: they are ours if our migrations made them.
  const first = readMigrations(migrationsDir)[0];
  if (
    applicationId === 0 &&
    first !== undefined &&
    madeByOurMigrations(path, stat.size, header[18] === 2, first)
  ) {
    return 'legacy';
  }
  throw new UserError(notOurs);
}

/** The nearest folder of `path` that is there: under ENOTDIR, a file where a folder should be. */
function fileAbove(path: string): string {
  let folder = dirname(path);
  while (dirname(folder) !== folder) {
    try {
      statSync(folder);
      return folder;
    } catch {
      folder = dirname(folder);
    }
  }
  return folder;
}

/** Above this, an unmarked database is not read into memory whole (Node reads at most 2 GiB). */
const IN_MEMORY_LIMIT = 256 * 1024 * 1024;

/**
 * A look at an unmarked SQLite file: does it hold our migration record, our first migration
 * with its checksum? Its name alone is not enough: other tools record theirs in a
 * `schema_migrations` whose first row is `001_init.sql` too, and such a database was taken
 * for ours, then marked, switched to WAL and made 0600 before the migrations refused it.
 * SQLite opening a WAL-mode database itself, even read-only, makes a `-wal` and a `-shm` beside it and leaves
 * them there: files beside someone's database, which with another owner or mode can keep its
 * own application from opening it. So a WAL-mode one is read from a copy: in memory, or, when
 * large (a ledger of years of messages), in a private folder of its own. A rollback-journal
 * one too large for memory is opened read-only where it is: SQLite makes nothing beside it.
 */
function madeByOurMigrations(
  path: string,
  size: number,
  walMode: boolean,
  first: Pick<Migration, 'name' | 'checksum'>,
): boolean {
  let db: Db | undefined;
  let copyFolder: string | undefined;
  try {
    if (size <= IN_MEMORY_LIMIT) {
      const image = readFileSync(path);
      // SQLite opens no WAL-mode image from memory (header bytes 18 and 19 are 2); read as a
      // rollback-journal one, its pages are the same. What only a -wal holds is not seen.
      image[18] = 1;
      image[19] = 1;
      db = new Database(image, { readonly: true });
    } else if (walMode) {
      copyFolder = mkdtempSync(join(tmpdir(), 'submigrate-inspect-'));
      const copy = join(copyFolder, 'db');
      copyFileSync(path, copy);
      db = new Database(copy, { readonly: true, fileMustExist: true });
    } else {
      db = new Database(path, { readonly: true, fileMustExist: true });
    }
    const row = db
      .prepare(
        "SELECT 1 AS ok FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
      )
      .get() as { ok: number } | undefined;
    if (row === undefined) return false;
    const recorded = db
      .prepare('SELECT name, checksum FROM schema_migrations WHERE version = 1')
      .get() as { name: string; checksum: string } | undefined;
    return recorded?.name === first.name && recorded.checksum === first.checksum;
  } catch {
    return false;
  } finally {
    db?.close();
    if (copyFolder !== undefined) rmSync(copyFolder, { recursive: true, force: true });
  }
}

/** Creates the file exclusively, mode 0600 whatever the umask; never opens an existing one. */
function createExclusively(path: string): void {
  const folder = dirname(path);
  let stat;
  try {
    stat = statSync(folder);
  } catch {
    throw new UserError(`--db ${path}: the folder ${folder} does not exist.`);
  }
  if (!stat.isDirectory()) throw new UserError(`--db ${path}: ${folder} is not a folder.`);
  // A link to nowhere: stat found no file, and an exclusive create refuses the link itself
  // ("EEXIST: file already exists"), which reads as if the database were there.
  if (!isFileOrNothing(path)) {
    throw new UserError(
      `--db ${path} is a link to ${readlinkSync(path)}, which does not exist; name the database file itself.`,
    );
  }
  try {
    closeSync(openSync(path, 'wx', 0o600));
    chmodSync(path, 0o600);
  } catch (error) {
    throw new UserError(`--db ${path}: cannot create it (${(error as Error).message}).`);
  }
}

export function openDatabase(location: DbLocation, options: OpenOptions = {}): Db {
  return openFound(location, options).db;
}

/** The database, and whether this call created its file. */
function openFound(location: DbLocation, options: OpenOptions): { db: Db; created: boolean } {
  const { path } = location;
  const found = inspect(path, location.migrationsDir);
  if (found === 'missing') {
    if (options.mode === 'existing') {
      throw new UserError(`no database at ${path}. ${options.missingAdvice ?? ''}`.trim());
    }
    refuseNameTooLong(path);
    createExclusively(path);
  } else {
    keepPrivate(path);
  }
  let db: Db;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (error) {
    if (found === 'missing') unlinkSync(path);
    throw new UserError(`--db ${path}: cannot open it (${(error as Error).message}).`);
  }
  try {
    // Set once, on a new file: setting it again is a write, which would wait for (or, after the
    // busy timeout, fail against) a command writing the database all along, a snapshot say.
    if (db.pragma('application_id', { simple: true }) !== APPLICATION_ID) {
      db.pragma(`application_id = ${APPLICATION_ID}`);
    }
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    // A snapshot commits pages of evidence keyed by random message SIDs: let the WAL grow to
    // ~40 MB between checkpoints (each one an fsync), and keep 16 MB of pages in cache.
    // Together they halved the ledger's share of a snapshot's time (npm run bench).
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma('cache_size = -16000');
    migrate(db, readMigrations(location.migrationsDir), path, location.clock);
    return { db, created: found === 'missing' };
  } catch (error) {
    db.close();
    const refused = cannotWrite(path, error) ?? diskRefused(path, error);
    // A file this call created that the disk refused to write holds nothing of the user's (not
    // even SQLite's header, when that was refused): left there, the next run would refuse it
    // as not a submigrate database, where the error says to run the command again.
    if (refused !== null && found === 'missing') removeDatabaseFiles(path);
    throw refused ?? error;
  }
}

/** The longest file name most file systems take (NAME_MAX: 255 bytes on Linux and macOS). */
const NAME_MAX = 255;

/**
 * A new database's name must leave room for the files SQLite keeps beside it, named as it with
 * `-journal` (while it is first written), `-wal` or `-shm` added: a valid name of 248–255 bytes
 * was created, then SQLite could not open its journal, and the error blamed the folder's
 * permissions ("cannot write it (unable to open database file)").
 */
function refuseNameTooLong(path: string): void {
  const bytes = Buffer.byteLength(basename(path));
  const most = NAME_MAX - '-journal'.length;
  if (bytes <= most) return;
  throw new UserError(
    `--db ${path}: its name is ${bytes} bytes, and SQLite keeps files beside the database named as it with -journal, -wal or -shm added, which the file system refuses past ${NAME_MAX} bytes: give it a name of at most ${most} bytes. Nothing was created.`,
  );
}

/**
 * Ours: kept private (0600), whatever happened to its mode since. One made read-only (no
 * write permission for anyone: kept as evidence, say) is refused rather than made writable
 * again: every command writes the database it opens (its migrations, its journal).
 */
function keepPrivate(path: string): void {
  if ((statSync(path).mode & 0o222) === 0) {
    throw new UserError(
      `--db ${path} is read-only; refusing to make it writable. Every submigrate command writes to its database: make it writable (chmod u+w), or use a copy.`,
    );
  }
  try {
    chmodSync(path, 0o600);
  } catch (error) {
    // Another user's file (EPERM): only its owner may change its mode, or write it.
    throw new UserError(
      `--db ${path}: cannot keep it private (chmod 0600: ${(error as Error).message}); run submigrate as the user who owns it.`,
    );
  }
}

/**
 * SQLite's refusal to write, or to make the -wal and -shm files beside the database (a
 * folder the user may not write): the user's to fix, said in one line, not a bug.
 */
function cannotWrite(path: string, error: unknown): UserError | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^SQLITE_(READONLY|CANTOPEN|PERM)/.test(code)) return null;
  return new UserError(
    `--db ${path}: cannot write it (${(error as Error).message}). submigrate writes the database and, beside it, its -wal and -shm files: the file and its folder must be writable by the user running it.`,
  );
}

/**
 * A write the disk refused part way through a command (full, a file-size limit, an I/O error):
 * the user's to fix, not a bug. SQLite writes each transaction whole or not at all, so the one
 * that failed left nothing half written, and the command can be run again once there is room.
 */
function diskRefused(path: string, error: unknown): UserError | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^SQLITE_(FULL|IOERR)/.test(code)) return null;
  // SQLITE_IOERR is a file-size limit as often as a disk that fails: room is not all to check.
  const fix = code.startsWith('SQLITE_FULL')
    ? 'Make room on that disk (the database and its -wal file grow there)'
    : 'Check that disk: whether it is full, under a file-size limit (ulimit -f) or failing';
  const said = new UserError(
    `--db ${path}: cannot write it (${(error as Error).message}). The change it was writing was not made (SQLite writes each one whole or not at all); what the command wrote before it stays. ${fix}, then run the command again.`,
  );
  // What was told after the error (apply's reports not written, on the same full disk) is
  // still to be told after this one: dropped with the error, the user took them as written.
  for (const line of toldAfter(error)) tellAfter(said, line);
  return said;
}

/**
 * What the database has been written since `db` opened it: rows this connection changed
 * (`total_changes()`), and commits of any other connection (`data_version` moves with each).
 * Two equal answers of one connection: nothing was written in between.
 */
export function writesSince(db: Db): string {
  const changes = db.prepare('SELECT total_changes() AS n').get() as { n: number };
  return `${changes.n} ${String(db.pragma('data_version', { simple: true }))}`;
}

/** Whether `db` is as `writesSince` found it then; when that cannot be told, it is not. */
function nothingWrittenSince(db: Db, then: string): boolean {
  try {
    return db.open && writesSince(db) === then;
  } catch {
    return false; // the error `fn` failed with is the one to tell, and the file is kept
  }
}

/** The database file and the WAL files SQLite keeps beside it. */
function removeDatabaseFiles(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true });
}

/**
 * Opens, migrates, runs `fn`, and always closes. A database this call created is removed
 * again when `fn` fails before anything was written into it (a wrong auth token refused at
 * the first request): the user is left no stray file that reads as a snapshot tried, and
 * the next run creates it afresh. A database that was there before is never removed.
 */
export async function withDb<T>(
  location: DbLocation,
  fn: (db: Db) => Promise<T> | T,
  options: OpenOptions = {},
): Promise<T> {
  const { db, created } = openFound(location, options);
  const opened = created ? writesSince(db) : null;
  let unwritten = false;
  try {
    return await fn(db);
  } catch (error) {
    unwritten = opened !== null && nothingWrittenSince(db, opened);
    throw diskRefused(location.path, error) ?? error;
  } finally {
    db.close();
    if (unwritten) removeDatabaseFiles(location.path);
  }
}
