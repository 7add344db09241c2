import { relative } from 'node:path';

import type { CommandModule } from 'yargs';

import type { ApplyDeps, ApplyInput } from '../../apply/apply-types.js';
import { DEFAULT_CONSENT_PER_MINUTE } from '../../twilio/limiter.js';
import { applyWithReports, rehearseApplyAt } from '../apply-run.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { readPlanFile } from '../plan-file.js';
import { applyResultJson, rehearsalJson, renderApplyResult } from '../render/apply.js';
import { connectTwilio, dbLocation } from '../runtime.js';
import { applyStoppedNotice, tellWhenStopped } from '../stopped.js';

interface ApplyArgs extends GlobalOptions {
  plan: string;
  concurrency: number;
  rate: number;
  'consent-rate': number;
  'dry-run': boolean;
  'allow-missing-snapshot': boolean;
  'take-over-lock': boolean;
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
            'Take over the apply lock of a process on another machine (or container) that no longer runs (noted in the audit); refused while that apply renewed the lock within the last 30 s (a running apply renews it every 5 s), and, before it is taken over, the lock is watched for 11 s: renewed meanwhile (its clock behind this one), it is refused too',
        }),
    handler: async (args) => {
      const { plan, integrity, text, path, shown } = readPlanFile(args.plan, context.cwd);
      const location = dbLocation(args, context);

      const twilio = await connectTwilio(args, context, {
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

      if (args['dry-run']) {
        const lines = await rehearseApplyAt(input, location, twilio.port, context);
        if (args.json) context.output.out(rehearsalJson(lines));
        else context.output.lines(lines);
        return;
      }

      // Stopped part way (Ctrl-C, kill, the terminal closed): the process ends at once, and
      // says what it leaves behind and what to run next.
      const dbShown = relative(context.cwd, location.path) || location.path;
      const notice = applyStoppedNotice(shown, dbShown, args['allow-missing-snapshot']);
      let runBegun = false;
      let lock: Parameters<NonNullable<ApplyDeps['onLockTaken']>>[0] | undefined;
      // Another machine's lock that --take-over-lock watches before taking it, if any.
      let watching: { pid: number; hostname: string } | null = null;
      const released = tellWhenStopped(context.output, (signal) =>
        runBegun
          ? notice(signal, undefined, lostTo(lock))
          : notice(signal, {
              continues: lock?.continues ?? null,
              givenBack: lock?.giveBack() ?? null,
              watching: lock === undefined ? watching : null,
            }),
      );
      // Asked as the process stops: another apply that took the lock over (whose run it is).
      const lostTo = (taken: typeof lock) => {
        try {
          return taken?.lostTo() ?? null;
        } catch {
          return null; // the database unreadable as it stops: told as if still held
        }
      };
      const { result, reportDir, listWarnings } = await applyWithReports(
        input,
        location,
        twilio.port,
        context,
        () => (runBegun = true),
        (taken) => (lock = taken),
        (holder) => (watching = holder),
      ).finally(released);
      const { reportsError, ...done } = result;
      // A folder whose reports were not all written is not named as holding them.
      const shownDir =
        reportsError === undefined ? relative(context.cwd, reportDir!) || reportDir! : undefined;
      const end = { done, planSteps: plan.steps.length, listWarnings, shownDir };
      if (args.json) context.output.out(applyResultJson(end));
      else {
        const { out, err } = renderApplyResult(end);
        for (const line of err) context.output.err(line);
        for (const line of out) context.output.out(line);
      }
      if (done.status !== 'completed' || done.ledgerUnread !== undefined) {
        context.setExit(EXIT_CODES.failedSteps);
      }
      // What the run did is told first; then why its reports are missing.
      if (reportsError !== undefined) throw reportsError;
    },
  };
}
