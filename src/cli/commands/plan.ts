import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

import type { CommandModule } from 'yargs';

import { systemClock } from '../../clock.js';
import { withDb } from '../../db/open.js';
import { UserError } from '../../errors.js';
import { makeFolder, refuseForeignFile, requireFolder, writePrivateFile } from '../../files.js';
import { DEFAULT_RETENTION_DAYS, validateRetentionDays } from '../../optouts/snapshot.js';
import { CARRY_BATCH_SIZE } from '../../plan/carry.js';
import { parseMapping } from '../../plan/mapping.js';
import { defaultPlanPath, isPlanText, writePlan } from '../../plan/plan-file.js';
import { renderPlan } from '../../plan/render.js';
import { runPlan } from '../../plan/run-plan.js';
import type { Plan } from '../../plan/types.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { whenInterrupted } from '../interrupt.js';
import { connectTwilio, dbLocation, requireWholeNumber, thisProcess } from '../runtime.js';

interface PlanArgs extends GlobalOptions {
  mapping: string;
  out?: string;
  snapshot: boolean;
  'detailed-exitcode': boolean;
  'carry-optouts': boolean;
  'carry-batch-size': number;
  'retention-days'?: number;
  concurrency: number;
  rate: number;
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
      const released = whenInterrupted((signal) =>
        context.output.err(
          `plan: stopped by ${signal} before it wrote its plan file: it sends Twilio only reads, so nothing was changed there, and no plan file was written. Run the same command again to make the plan.`,
        ),
      );
      const { plan, outPath } = await makePlan(args, context, batchSize, retentionDays);
      // Private, as the reports' folders are: the plans in it list every customer's numbers.
      if (args.out === undefined) makeFolder(dirname(outPath), 'the plan file');
      // Reading the account takes minutes: a file that appeared at the path meanwhile is not
      // the tool's to replace either.
      refuseForeignFile(outPath, '--out', 'a plan file', isPlanText);
      let integrity = '';
      writePrivateFile(outPath, (write) => {
        integrity = writePlan(plan, write);
      });
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

/**
 * The mapping read and checked, the account read, the plan built: the mapping's rows and text
 * go out of scope with this function, before the plan file (the largest thing a plan writes)
 * is written, rather than being held through it.
 */
async function makePlan(
  args: PlanArgs,
  context: CommandContext,
  batchSize: number,
  retentionDays: number | undefined,
): Promise<{ plan: Plan; outPath: string }> {
  const mappingPath = resolve(context.cwd, args.mapping);
  let text: string;
  try {
    text = readFileSync(mappingPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'EISDIR'
        ? `--mapping ${args.mapping} is a folder, not a mapping CSV`
        : `--mapping ${args.mapping}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  // The whole mapping is checked before any database, request or file.
  const shown = relative(context.cwd, mappingPath) || mappingPath;
  const mapping = parseMapping(shown, text);
  const outPath = resolve(
    context.cwd,
    args.out ?? defaultPlanPath(shown, resolve(context.cwd, 'plans')),
  );
  refuseForeignFile(outPath, '--out', 'a plan file', isPlanText);
  const location = dbLocation(args, context);
  // Not there yet, the database would be made at that path by this very plan, and replaced
  // by the plan file at its end.
  if (outPath === location.path) {
    throw new UserError(
      `--out ${relative(context.cwd, outPath) || outPath} is the database (--db); name another file.`,
    );
  }
  // A folder that is not there is found now, not after the account has been read (and the
  // mapping recorded) for a plan that could not be written. The default one is made, but a
  // file in its place is found now too.
  if (args.out !== undefined) requireFolder(outPath, '--out');
  else if (existsSync(dirname(outPath))) requireFolder(outPath, 'the plan file');
  const twilio = connectTwilio(args, context, {
    concurrency: args.concurrency,
    ratePerSecond: args.rate,
  });
  const { plan } = await withDb(location, (db) =>
    runPlan(
      {
        mapping,
        snapshot: args.snapshot,
        credentials: twilio.credentialsKind,
        carry: args['carry-optouts'] ? { batchSize } : null,
        retentionDays,
        dbPath: location.path,
      },
      {
        twilio: twilio.port,
        db,
        clock: systemClock,
        runner: thisProcess,
        onSnapshotNotice: (text) => context.output.err(`plan: snapshot ${text}`),
      },
    ),
  );
  return { plan, outPath };
}
