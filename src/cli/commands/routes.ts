import type { CommandModule } from 'yargs';

import { recheckRoutes } from '../../apply/routes-command.js';
import {
  failedCheck,
  fallbackAdvice,
  lostFallbackCheck,
  shownCheck,
} from '../../apply/routes-check.js';
import { systemClock } from '../../clock.js';
import { withDb } from '../../db/open.js';
import { describeFallbackCheck, describeRoute } from '../../plan/routes.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { connectTwilio, dbLocation, NOTHING_APPLIED, runOption, thisProcess } from '../runtime.js';

interface RoutesArgs extends GlobalOptions {
  run?: number;
}

export function routesCommand(context: CommandContext): CommandModule<GlobalOptions, RoutesArgs> {
  return {
    command: 'routes',
    describe:
      "Where inbound messages to an apply run's moved numbers go now, beside where they went before the move; exit 3 when any is dropped or diverted, or a number is no longer in its subaccount (moved out by hand)",
    builder: (y) => y.option('run', runOption('The run (default: the latest that moved numbers)')),
    handler: async (args) => {
      const twilio = await connectTwilio(args, context);
      const { runId, checks, notFinished } = await withDb(
        dbLocation(args, context),
        (db) =>
          recheckRoutes(db, args.run, {
            twilio: twilio.port,
            clock: systemClock,
            runner: thisProcess,
            dbShown: args.db,
          }),
        { mode: 'existing', missingAdvice: NOTHING_APPLIED },
      );
      const failed = checks.filter(failedCheck);
      const fallbacks = checks.filter(lostFallbackCheck);
      if (args.json) {
        // Webhook URLs without their passwords, as in the text.
        const shown = checks.map(shownCheck);
        context.output.out(
          JSON.stringify(
            {
              run: runId,
              checks: shown,
              failed: failed.length,
              fallbackLost: fallbacks.length,
              movesNotFinished: notFinished?.numbers ?? [],
            },
            null,
            2,
          ),
        );
      } else {
        const partWay = new Set(notFinished?.numbers ?? []);
        context.output.lines(
          checks.map(
            (c) =>
              `${failedCheck(c) ? 'LOST' : 'ok  '}  ${c.phoneNumber}  ${c.customerId}  ${describeRoute(c.before)} -> ${c.after === null ? 'not in its subaccount' : describeRoute(c.after)}  (${c.verdict}${lostFallbackCheck(c) ? `; ${describeFallbackCheck(c.fallback!)}` : ''}${partWay.has(c.phoneNumber) ? '; move not finished' : ''})`,
          ),
        );
        context.output.out(
          `run ${runId}: ${checks.length - failed.length} of ${checks.length} moved numbers reach where they did before the move; ${failed.length} lost their route${failed.length === 0 ? '.' : `: ${failed.map((c) => c.phoneNumber).join(', ')}`}${fallbacks.length === 0 ? '' : ` ${fallbackAdvice(fallbacks.map((c) => c.phoneNumber))}`}`,
        );
      }
      if (notFinished !== null) context.output.err(`warning: ${notFinished.warning}`);
      if (failed.length > 0) context.setExit(EXIT_CODES.failedSteps);
    },
  };
}
