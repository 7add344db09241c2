import { chmodSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

import type { CommandModule } from 'yargs';

import { withDb } from '../../db/open.js';
import { UserError } from '../../errors.js';
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
      if (args.customer !== undefined) {
        throw new UserError(
          '--customer needs a mapping of customers to numbers, which `submigrate plan --mapping FILE` records; no mapping has been planned yet.',
        );
      }
      const result = await withDb(dbLocation(args, context), exportOptOuts);
      const format = args.json ? 'json' : args.format;
      const text =
        format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : optOutsCsv(result.optouts);
      if (args.out !== undefined) {
        const path = resolve(context.cwd, args.out);
        writeFileSync(path, text, { mode: 0o600 });
        // `mode` only applies when the file is created; an existing file is tightened too.
        chmodSync(path, 0o600);
        context.output.err(`wrote ${result.optouts.length} opted-out pairs to ${args.out}`);
      } else {
        context.output.out(text);
      }
      if (format === 'csv')
        for (const line of describeCoverage(result.coverage)) context.output.err(line);
    },
  };
}
