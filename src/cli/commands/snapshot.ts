import { relative } from 'node:path';

import type { CommandModule } from 'yargs';

import { systemClock } from '../../clock.js';
import { withDb } from '../../db/open.js';
import {
  DEFAULT_PARTITIONS,
  DEFAULT_RETENTION_DAYS,
  takeSnapshot,
  validateSnapshotInput,
  type SnapshotResult,
} from '../../optouts/snapshot.js';
import { shellWord } from '../../plan/replan.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { whenInterrupted } from '../interrupt.js';
import { createProgressBar } from '../progress.js';
import { connectTwilio, dbLocation, parseInstant, thisProcess } from '../runtime.js';

interface SnapshotArgs extends GlobalOptions {
  since?: string;
  until?: string;
  account: string[];
  partitions: number;
  'retention-days'?: number;
  export: boolean;
  concurrency: number;
  rate: number;
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
      };
      // Before the database is created or Twilio is asked anything.
      validateSnapshotInput(input, systemClock.now());
      const { port, http } = connectTwilio(args, context, {
        concurrency: args.concurrency,
        ratePerSecond: args.rate,
      });
      const bar = createProgressBar(
        'snapshot |{bar}| {value}/{total} slices and export days · {messages} messages · {rate} msg/s · {events} events',
      );
      const started = Date.now();
      const location = dbLocation(args, context);
      // Stopped part way (Ctrl-C, kill, the terminal closed): the process ends at once, and
      // says what it leaves and the command that takes the run up (the same accounts, window
      // and source: a run asked for something else starts anew).
      const again = [
        'submigrate',
        'snapshot',
        ...(args.since === undefined ? [] : ['--since', args.since]),
        ...(args.until === undefined ? [] : ['--until', args.until]),
        ...args.account.flatMap((sid) => ['--account', sid]),
        ...(args['retention-days'] === undefined
          ? []
          : ['--retention-days', String(args['retention-days'])]),
        ...(args.export ? [] : ['--no-export']),
        '--db',
        relative(context.cwd, location.path) || location.path,
      ]
        .map(shellWord)
        .join(' ');
      const released = whenInterrupted((signal) =>
        context.output.err(
          `snapshot: stopped by ${signal}. What it read is in the ledger, committed page by page and day by day: \`${again}\` takes the run up from its last commit; until then, what it has not read counts as not read.`,
        ),
      );
      let result: SnapshotResult;
      try {
        result = await withDb(location, (db) =>
          takeSnapshot(input, {
            twilio: port,
            db,
            clock: systemClock,
            runner: thisProcess,
            onProgress: (p) => {
              const seconds = Math.max((Date.now() - started) / 1000, 0.001);
              bar.update(p.slicesDone + p.daysDone, p.slicesTotal + p.daysTotal, {
                messages: p.messagesRead,
                rate: Math.round(p.messagesRead / seconds),
                events: p.eventsAdded,
              });
            },
            onNotice: (text) => {
              bar.clear();
              context.output.err(`snapshot: ${text}`);
            },
          }),
        );
      } finally {
        released();
        bar.stop();
      }
      const seconds = (Date.now() - started) / 1000;
      if (args.json) {
        context.output.out(JSON.stringify({ ...result, seconds, requests: http.stats }, null, 2));
        return;
      }
      const starts = result.windows.map((w) => w.windowStart).sort();
      const ends = result.windows.map((w) => w.windowEnd).sort();
      const window =
        result.windows.length === 1
          ? `window ${starts[0]} → ${ends[0]}`
          : `${new Set(result.windows.map((w) => w.accountSid)).size} account(s), ${result.windows.length} windows within ${starts[0]} → ${ends[ends.length - 1]}`;
      context.output.out(
        `snapshot run ${result.runId}${result.resumed ? ' (resumed)' : ''}: ${result.messagesRead.toLocaleString('en-US')} messages read in ${seconds.toFixed(1)} s ` +
          `(${result.pagesRead} pages, ${result.slices} slices, ${result.exportMessagesRead.toLocaleString('en-US')} of them from ${result.exportDays} Bulk Export days, ${http.stats.retries} retries); ` +
          `${result.eventsAdded} new events; ledger: ${result.ledger.optOut} opt-out, ${result.ledger.optIn} opt-in, ` +
          `${result.ledger.help} help, ${result.ledger.refused} refused (21610); ${result.optedOutPairs} pairs opted out now; ${window}`,
      );
    },
  };
}
