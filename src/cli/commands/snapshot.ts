import { relative } from 'node:path';

import type { CommandModule } from 'yargs';

import { systemClock } from '../../clock.js';
import {
  DEFAULT_EXPORT_WAIT_MINUTES,
  DEFAULT_PARTITIONS,
  DEFAULT_RETENTION_DAYS,
  validateSnapshotInput,
} from '../../optouts/snapshot.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { notReadNotice, snapshotSummary } from '../render/snapshot.js';
import { connectTwilio, dbLocation, parseInstant } from '../runtime.js';
import { snapshotWithProgress } from '../snapshot-run.js';
import { snapshotRunFlags, snapshotStoppedNotice, snapshotTakesUp } from '../stopped.js';

interface SnapshotArgs extends GlobalOptions {
  since?: string;
  until?: string;
  account: string[];
  partitions: number;
  'retention-days'?: number;
  export: boolean;
  'export-wait': number;
  concurrency: number;
  rate: number;
  'take-over-run': boolean;
}

export function snapshotCommand(
  context: CommandContext,
): CommandModule<GlobalOptions, SnapshotArgs> {
  return {
    command: 'snapshot',
    describe: 'Rebuild the opt-out ledger from Twilio message history (incremental, resumable)',
    builder: (y) =>
      y
        .option('since', {
          type: 'string',
          describe:
            'Start of the window (date or ISO datetime); default: all history, or on from the last snapshot',
        })
        .option('until', { type: 'string', describe: 'End of the window; default: now' })
        .option('account', {
          type: 'string',
          array: true,
          default: [],
          describe: 'Also read this subaccount (repeatable)',
        })
        .option('partitions', {
          type: 'number',
          default: DEFAULT_PARTITIONS,
          describe:
            'Time slices each window starts with; while fewer than --concurrency are being read, a large one is cut in two',
        })
        .option('retention-days', {
          type: 'number',
          describe: `How many days back the Messages API shows records (the account owner may set 7-400); remembered for the account. Default: the last given for the account, else Twilio's default ${DEFAULT_RETENTION_DAYS}`,
        })
        .option('export', {
          type: 'boolean',
          default: true,
          describe:
            'Read history older than that from Bulk Export day files (--no-export: skip it; coverage then lists the span not read)',
        })
        .option('export-wait', {
          type: 'number',
          default: DEFAULT_EXPORT_WAIT_MINUTES,
          describe:
            "Minutes to wait in all for Twilio's Bulk Export jobs to make their files; past it the run stops (exit 1), the days not read not counted as read, and the same command takes the job up. A day Twilio marks Failed (or deleted) is not waited on but asked for again at once in a new job, 3 per account at most, then the run stops the same way",
        })
        .option('concurrency', {
          type: 'number',
          default: 8,
          describe: 'Twilio requests in flight at most (1–64)',
        })
        .option('rate', {
          type: 'number',
          default: 0,
          describe:
            'Twilio requests started per second at most (0 = no cap: reads are held by --concurrency, which is what Twilio limits)',
        })
        .option('take-over-run', {
          type: 'boolean',
          default: false,
          describe:
            'A run recorded running by a process on another machine (or container), whose processes this one cannot see, is refused (exit 4); once it no longer runs there, this takes it up (or abandons it when asked for something else)',
        }),
    handler: async (args) => {
      const input = {
        accounts: args.account,
        since: parseInstant('since', args.since),
        until: parseInstant('until', args.until),
        partitions: args.partitions,
        retentionDays: args['retention-days'],
        // Every request slot busy: large slices are cut while slots are idle.
        inFlight: args.concurrency,
        useExport: args.export,
        exportWaitMinutes: args['export-wait'],
        takeOverRun: args['take-over-run'],
      };
      // Before the database is created or Twilio is asked anything.
      validateSnapshotInput(input, systemClock.now());
      const { port, http } = await connectTwilio(args, context, {
        concurrency: args.concurrency,
        ratePerSecond: args.rate,
      });
      const started = Date.now();
      const location = dbLocation(args, context);
      // Stopped part way (Ctrl-C, kill, the terminal closed): the process ends at once, and
      // says what it leaves and the command that takes the run up (the same accounts, window
      // and source: a run asked for something else starts anew).
      const again = snapshotTakesUp(
        snapshotRunFlags(args),
        relative(context.cwd, location.path) || location.path,
      );
      const result = await snapshotWithProgress(input, location, port, context, {
        started,
        stopped: snapshotStoppedNotice(again),
      });
      const seconds = (Date.now() - started) / 1000;
      if (args.json) {
        context.output.out(JSON.stringify({ ...result, seconds, requests: http.stats }, null, 2));
      } else {
        context.output.out(snapshotSummary(result, seconds, http.stats.retries));
      }
      // The counts are the ledger's: history no snapshot read is in none of them.
      const gaps = notReadNotice(result.notRead, result.optedOutPairs);
      if (gaps !== null) context.output.err(gaps);
    },
  };
}
