/**
 * A database of ours that the user running submigrate may not write: one made read-only (kept
 * as evidence) is refused, not made writable again behind the user's back; one in a folder the
 * user may not write (where SQLite keeps its -wal and -shm files) is one line saying so, not an
 * internal error with SQLite's stack trace. Built CLI; `status` sends no request.
 */

import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openDatabase } from '../../src/db/open.js';
import {
  MIGRATIONS_DIR,
  fixedClock,
  runCli,
  tempDir,
  type CliResult,
  type TempDir,
} from '../support/snapshot-harness.js';

/** A submigrate database at `path`, closed. */
function makeDatabase(path: string): void {
  openDatabase({ path, migrationsDir: MIGRATIONS_DIR, clock: fixedClock(Date.now()) }).close();
}

function expectOneLineError(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/internal error|at .*\.js:\d+|bug in submigrate/);
}

describe('--db naming a database of ours that may not be written', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    const locked = join(dir.path, 'locked');
    if (existsSync(locked)) chmodSync(locked, 0o700);
    dir.remove();
  });

  it('one made read-only is refused and left read-only, its bytes as they were', async () => {
    const db = dir.file('evidence.db');
    makeDatabase(db);
    chmodSync(db, 0o400);
    const bytes = readFileSync(db);
    const result = await runCli(['status', '--db', db], { PATH: process.env['PATH'] ?? '' });
    expectOneLineError(
      result,
      /^error: --db .*evidence\.db is read-only; refusing to make it writable\..*chmod u\+w/,
    );
    expect(statSync(db).mode & 0o777).toBe(0o400);
    expect(readFileSync(db).equals(bytes)).toBe(true);
    expect(existsSync(`${db}-wal`)).toBe(false);
    expect(existsSync(`${db}-shm`)).toBe(false);
  });

  it('one in a folder the user may not write is one line naming the file and the folder', async () => {
    const locked = join(dir.path, 'locked');
    mkdirSync(locked);
    const db = join(locked, 'state.db');
    makeDatabase(db);
    // Root may write anywhere, so for root SQLite is kept from making its -wal file beside
    // the database by a folder in its place: the same refusal (SQLITE_CANTOPEN) without
    // running as another user, who might not be able to read this repository.
    if (process.getuid?.() === 0) mkdirSync(`${db}-wal`);
    else chmodSync(locked, 0o555);
    const result = await runCli(['status', '--db', db], { PATH: process.env['PATH'] ?? '' });
    expectOneLineError(
      result,
      /^error: --db .*state\.db: cannot write it \(.*\)\. .*the file and its folder must be writable/,
    );
  });
});
