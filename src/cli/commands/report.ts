import { relative, resolve } from 'node:path';

import type { CommandModule } from 'yargs';

import { runNotFinishedWarning, runReport } from '../../apply/reports.js';
import { chooseRun } from '../../apply/run-status.js';
import { applyUnderWay, reportUnderWayRefusal } from '../../apply/under-way.js';
import { withDb } from '../../db/open.js';
import { RefusedError } from '../../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { reportOwner, writeReportFiles } from '../reports.js';
import { dbLocation, NOTHING_APPLIED, runOption, thisProcess } from '../runtime.js';

interface ReportArgs extends GlobalOptions {
  run?: number;
  out?: string;
}

export function reportCommand(context: CommandContext): CommandModule<GlobalOptions, ReportArgs> {
  return {
    command: 'report',
    describe:
      "Write an apply run's reports: report.html (one self-contained page), audit.csv/json, carry.csv, violations.csv, the suppression lists, coverage; exit 3 when the run has not finished (running or stopped)",
    builder: (y) =>
      y
        // It reads the database alone: --help leaves out --api-url, which it does not read.
        .hide('api-url')
        .option('run', runOption('The run (default: the latest that moved numbers)'))
        .option('out', { type: 'string', describe: 'Folder (default reports/<run id>)' }),
    handler: async (args) => {
      const written = await withDb(
        dbLocation(args, context),
        (db) => {
          const run = chooseRun(db, args.run, thisProcess);
          const dir = resolve(context.cwd, args.out ?? `reports/${run.id}`);
          // The run's own folder (--out naming it too) is its apply's while it runs.
          const own = dir === resolve(context.cwd, `reports/${run.id}`);
          const holder = own ? applyUnderWay(db, run.id, thisProcess) : undefined;
          if (holder !== undefined) {
            const shown = relative(context.cwd, dir) || dir;
            throw new RefusedError(reportUnderWayRefusal(run, holder, shown, thisProcess, args.db));
          }
          const report = runReport(db, run.id, { runner: thisProcess });
          // Written elsewhere (--out) while its apply runs, or after it stopped, the reports are
          // the run part way: said beside them, and not a success, so no one files them as its
          // result.
          const notFinished = runNotFinishedWarning(db, run, report.status, thisProcess, args.db);
          return {
            run: run.id,
            status: report.status,
            notFinished,
            files: writeReportFiles(
              dir,
              report.files,
              reportOwner(db, run.id),
              args.out === undefined ? 'report' : '--out',
            ),
            listWarnings: report.listWarnings,
          };
        },
        { mode: 'existing', missingAdvice: NOTHING_APPLIED },
      );
      const shown = written.files.map((file) => relative(context.cwd, file) || file);
      const { run, status, notFinished, listWarnings } = written;
      if (args.json) {
        context.output.out(JSON.stringify({ run, status, files: shown, listWarnings }));
      } else {
        context.output.lines([`reports of apply run ${run}:`, ...shown.map((f) => `  ${f}`)]);
        for (const warning of listWarnings) context.output.err(`warning: ${warning}`);
      }
      if (notFinished !== null) {
        context.output.err(`warning: ${notFinished}`);
        context.setExit(EXIT_CODES.failedSteps);
      }
    },
  };
}
