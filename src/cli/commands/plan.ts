import { relative } from 'node:path';

import type { CommandModule } from 'yargs';

import { UserError } from '../../errors.js';
import { DEFAULT_RETENTION_DAYS, validateRetentionDays } from '../../optouts/snapshot.js';
import { CARRY_BATCH_SIZE } from '../../plan/carry.js';
import { writePlan } from '../../plan/plan-file.js';
import { renderPlan } from '../../plan/render.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { makePlan, type PlanRequest } from '../make-plan.js';
import { writePlanFile } from '../plan-file.js';
import { requireWholeNumber } from '../runtime.js';
import { planStoppedNotice, tellWhenStopped } from '../stopped.js';

interface PlanArgs extends PlanRequest {
  'detailed-exitcode': boolean;
  'carry-batch-size': number;
  'retention-days'?: number;
}

export function planCommand(context: CommandContext): CommandModule<GlobalOptions, PlanArgs> {
  return {
    command: 'plan',
    describe:
      'Refresh the opt-out ledger, read the account (read-only) and write a reviewable plan. Exit 2 with --detailed-exitcode when there are changes',
    builder: (y) =>
      y
        .option('mapping', { type: 'string', demandOption: true, describe: 'The mapping CSV' })
        .option('out', {
          type: 'string',
          describe: 'Plan file (default plans/<mapping name>.plan.json)',
        })
        .option('snapshot', {
          type: 'boolean',
          default: true,
          describe: 'Bring the opt-out ledger up to date first (--no-snapshot skips it)',
        })
        .option('carry-optouts', {
          type: 'boolean',
          default: false,
          describe:
            "Also write each customer's opt-outs into its subaccount through Twilio's Consent Management API, so that Twilio itself refuses a send to them",
        })
        .option('carry-batch-size', {
          type: 'number',
          default: CARRY_BATCH_SIZE,
          describe: `Opt-outs per Consent API request, with --carry-optouts (1 to ${CARRY_BATCH_SIZE})`,
        })
        .option('retention-days', {
          type: 'number',
          describe: `How many days back the Messages API shows records, for the refresh (7-400); remembered for the account. Default: the last given for the account, else Twilio's default ${DEFAULT_RETENTION_DAYS}`,
        })
        .option('detailed-exitcode', {
          type: 'boolean',
          default: false,
          describe: 'Exit 2 when the plan has changes, 0 when it has none',
        })
        .option('concurrency', {
          type: 'number',
          default: 8,
          describe: 'Requests in flight (1–64)',
        })
        .option('rate', {
          type: 'number',
          default: 0,
          describe: 'Requests per second (0 = no cap)',
        }),
    handler: async (args) => {
      const batchSize = args['carry-batch-size'];
      requireWholeNumber('carry-batch-size', batchSize, {
        min: 1,
        max: CARRY_BATCH_SIZE,
        why: "Twilio's Consent API refuses a request of more records",
      });
      const retentionDays = args['retention-days'];
      if (retentionDays !== undefined) {
        if (!args.snapshot) {
          throw new UserError(
            '--retention-days is for the refresh of the opt-out ledger, which --no-snapshot skips',
          );
        }
        validateRetentionDays(retentionDays);
      }
      // A kill ends plan at once, as every command; the user is told what it leaves.
      const released = tellWhenStopped(context.output, planStoppedNotice);
      const { plan, outPath } = await makePlan(args, context, batchSize, retentionDays);
      const integrity = writePlanFile(plan, outPath, args.out === undefined);
      released();
      if (args.json) writePlan(plan, (chunk) => context.output.write(chunk));
      else {
        context.output.lines(renderPlan(plan));
        context.output.out(
          `\nPlan file: ${relative(context.cwd, outPath) || outPath} (integrity ${integrity.slice(0, 19)}…)`,
        );
      }
      if (args['detailed-exitcode'] && plan.steps.length > 0) context.setExit(EXIT_CODES.changes);
    },
  };
}
