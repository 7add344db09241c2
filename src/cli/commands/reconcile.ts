import { join, relative } from 'node:path';

import type { CommandModule } from 'yargs';

import {
  applyUnderWay,
  reconciledRuns,
  reconcileUnderWayNote,
  runReport,
} from '../../apply/reports.js';
import { systemClock } from '../../clock.js';
import { withDb } from '../../db/open.js';
import { reconcileTotals } from '../../db/reconcile.js';
import { tellAfter } from '../../errors.js';
import { MISSED_BY_OLDER_RULES } from '../../optouts/export.js';
import { shellWord } from '../../plan/replan.js';
import { failsOnViolation, runReconcile, type Unread } from '../../reconcile/run-reconcile.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { whenInterrupted } from '../interrupt.js';
import { claimReportFolder, reportOwner, writeReportFiles } from '../reports.js';
import {
  connectTwilio,
  dbLocation,
  NOTHING_APPLIED,
  parseInstant,
  thisProcess,
} from '../runtime.js';

interface ReconcileArgs extends GlobalOptions {
  since?: string;
  'fail-on-violation': boolean;
}

export function reconcileCommand(
  context: CommandContext,
): CommandModule<GlobalOptions, ReconcileArgs> {
  return {
    command: 'reconcile',
    describe:
      "Scan the migrated subaccounts' messages since the move for sends to people who had opted out; exit 3 with --fail-on-violation when there are any, or while a span since the move is unread (a --since pass skipped it, or only an older submigrate's pass read it)",
    builder: (y) =>
      y
        .option('since', {
          type: 'string',
          describe:
            'Read from here (date or ISO datetime); default: since the move, or the last pass',
        })
        .option('fail-on-violation', {
          type: 'boolean',
          default: false,
          describe:
            "Exit 3 when any violation is known, while a send is pending or a span since the move is unread, when one was never checked (older than the Messages API window, or in a subaccount a number has left since), or while a moved customer's list is not whole (history no snapshot read)",
        }),
    handler: async (args) => {
      const since = parseInstant('since', args.since);
      const twilio = connectTwilio(args, context);
      // Stopped part way (Ctrl-C, kill, the terminal closed), the process ends at once: a pass
      // is recorded, and its reports written, in one go after its last read, so a stopped one
      // left nothing, which ended silently. It says so, and what runs it again.
      const location = dbLocation(args, context);
      const dbShown = relative(context.cwd, location.path) || location.path;
      const again = ['submigrate', 'reconcile', '--db', dbShown]
        .concat(args.since === undefined ? [] : ['--since', args.since])
        .map(shellWord)
        .join(' ');
      const released = whenInterrupted((signal) =>
        context.output.err(
          `reconcile: stopped by ${signal} before it recorded this pass: nothing it read was judged or kept, and no report was written. \`${again}\` runs the pass again.`,
        ),
      );
      const { result, totals, reports, reportError, underWay } = await withDb(
        location,
        async (db) => {
          // violations.csv beside the reports of every run that moved numbers (each its own
          // customers'), and their report pages refreshed: a folder it may not write into is
          // refused before anything is read.
          const folders = reconciledRuns(db).map((run) => ({
            run: run.id,
            planPath: run.planPath,
            dir: join(context.cwd, 'reports', String(run.id)),
            owner: reportOwner(db, run.id),
          }));
          for (const f of folders) claimReportFolder(f.dir, f.owner);
          const result = await runReconcile(
            { since },
            { twilio: twilio.port, db, clock: systemClock, runner: thisProcess },
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
              run: { id: f.run, planPath: f.planPath },
              holder: f.holder,
              dir: f.dir,
            })),
          };
        },
        { mode: 'existing', missingAdvice: NOTHING_APPLIED },
      ).finally(released);
      // Only the folders whose reports were all written are named as holding them.
      const shown = reports.map((dir) => relative(context.cwd, dir) || dir);
      if (args.json) {
        context.output.out(
          JSON.stringify(
            {
              ...result,
              violations: totals.violations,
              blocked: totals.blocked,
              // The latest run's folder, as before; every folder written in reportFolders.
              reports: shown[shown.length - 1],
              reportFolders: shown,
            },
            null,
            2,
          ),
        );
      } else {
        context.output.out(
          `reconcile pass ${result.passId}: ${result.subaccounts} subaccount(s), ${result.messagesRead.toLocaleString('en-US')} messages read, ` +
            `${result.sendsChecked.toLocaleString('en-US')} sends from moved numbers checked: ${result.newViolations} new violation(s), ${result.newBlocked} new send(s) blocked by Twilio. ` +
            `In all: ${totals.violations} violation(s), ${totals.blocked} blocked. ${shown.map((dir) => `${dir}/violations.csv`).join(', ')}`,
        );
      }
      for (const { run, holder, dir } of underWay) {
        const shown = relative(context.cwd, dir) || dir;
        context.output.err(reconcileUnderWayNote(run, holder, shown, thisProcess, args.db));
      }
      if (result.pending > 0) {
        context.output.err(
          `pending: ${result.pending} send(s) to a listed recipient after a span no pass read yet (${unreadWhy(result.unread)}), ${result.pendingFromEarlierPasses} of them kept from earlier passes: none is judged yet; the next pass that reads the span judges them (run \`submigrate reconcile\` without --since)`,
        );
      }
      for (const span of result.notChecked) {
        context.output.err(
          span.reason === 'retention'
            ? `not checked: ${span.accountSid} from ${span.start} to ${span.end}, after the move but older than its Messages API window: no pass read its sends, which were held to no list`
            : `not checked: ${span.accountSid} from ${span.start} to ${span.end}, while a moved number was in it that a later apply has moved on since: no pass held its sends there to its list while it was there, and none will`,
        );
      }
      for (const span of result.unread) {
        context.output.err(
          `not read yet: ${span.accountSid} from ${span.start} to ${span.end} (${unreadWhy([span])}): its sends, and the ones after it that an opt-in there could lift, are judged by the next pass without --since`,
        );
      }
      if (result.notWhole !== null) {
        const { customerIds, since: movedSince } = result.notWhole;
        context.output.err(
          `not whole: the suppression lists of ${customerIds.length} customer(s) (${customerIds.join(', ')}) miss the opt-outs said in history no snapshot read (\`submigrate optouts --customer ID\` names the spans): a send to someone who opted out there was held to no list and is not judged. Run \`submigrate snapshot\` (with --account for a subaccount), then \`submigrate reconcile --since ${movedSince}\`, which reads their sends again.`,
        );
      }
      if (args['fail-on-violation'] && failsOnViolation(result, totals.violations))
        context.setExit(EXIT_CODES.failedSteps);
      if (reportError !== undefined) throw reportError;
    },
  };
}

/** Why spans since the move count as not read yet, as the lines on stderr say it. */
function unreadWhy(spans: readonly Unread[]): string {
  const reasons = new Set(spans.map((span) => span.reason));
  return [
    reasons.has('skipped') ? '--since skipped it' : [],
    reasons.has('older-rules')
      ? `an older submigrate read it, whose keyword rules missed some opt-outs (${MISSED_BY_OLDER_RULES}): it no longer counts as read`
      : [],
  ]
    .flat()
    .join('; or ');
}
