/**
 * A snapshot from the command line: the run with its progress bar on stderr, and its notices
 * said above the bar as they happen.
 */

import { systemClock } from '../clock.js';
import { withDb, type DbLocation } from '../db/open.js';
import { notReadSpans, type CoverageWindow } from '../optouts/export.js';
import { takeSnapshot, type SnapshotInput, type SnapshotResult } from '../optouts/snapshot.js';
import type { TwilioPort } from '../twilio/port.js';
import type { CommandContext } from './context.js';
import { createProgressBar } from './progress.js';
import { thisProcess } from './runtime.js';
import { tellWhenStopped } from './stopped.js';

/**
 * Takes the snapshot of `input`. `started` (ms): when the command began, for the rate shown;
 * `stopped`: what it says if a signal ends it part way. `notRead`: the spans of history no
 * completed snapshot has read once it is over (the coverage's `not_read`), which the ledger's
 * counts miss.
 */
export async function snapshotWithProgress(
  input: SnapshotInput,
  location: DbLocation,
  twilio: TwilioPort,
  context: CommandContext,
  run: { started: number; stopped: (signal: NodeJS.Signals) => string },
): Promise<SnapshotResult & { notRead: CoverageWindow[] }> {
  const { started } = run;
  const bar = createProgressBar(
    'snapshot |{bar}| {value}/{total} slices and export days · {messages} messages · {rate} msg/s · {events} events',
  );
  const released = tellWhenStopped(context.output, run.stopped);
  try {
    return await withDb(location, async (db) => {
      const result = await takeSnapshot(input, {
        twilio,
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
      });
      return { ...result, notRead: notReadSpans(db) };
    });
  } finally {
    released();
    bar.stop();
  }
}
