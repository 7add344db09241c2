/**
 * An opt-out export from the command line: the --out file claimed before anything is read, then
 * the list streamed from the database to that file or to stdout, with its coverage and the
 * spans of history that leave it not whole.
 */

import { withDb, type DbLocation } from '../db/open.js';
import { refuseForeignFile, requireFolder, writePrivateFile } from '../files.js';
import {
  isOptOutExportText,
  optOutsCsvChunks,
  optOutsJsonChunks,
  spansLeavingListNotWhole,
  streamOptOutExport,
  type Coverage,
  type CoverageWindow,
} from '../optouts/export.js';
import { writeChunks, type Output } from './output.js';

export interface OptOutsEnd {
  coverage: Coverage;
  /** The parent accounts the database's snapshot runs were made for. */
  parents: ReadonlySet<string>;
  /** Rows read: one per opted-out pair and customer whose list holds it. */
  rows: number;
  /** The spans never read that leave the list not whole. */
  unread: CoverageWindow[];
  /** Whether stdout's reader went away before the list was written to its end. */
  cut: boolean;
}

/** Refuses an --out file the export may not write (in no folder, or not an export of ours). */
export function claimOptOutsFile(outPath: string): void {
  requireFolder(outPath, '--out');
  // The database itself, or anyone's file, is never overwritten by an export.
  refuseForeignFile(outPath, '--out', 'an opt-out export', isOptOutExportText);
}

/** Writes the list (one customer's, with `customer`) to `outPath`, else to stdout. */
export async function exportOptOuts(
  location: DbLocation,
  request: { customer: string | undefined; format: 'csv' | 'json'; outPath: string | undefined },
  output: Output,
): Promise<OptOutsEnd> {
  const { customer, format, outPath } = request;
  const options = {
    wholeOnly: true,
    ...(customer === undefined ? {} : { customer }),
  };
  // The rows are written as SQLite hands them over, never held: a service's opt-out is on
  // the list of every customer with a number in it, and a list may be millions of rows.
  return withDb(
    location,
    async (db) => {
      const list = streamOptOutExport(db, location.path, options);
      const unread = spansLeavingListNotWhole(db, list.coverage, customer);
      const chunks =
        format === 'json'
          ? optOutsJsonChunks(list.coverage, list.rows)
          : optOutsCsvChunks(list.rows);
      // Once stdout's reader is gone (`| head -1`), no more of the list is read.
      let cut = false;
      if (outPath !== undefined) {
        writePrivateFile(outPath, (write) => {
          for (const chunk of chunks) write(chunk);
        });
      } else {
        cut = !(await writeChunks(output, chunks));
      }
      return {
        coverage: list.coverage,
        parents: list.parents,
        rows: list.rowsRead(),
        unread,
        cut,
      };
    },
    {
      mode: 'existing',
      missingAdvice: 'Run `submigrate snapshot` first (or name the right file with --db).',
    },
  );
}
