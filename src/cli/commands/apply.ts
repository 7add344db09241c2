import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { CommandModule } from 'yargs';

import { runReport } from '../../apply/reports.js';
import {
  rehearseApply,
  runApply,
  type ApplyInput,
  type ApplyResult,
  type StepFailure,
} from '../../apply/run-apply.js';
import { fallbackAdvice, lostFallbackCheck, shownCheck } from '../../apply/routes-check.js';
import { systemClock } from '../../clock.js';
import { findRunByPlan } from '../../db/journal.js';
import { withDb } from '../../db/open.js';
import { UserError } from '../../errors.js';
import { readSealedPlan } from '../../plan/plan-file.js';
import { shellWord } from '../../plan/replan.js';
import { describeFallback, describeRoute } from '../../plan/routes.js';
import { DEFAULT_CONSENT_PER_MINUTE } from '../../twilio/limiter.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { createProgressBar } from '../progress.js';
import { claimReportFolder, reportOwner, writeReportFiles } from '../reports.js';
import { whenInterrupted } from '../interrupt.js';
import { connectTwilio, dbLocation, thisProcess } from '../runtime.js';

interface ApplyArgs extends GlobalOptions {
  plan: string;
  concurrency: number;
  rate: number;
  'consent-rate': number;
  'dry-run': boolean;
  'allow-missing-snapshot': boolean;
  'take-over-lock': boolean;
}

/**
 * `failed: STEP: ERROR`, then whose step it was (a number's step id names only its PN… SID),
 * and what lifts a limit of Twilio's that refused it.
 */
function failedLine(f: StepFailure): string {
  const whose = [
    ...(f.phone_number === null ? [] : [`number ${f.phone_number}`]),
    ...(f.customer_id === null ? [] : [`customer ${f.customer_id}`]),
  ];
  const advice = f.advice === null ? '' : `: ${f.advice}`;
  return `failed: ${f.step}: ${f.error}${whose.length === 0 ? '' : ` (${whose.join(', ')})`}${advice}`;
}

