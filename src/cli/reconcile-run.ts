/**
 * A reconcile pass from the command line: the report folders of every run that moved numbers
 * claimed before anything is read, the pass, then violations.csv and the report pages written
 * beside each run's reports (not into a folder whose apply is under way).
 */

import { join } from 'node:path';

import { runReport } from '../apply/reports.js';
import { reconciledRuns } from '../apply/run-status.js';
import { applyUnderWay } from '../apply/under-way.js';
import { systemClock } from '../clock.js';
import type { ApplyRun, LockHolder } from '../db/journal.js';
import { withDb, type DbLocation } from '../db/open.js';
import { reconcileTotals, type ReconcileTotals } from '../db/reconcile.js';
import { tellAfter } from '../errors.js';
import { runReconcile } from '../reconcile/run-reconcile.js';
import type { ReconcileResult } from '../reconcile/result.js';
import type { TwilioPort } from '../twilio/port.js';
import { claimReportFolder, reportOwner, writeReportFiles } from './reports.js';
import { NOTHING_APPLIED, thisProcess } from './runtime.js';

export interface ReconcileEnd {
  result: ReconcileResult;
  totals: ReconcileTotals;
  /** The folders whose reports were all written (absolute). */
  reports: string[];
  /** Why a folder's reports could not be written (the others' told after it), if any. */
  reportError: unknown;
  /** The folders left to their run's apply, which is under way. */
  underWay: {
    run: Pick<ApplyRun, 'id' | 'planPath' | 'optionsJson'>;
    holder: LockHolder;
    dir: string;
  }[];
}

/** Runs a pass reading from `since` (null: since the move, or the last pass), and its reports. */
export function reconcileWithReports(
  since: Date | null,
  location: DbLocation,
  twilio: TwilioPort,
  cwd: string,
): Promise<ReconcileEnd> {
  return withDb(
    location,
    async (db) => {
      // violations.csv beside the reports of every run that moved numbers (each its own
      // customers'), and their report pages refreshed: a folder it may not write into is
      // refused before anything is read.
      const folders = reconciledRuns(db).map((run) => ({
        run: run.id,
        planPath: run.planPath,
        optionsJson: run.optionsJson,
        dir: join(cwd, 'reports', String(run.id)),
        owner: reportOwner(db, run.id),
      }));
      for (const f of folders) claimReportFolder(f.dir, f.owner);
      const result = await runReconcile(
        { since },
        { twilio, db, clock: systemClock, runner: thisProcess },
      );
      // The pass is recorded by now: what it found is new only this once, so a report that
      // cannot be written is told after the pass's summary, not instead of it. One folder
      // that cannot be written does not keep the others' lists of this pass from being.
      const reports: string[] = [];
      const errors: unknown[] = [];
      // The folder of a run whose apply is under way is that apply's to write when it
      // ends, with this pass's violations (recorded by now).
      const underWay = folders.flatMap((f) => {
        const holder = applyUnderWay(db, f.run, thisProcess);
        return holder === undefined ? [] : [{ ...f, holder }];
      });
      for (const f of folders) {
        if (underWay.some((u) => u.run === f.run)) continue;
        try {
          writeReportFiles(f.dir, runReport(db, f.run, { runner: thisProcess }).files, f.owner);
          reports.push(f.dir);
        } catch (error) {
          errors.push(error);
        }
      }
      const [reportError, ...others] = errors;
      for (const other of others) {
        tellAfter(reportError, other instanceof Error ? other.message : String(other));
      }
      return {
        result,
        totals: reconcileTotals(db),
        reports,
        reportError,
        underWay: underWay.map((f) => ({
          run: { id: f.run, planPath: f.planPath, optionsJson: f.optionsJson },
          holder: f.holder,
          dir: f.dir,
        })),
      };
    },
    { mode: 'existing', missingAdvice: NOTHING_APPLIED },
  );
}
