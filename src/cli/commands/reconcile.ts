import { relative } from 'node:path';

import type { CommandModule } from 'yargs';

import { failsOnViolation } from '../../reconcile/result.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { reconcileWithReports } from '../reconcile-run.js';
import { reconcileNotes, reconcileResultJson, reconcileSummary } from '../render/reconcile.js';
import { connectTwilio, dbLocation, parseInstant, thisProcess } from '../runtime.js';
import { reconcileStoppedNotice, tellWhenStopped } from '../stopped.js';

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
      "Scan the migrated subaccounts' messages since the move for sends to people who had opted out; exit 3 with --fail-on-violation when there are any, and while what was sent since the move is not all judged: a send pending, a span since the move unread (a --since pass skipped it, or only an older submigrate's pass read it) or never checked, a moved customer's list not whole, or its sends held to one and not read again",
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
            "Exit 3 when any violation is known, while a send is pending or a span since the move is unread, when one was never checked (older than the Messages API window, in a subaccount a number has left since, in the parent while a moved number was moved back into it by hand, or a moved number missing from its subaccount while a subaccount that may hold it could not be listed), or while a moved customer's list is not whole (history no snapshot read) or while its sends, held by a pass to a list that was not whole, have not been read again",
        }),
    handler: async (args) => {
      const since = parseInstant('since', args.since);
      const twilio = await connectTwilio(args, context);
      // Stopped part way (Ctrl-C, kill, the terminal closed), the process ends at once: a pass
      // is recorded, and its reports written, in one go after its last read, so a stopped one
      // left nothing, which ended silently. It says so, and what runs it again.
      const location = dbLocation(args, context);
      const dbShown = relative(context.cwd, location.path) || location.path;
      const released = tellWhenStopped(context.output, reconcileStoppedNotice(dbShown, args.since));
      const end = await reconcileWithReports(since, location, twilio.port, context.cwd).finally(
        released,
      );
      const { result, totals, reports, reportError } = end;
      // Only the folders whose reports were all written are named as holding them.
      const shown = reports.map((dir) => relative(context.cwd, dir) || dir);
      if (args.json) context.output.out(reconcileResultJson(result, totals, shown));
      else context.output.out(reconcileSummary(result, totals, shown));
      const where = { cwd: context.cwd, db: args.db, me: thisProcess };
      for (const line of reconcileNotes(end, where)) context.output.err(line);
      if (args['fail-on-violation'] && failsOnViolation(result, totals.violations))
        context.setExit(EXIT_CODES.failedSteps);
      if (reportError !== undefined) throw reportError;
    },
  };
}
