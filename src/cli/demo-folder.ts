/**
 * The demo's folder: one it made itself (its mark), with a database made anew at every
 * rehearsal.
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { inspect } from '../db/open.js';
import { claimFolder } from '../files.js';
import { dbAt } from './runtime.js';

/** Marks a folder as the demo's: it writes and replaces files only in a folder it made. */
const DEMO_MARK = {
  file: '.submigrate-demo',
  text: 'Written by `submigrate demo`; it may replace files here.\n',
};

/** Claims `outDir` for the demo and clears its database; returns the database's path. */
export function prepareDemoFolder(outDir: string): string {
  claimFolder(outDir, DEMO_MARK, '--out', 'the demo');
  const dbPath = join(outDir, 'demo.db');
  // Every demo starts from a clean rehearsal (of a database that is the demo's own).
  inspect(dbPath, dbAt(dbPath).migrationsDir);
  for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
  return dbPath;
}
