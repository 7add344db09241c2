/**
 * A plan made from the command line: the mapping read and checked, the plan file's path
 * checked, the account read and the plan built, before anything is written.
 */

import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

import { systemClock } from '../clock.js';
import { withDb } from '../db/open.js';
import { UserError } from '../errors.js';
import { readNamedFile, refuseForeignFile, requireFolder } from '../files.js';
import { parseMapping, type Mapping } from '../plan/mapping.js';
import { defaultPlanPath, isPlanText } from '../plan/plan-file.js';
import { runPlan } from '../plan/run-plan.js';
import type { Plan } from '../plan/types.js';
import type { CommandContext, GlobalOptions } from './context.js';
import { connectTwilio, dbLocation, thisProcess } from './runtime.js';

/** What `plan` was asked for, as its flags say it. */
export interface PlanRequest extends GlobalOptions {
  mapping: string;
  out?: string;
  snapshot: boolean;
  'carry-optouts': boolean;
  concurrency: number;
  rate: number;
}

/** The mapping CSV `given` with --mapping (relative to `cwd`), read and checked. */
function readMappingFile(given: string, cwd: string): { mapping: Mapping; shown: string } {
  const { text, shown } = readNamedFile(given, cwd, (code, message) =>
    code === 'EISDIR'
      ? `--mapping ${given} is a folder, not a mapping CSV`
      : `--mapping ${given}: ${code === 'ENOENT' ? 'no such file' : message}`,
  );
  return { mapping: parseMapping(shown, text), shown };
}

/**
 * The mapping read and checked, the account read, the plan built: the mapping's rows and text
 * go out of scope with this function, before the plan file (the largest thing a plan writes)
 * is written, rather than being held through it.
 */
export async function makePlan(
  args: PlanRequest,
  context: CommandContext,
  batchSize: number,
  retentionDays: number | undefined,
): Promise<{ plan: Plan; outPath: string }> {
  // The whole mapping is checked before any database, request or file.
  const { mapping, shown } = readMappingFile(args.mapping, context.cwd);
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
  const twilio = await connectTwilio(args, context, {
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
