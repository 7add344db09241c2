import { resolve } from 'node:path';

import type { CommandModule } from 'yargs';

import type { CommandContext, GlobalOptions } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { claimOptOutsFile, exportOptOuts } from '../optouts-run.js';
import { optOutsNotes } from '../render/optouts.js';
import { dbLocation } from '../runtime.js';

interface OptOutsArgs extends GlobalOptions {
  customer?: string;
  format: 'csv' | 'json';
  out?: string;
}

export function optoutsCommand(context: CommandContext): CommandModule<GlobalOptions, OptOutsArgs> {
  return {
    command: 'optouts',
    describe:
      'Export the current suppression list, with its evidence and coverage; exit 3 when the list is not whole (history not read: the list is written all the same)',
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
      if (outPath !== undefined) claimOptOutsFile(outPath);
      const location = dbLocation(args, context);
      const format = args.json ? 'json' : args.format;
      const end = await exportOptOuts(
        location,
        { customer: args.customer, format, outPath },
        context.output,
      );
      const given = { out: args.out, customer: args.customer, format };
      const failed = context.output.failure() !== undefined;
      for (const line of optOutsNotes(end, { ...given, failed })) context.output.err(line);
      // Written all the same, but not vouched for as whole (`optOutsNotes` says why).
      if (end.unread.length > 0) context.setExit(EXIT_CODES.failedSteps);
    },
  };
}
