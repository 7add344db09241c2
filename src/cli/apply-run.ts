/**
 * An apply run as the terminal sees it: a progress bar, a note said as it happens when a send
 * got no certain answer, and its reports written at the end of every run that started.
 */

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { runReport } from '../apply/reports.js';
import type { ApplyDeps, ApplyInput, ApplyResult } from '../apply/apply-types.js';
import { rehearseApply, runApply } from '../apply/run-apply.js';
import { systemClock } from '../clock.js';
import { findRunByPlan } from '../db/journal.js';
import { withDb, type DbLocation } from '../db/open.js';
import type { TwilioPort } from '../twilio/port.js';
import type { CommandContext } from './context.js';
import { createProgressBar } from './progress.js';
import { claimReportFolder, reportOwner, writeReportFiles } from './reports.js';
import { thisProcess } from './runtime.js';

/** How `apply` opens its database: the ledger `plan` filled must be there. */
const OPEN_FOR_APPLY = {
  mode: 'existing',
  // plan's refresh reads the Messages API's window only: a plan made on a new database is
  // refused by apply's opt-out gate for the history before it, which `snapshot` reads.
  missingAdvice:
    'Name the database the plan was made with (--db), or run `submigrate snapshot` and then `submigrate plan` first.',
} as const;

/** `--dry-run`: the requests apply would send, in order, and its notes; none is sent. */
export function rehearseApplyAt(
  input: ApplyInput,
  location: DbLocation,
  twilio: TwilioPort,
  context: CommandContext,
): Promise<string[]> {
  return withDb(
    location,
    (db) =>
      rehearseApply(input, {
        twilio,
        db,
        clock: systemClock,
        runner: thisProcess,
        sleep: (ms) => sleep(ms),
        onWatchingLock: (line) => context.output.err(`note: ${line}`),
      }),
    OPEN_FOR_APPLY,
  );
}

export interface ApplyRunEnd {
  result: ApplyResult;
  /** The run's reports' folder (absolute), when a run started. */
  reportDir: string | undefined;
  /** What the reports cannot vouch for, told beside them (none when not written). */
  listWarnings: string[];
}

/** Runs the apply of `input` with its progress on stderr, and writes its reports. */
export async function applyWithReports(
  input: ApplyInput,
  location: DbLocation,
  twilio: TwilioPort,
  context: CommandContext,
  /** Called once the checks have passed and the run is begun (or taken up), before any step. */
  onRunBegun: () => void = () => {},
  /** Called once the lock is taken: what gives back another machine's lock taken over. */
  onLockTaken: ApplyDeps['onLockTaken'] = () => {},
  /** Called as --take-over-lock begins to watch another machine's lock, whose it is. */
  onWatchingLock: (holder: { pid: number; hostname: string }) => void = () => {},
): Promise<ApplyRunEnd> {
  const { plan, planIntegrity: integrity } = input;
  const bar = createProgressBar('apply |{bar}| {value}/{total} steps · {failed} failed');
  let finished = 0;
  let failed = 0;
  let result: ApplyResult | undefined;
  let reportDir: string | undefined;
  let listWarnings: string[] = [];
  try {
    await withDb(
      location,
      async (db) => {
        result = await runApply(input, {
          twilio,
          db,
          clock: systemClock,
          runner: thisProcess,
          sleep: (ms) => sleep(ms),
          onWatchingLock: (line, holder) => {
            context.output.err(`note: ${line}`);
            onWatchingLock(holder);
          },
          onLockTaken,
          // Its reports' folder is checked before anything is sent to Twilio.
          beforeSteps: (runId) => {
            onRunBegun();
            claimReportFolder(join(context.cwd, 'reports', String(runId)), reportOwner(db, runId));
          },
          // Said as it happens: each unanswered send can wait out the request timeout.
          onUnsure: (step, sends, most, error) => {
            bar.clear();
            context.output.err(
              `note: ${step.id}: send ${sends} of at most ${most} got no certain answer (${error}); reading Twilio's state to see whether it took effect before sending it again`,
            );
          },
          onStep: (_, record, total) => {
            if (['done', 'skipped', 'failed', 'not_run'].includes(record.state)) finished++;
            if (record.state === 'failed') failed++;
            bar.update(finished, total, { failed });
          },
          // Reports at the end of every run that started, complete or not.
          afterRun: () => {
            const run = findRunByPlan(db, integrity);
            if (run !== undefined) {
              reportDir = join(context.cwd, 'reports', String(run.id));
              // A run still `running` here has stopped: this apply ends with an error.
              const report = runReport(db, run.id, {
                sealed: { plan, integrity },
                runner: thisProcess,
              });
              listWarnings = report.listWarnings;
              writeReportFiles(reportDir, report.files, reportOwner(db, run.id));
            }
          },
        });
      },
      OPEN_FOR_APPLY,
    );
  } finally {
    bar.stop();
  }
  return { result: result!, reportDir, listWarnings };
}
