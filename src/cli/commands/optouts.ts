import { resolve } from 'node:path';

import type { CommandModule } from 'yargs';

import { withDb } from '../../db/open.js';
import { UserError } from '../../errors.js';
import { requireFolder, writePrivateFile } from '../../files.js';
import { describeCoverage, exportOptOuts, optOutsCsv } from '../../optouts/export.js';
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
      if (outPath !== undefined) requireFolder(outPath, '--out');
      const location = dbLocation(args, context);
      const customer = args.customer === undefined ? {} : { customer: args.customer };
      const result = await withDb(location, (db) => exportOptOuts(db, location.path, customer), {
        mode: 'existing',
        missingAdvice: 'Run `submigrate snapshot` first (or name the right file with --db).',
      });
      // A list missing the opt-outs of an account nobody read is not printed as if whole.
      const unread = result.coverage.never_read.filter(
        (w) => args.customer === undefined || w.customer_ids.includes(args.customer),
      );
      if (unread.length > 0) {
        throw new UserError(
          `no completed snapshot has read ${unread.map((w) => w.account_sid).join(', ')}, where mapped numbers came from (customers ${[...new Set(unread.flatMap((w) => w.customer_ids))].join(', ')}): the opt-outs it received are on no list, so this list cannot be vouched for. Run \`submigrate snapshot${unread.map((w) => ` --account ${w.account_sid}`).join('')}\` first.`,
        );
      }
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