export function applyCommand(context: CommandContext): CommandModule<GlobalOptions, ApplyArgs> {
  return {
    command: 'apply <plan>',
    describe:
      'Execute a plan: journaled, rate-limited, resumable. Exit 3 when a step failed, a create took effect twice, another apply of the plan (from another database) also created a subaccount for a customer, an inbound route was lost or the history up to the moves could not be read (the suppression lists are then not whole), 4 when refused (stale plan, lock held, opt-outs not snapshotted or not carried)',
    builder: (y) =>
      y
        .positional('plan', { type: 'string', demandOption: true, describe: 'The plan file' })
        .option('concurrency', {
          type: 'number',
          default: 4,
          describe: 'Requests in flight (1–64)',
        })
        .option('rate', {
          type: 'number',
          default: 10,
          describe: 'Requests started per second (0 = no cap)',
        })
        .option('consent-rate', {
          type: 'number',
          default: DEFAULT_CONSENT_PER_MINUTE,
          describe: "Consent Management API requests started per minute (Twilio's limit: 100)",
        })
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe:
            'Refuse where apply would before it reads the account, then print every request it would send, in order, and send none (not even a read)',
        })
        .option('allow-missing-snapshot', {
          type: 'boolean',
          default: false,
          describe:
            'Move numbers whose opt-outs no completed snapshot covers (recorded in the audit)',
        })
        .option('take-over-lock', {
          type: 'boolean',
          default: false,
          describe:
            'Take over the apply lock of a process on another machine (or container) that no longer runs (noted in the audit)',
        }),
    handler: async (args) => {
      const path = resolve(context.cwd, args.plan);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new UserError(
          code === 'ENOENT'
            ? `${args.plan}: no such plan file`
            : code === 'EISDIR'
              ? `${args.plan} is a folder, not a plan file`
              : `${args.plan}: cannot read the plan file (${(error as Error).message})`,
        );
      }
      const shown = relative(context.cwd, path) || path;
      const { plan, integrity } = readSealedPlan(shown, text, 'apply');
      const location = dbLocation(args, context);

      const twilio = connectTwilio(args, context, {
        concurrency: args.concurrency,
        ratePerSecond: args.rate,
        consentPerMinute: args['consent-rate'],
      });
      const input: ApplyInput = {
        plan,
        planPath: shown,
        planIntegrity: integrity,
        planText: text,
        concurrency: args.concurrency,
        rate: args.rate,
        consentRate: args['consent-rate'],
        allowMissingSnapshot: args['allow-missing-snapshot'],
        takeOverLock: args['take-over-lock'],
        credentials: twilio.credentialsKind,
        replan: { out: path, db: location.path },
      };
      const openExisting = {
        mode: 'existing',
        missingAdvice: 'Run `submigrate plan` first (it fills the ledger).',
      } as const;

      if (args['dry-run']) {
        const lines = await withDb(
          location,
          (db) =>
            rehearseApply(input, {
              twilio: twilio.port,
              db,
              clock: systemClock,
              runner: thisProcess,
            }),
          openExisting,
        );
        if (args.json) {
          // The same lines: `requests` in the order they would be sent, `notes` the rest.
          const notes = lines.filter((line) => line.startsWith('#'));
          const requests = lines.filter((line) => !line.startsWith('#'));
          context.output.out(JSON.stringify({ requests, notes }, null, 2));
        } else context.output.lines(lines);
        return;
      }

      const bar = createProgressBar('apply |{bar}| {value}/{total} steps · {failed} failed');
      let finished = 0;
      let failed = 0;
      let result: ApplyResult | undefined;
      let reportDir: string | undefined;
      // What the reports cannot vouch for, told beside them (none when not written).
      let listWarnings: string[] = [];
      // Stopped part way (Ctrl-C, kill, the terminal closed): the process ends at once, and
      // says what it leaves behind and what to run next.
      const dbShown = relative(context.cwd, location.path) || location.path;
      // The override the run began with, else the continuation is refused by the opt-out gate.
      const override = args['allow-missing-snapshot'] ? ['--allow-missing-snapshot'] : [];
      // Quoted as a shell reads them back: a path with a space printed a command that did not run.
      const command = (...words: string[]) => words.map(shellWord).join(' ');
      const continues = command('submigrate', 'apply', shown, '--db', dbShown, ...override);
      const released = whenInterrupted((signal) =>
        context.output.err(
          `apply: stopped by ${signal}. Every step sent so far is in the journal: \`${continues}\` continues the run (a step left in flight is settled from Twilio's state first, never sent blind again); \`${command('submigrate', 'status', '--db', dbShown)}\` shows where it stopped.`,
        ),
      );
      try {
        await withDb(
          location,
          async (db) => {
            result = await runApply(input, {
              twilio: twilio.port,
              db,
              clock: systemClock,
              runner: thisProcess,
              sleep: (ms) => sleep(ms),
              // Its reports' folder is checked before anything is sent to Twilio.
              beforeSteps: (runId) =>
                claimReportFolder(
                  join(context.cwd, 'reports', String(runId)),
                  reportOwner(db, runId),
                ),
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
          openExisting,
        );
      } finally {
        bar.stop();
        released();
      }
      const { reportsError, ...done } = result!;
      // A folder whose reports were not all written is not named as holding them.
      const shownDir =
        reportsError === undefined ? relative(context.cwd, reportDir!) || reportDir! : undefined;
      if (args.json) {
        // Webhook URLs without their passwords, as in the text.
        const routes = done.routes.map(shownCheck);
        const routeFailures = done.routeFailures.map(shownCheck);
        context.output.out(
          JSON.stringify(
            { ...done, routes, routeFailures, reports: shownDir, listWarnings },
            null,
            2,
          ),
        );
      } else {
        const c = done.counts;
        for (const note of done.notes) context.output.err(`note: ${note}`);
        for (const f of done.failures) context.output.err(failedLine(f));
        for (const warning of listWarnings) context.output.err(`warning: ${warning}`);
        for (const r of done.routeFailures) {
          context.output.err(
            `inbound route lost: ${r.phoneNumber} (${r.customerId}): ${describeRoute(r.before)} -> ${r.after === null ? 'not in its subaccount' : describeRoute(r.after)}`,
          );
        }
        const fallbacks = done.routes.filter(lostFallbackCheck);
        for (const r of fallbacks) {
          context.output.err(
            `inbound fallback ${r.fallback!.verdict}: ${r.phoneNumber} (${r.customerId}): ${describeRoute(r.after!)}: was ${describeFallback(r.fallback!.before)}, now ${describeFallback(r.fallback!.after)}`,
          );
        }
        context.output.out(
          `apply run ${done.runId}${done.resumed ? ' (continued)' : ''}: ${plan.steps.length} steps: ${c.done} done, ${c.skipped} skipped, ${c.failed} failed, ${c.not_run} not run. ` +
            `Inbound routes: ${done.routes.length - done.routeFailures.length} of ${done.routes.length} moved numbers reach where they did. ` +
            (fallbacks.length === 0
              ? ''
              : `${fallbackAdvice(fallbacks.map((r) => r.phoneNumber))} `) +
            `${done.status === 'completed' ? 'Completed.' : 'Not complete: fix what failed, then run apply again (or `submigrate routes`).'}` +
            // The moves stand, but the lists cannot be vouched for: the note says what to run.
            `${done.ledgerUnread === undefined ? '' : ' The suppression lists are not whole: the history up to the moves was not read (see the note).'}` +
            `${shownDir === undefined ? '' : ` Reports: ${shownDir}/`}`,
        );
      }
      if (done.status !== 'completed' || done.ledgerUnread !== undefined) {
        context.setExit(EXIT_CODES.failedSteps);
      }
      // What the run did is told first; then why its reports are missing.
      if (reportsError !== undefined) throw reportsError;
    },
  };
}
