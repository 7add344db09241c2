/**
 * `withDb` removes a database file it created when the work it ran failed before anything was
 * written into it (snapshot or plan refused at their first request: a wrong auth token), and
 * only then: not one the work wrote into, not one that was there before.
 */

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { tellAfter, toldAfter, UserError } from '../../src/errors.js';
import { withDb, type Db, type DbLocation } from '../../src/db/open.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

let root: string;
let location: DbLocation;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'submigrate-open-created-'));
  location = {
    path: join(root, 'state.db'),
    migrationsDir: MIGRATIONS,
    clock: { now: () => new Date('2024-01-01T00:00:00.000Z') },
  };
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const refused = new Error('HTTP 401 at the first request');
const failWith = (write?: (db: Db) => void) =>
  withDb(location, (db) => {
    write?.(db);
    throw refused;
  });
const aCustomer = (db: Db) =>
  db
    .prepare(
      "INSERT INTO customers (customer_id, customer_name, mapping_sha256, recorded_at) VALUES ('acme', 'Acme', 'x', '2024-01-01T00:00:00Z')",
    )
    .run();

describe('a database withDb created', () => {
  it('is removed, -wal and -shm too, when the work failed having written nothing', async () => {
    await expect(failWith()).rejects.toBe(refused);
    expect(readdirSync(root)).toEqual([]);
  });

  it('is kept when the work wrote into it before failing', async () => {
    await expect(failWith(aCustomer)).rejects.toBe(refused);
    expect(existsSync(location.path)).toBe(true);
    const names = await withDb(location, (db) =>
      db.prepare('SELECT customer_id FROM customers').pluck().all(),
    );
    expect(names).toEqual(['acme']);
  });

  it('is kept when the work succeeded, written into or not', async () => {
    await withDb(location, () => undefined);
    expect(existsSync(location.path)).toBe(true);
  });
});

describe('a database that was there before', () => {
  it('is never removed, though the work failed having written nothing', async () => {
    await withDb(location, () => undefined);
    await expect(failWith()).rejects.toBe(refused);
    expect(existsSync(location.path)).toBe(true);
  });
});

describe('a --db path under a file', () => {
  // The error was Node's own, "ENOTDIR: not a directory, stat '…'", where `--out` says which
  // part of the path is a file.
  it('names the file that stands where a folder should be, for every command', async () => {
    const file = join(root, 'mapping.csv');
    writeFileSync(file, 'customer_id,customer_name,phone_number\n');
    for (const path of [join(file, 'state.db'), join(file, 'more', 'state.db')]) {
      for (const mode of ['create', 'existing'] as const) {
        await expect(withDb({ ...location, path }, () => null, { mode })).rejects.toThrow(
          new UserError(`--db ${path}: ${file} is not a folder.`),
        );
      }
    }
    expect(readFileSync(file, 'utf8')).toBe('customer_id,customer_name,phone_number\n');
  });
});

describe('a disk that takes no more of the database', () => {
  // Said as one error naming --db, the lines told after the error were dropped with it: an
  // apply stopped by a full disk no longer said its reports were not written either.
  it('is an error naming --db that keeps what was told after the error', async () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    tellAfter(full, 'the reports of apply run 1 were not written: ENOSPC');
    const thrown: unknown = await withDb(location, () => {
      throw full;
    }).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(UserError);
    expect((thrown as Error).message).toMatch(
      /^--db .*state\.db: cannot write it \(database or disk is full\)/,
    );
    expect(toldAfter(thrown)).toEqual(['the reports of apply run 1 were not written: ENOSPC']);
    expect((thrown as Error).message).toContain('Make room on that disk');
  });

  // SQLITE_IOERR comes of a file-size limit or a failing disk as often as of a full one.
  it('says to check the disk, not only to make room, for an I/O error', async () => {
    const io = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
    const thrown: unknown = await withDb(location, () => {
      throw io;
    }).catch((error: unknown) => error);
    expect((thrown as Error).message).toMatch(
      /cannot write it \(disk I\/O error\)\. .* Check that disk: whether it is full, under a file-size limit \(ulimit -f\) or failing, then run the command again\.$/,
    );
  });
});

describe('a new database whose name leaves no room for its -wal and -shm files', () => {
  // A 255-byte name is valid, but SQLite's `NAME-journal` beside it is not: the file was
  // created, then SQLite could not open its journal, and the error blamed the folder's
  // permissions.
  it('is refused before anything is created, saying how long a name may be', async () => {
    const path = join(root, `${'d'.repeat(252)}.db`);
    await expect(withDb({ ...location, path }, () => null)).rejects.toThrow(
      new UserError(
        `--db ${path}: its name is 255 bytes, and SQLite keeps files beside the database named as it with -journal, -wal or -shm added, which the file system refuses past 255 bytes: give it a name of at most 247 bytes. Nothing was created.`,
      ),
    );
    expect(readdirSync(root)).toEqual([]);
  });

  it('is created when the name leaves that room (247 bytes, two-byte letters counted as two)', async () => {
    for (const name of [`${'d'.repeat(244)}.db`, `${'é'.repeat(122)}.db`]) {
      const path = join(root, name);
      await withDb({ ...location, path }, (db) => aCustomer(db));
      expect(existsSync(path)).toBe(true);
    }
  });
});
