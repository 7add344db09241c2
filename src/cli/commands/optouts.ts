import { resolve } from 'node:path';

import type { CommandModule } from 'yargs';

import { withDb } from '../../db/open.js';
import { refuseForeignFile, requireFolder, writePrivateFile } from '../../files.js';
import {
  describeCoverage,
  isOptOutExportText,
  optOutsCsvChunks,
  optOutsJsonChunks,
  spansLeavingListNotWhole,
  streamOptOutExport,
} from '../../optouts/export.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { writeChunks } from '../output.js';
import { dbLocation } from '../runtime.js';

interface OptOutsArgs extends GlobalOptions {
  customer?: string;
  format: 'csv' | 'json';
  out?: string;
}

export function optoutsCommand(context: CommandContext): CommandModule<GlobalOptions, OptOutsArgs> {
  return {
    command: 'optouts',
    describe: 'Export the current suppression list, with its evidence and coverage',
    builder: (y) =>
      y
        // It reads the database alone: --help leaves out --api-url, which it does not read.
        .hide('api-url')
        .option('customer', {
          type: 'string',
          describe: 'Only this customer_id (needs a planned mapping)',
        })
        .option('format', {
          choices: ['csv', 'json'] as const,
          default: 'csv' as const,
          describe: 'Output format',
        })
        .option('out', { type: 'string', describe: 'Write to this file instead of stdout' }),
    handler: async (args) => {
      const outPath = args.out === undefined ? undefined : resolve(context.cwd, args.out);
      if (outPath !== undefined) {
        requireFolder(outPath, '--out');
        // The database itself, or anyone's file, is never overwritten by an export.
        refuseForeignFile(outPath, '--out', 'an opt-out export', isOptOutExportText);
      }
      const location = dbLocation(args, context);
      const options = {
        wholeOnly: true,
        ...(args.customer === undefined ? {} : { customer: args.customer }),
      };
      const format = args.json ? 'json' : args.format;
      // The rows are written as SQLite hands them over, never held: a service's opt-out is on
      // the list of every customer with a number in it, and a list may be millions of rows.
      const { coverage, parents, rows, unread, cut } = await withDb(
        location,
        async (db) => {
          const list = streamOptOutExport(db, location.path, options);
          const unread = spansLeavingListNotWhole(db, list.coverage, args.customer);
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
            cut = !(await writeChunks(context.output, chunks));
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
      if (outPath !== undefined) {
        // Rows, not pairs: a service's pair is on the list of every customer it binds.
        context.output.err(
          `wrote ${rows} row(s) to ${args.out} (one per opted-out pair and customer whose list holds it)`,
        );
      }
      if (cut && context.output.failure() === undefined) {
        context.output.err(
          `stdout's reader went away after ${rows} row(s) of the list were read: no more of it was read, and what the reader took is not the whole list.`,
        );
      }
      if (format === 'csv')
        for (const line of describeCoverage(coverage, parents)) context.output.err(line);
      // Written all the same (what was read is on it), but not vouched for: a script that
      // hands on the list only when the command succeeds must not hand on this one as whole.
      if (unread.length > 0) {
        const accounts = [...new Set(unread.map((w) => w.account_sid))];
        context.output.err(
          `this list is not whole: ${unread.length} span(s) of the history of ${accounts.join(', ')} were never read (\`not_read\`), and opt-outs said in them are on no list. Run \`submigrate snapshot\` with Bulk Export (for a subaccount, with --account), then export again.`,
        );
        context.setExit(EXIT_CODES.failedSteps);
      } else if (args.customer !== undefined && coverage.not_read.length > 0) {
        // The `not read:` lines above are the database's: said whose they are not, so that a
        // reader does not take this customer's list for one with a gap.
        context.output.err(
          `this list is whole: none of the spans not read is history of an account ${args.customer}'s numbers were in at the time (a span after a number left an account is the history of the account it went to).`,
        );
      }
    },
  };
}
