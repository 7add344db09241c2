/** Which database this is: the random id migration 010 gave it, for files that must say so. */

import type { Db } from './open.js';
import { statement } from './statements.js';

export function databaseId(db: Db): string {
  const row = statement(db, 'SELECT id FROM database_identity WHERE only_row = 1').get() as
    { id: string } | undefined;
  // Migration 010 inserts the row in the same transaction that creates the table.
  if (row === undefined) throw new Error('the database has no identity row (migration 010)');
  return row.id;
}
