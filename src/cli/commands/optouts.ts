import { resolve } from 'node:path';

import type { CommandModule } from 'yargs';

import { withDb } from '../../db/open.js';
import { refuseForeignFile, requireFolder, writePrivateFile } from '../../files.js';
import {
  describeCoverage,
  exportOptOuts,
  isOptOutExportText,
  optOutsCsv,
} from '../../optouts/export.js';
import type { CommandContext, GlobalOptions } from '../context.js';
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
      const result = await withDb(location, (db) => exportOptOuts(db, location.path, options), {
        mode: 'existing',
        missingAdvice: 'Run `submigrate snapshot` first (or name the right file with --db).',
      });
      const format = args.json ? 'json' : args.format;
      const text =
        format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : optOutsCsv(result.optouts);
      if (outPath !== undefined) {
        writePrivateFile(outPath, text);
        context.output.err(`wrote ${result.optouts.length} opted-out pairs to ${args.out}`);
      } else {
        context.output.out(text);
      }
      if (format === 'csv')
        for (const line of describeCoverage(result.coverage)) context.output.err(line);
    },
  };
}
