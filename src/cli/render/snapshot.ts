/** `snapshot`'s run as its summary line tells it. */

import type { CoverageWindow } from '../../optouts/export.js';
import type { SnapshotResult } from '../../optouts/snapshot.js';
import { firstFew } from '../../text-list.js';

/**
 * The summary: what was read in `seconds` (with the client's `retries`), what the ledger holds
 * now, and the windows read (one, or how many within which span).
 */
export function snapshotSummary(result: SnapshotResult, seconds: number, retries: number): string {
  const starts = result.windows.map((w) => w.windowStart).sort();
  const ends = result.windows.map((w) => w.windowEnd).sort();
  const window =
    result.windows.length === 1
      ? `window ${starts[0]} → ${ends[0]}`
      : `${new Set(result.windows.map((w) => w.accountSid)).size} account(s), ${result.windows.length} windows within ${starts[0]} → ${ends[ends.length - 1]}`;
  return (
    `snapshot run ${result.runId}${result.resumed ? ' (resumed)' : ''}: ${result.messagesRead.toLocaleString('en-US')} messages read in ${seconds.toFixed(1)} s ` +
    `(${result.pagesRead} pages, ${result.slices} slices, ${result.exportMessagesRead.toLocaleString('en-US')} of them from ${result.exportDays} Bulk Export days, ${retries} retries); ` +
    `${result.eventsAdded} new events; ledger: ${result.ledger.optOut} opt-out, ${result.ledger.optIn} opt-in, ` +
    `${result.ledger.help} help, ${result.ledger.refused} refused (21610); ${result.optedOutPairs} pairs opted out now; ${window}`
  );
}

/**
 * What the summary's counts miss, on stderr: the spans of history no completed snapshot has read
 * (`not_read`; with --no-export, all that is older than the Messages API shows). Null when none.
 */
export function notReadNotice(notRead: readonly CoverageWindow[], pairs: number): string | null {
  if (notRead.length === 0) return null;
  const shown = firstFew(notRead, 3, (w) => `${w.account_sid} ${w.start} → ${w.end}`);
  return `not read: ${notRead.length} span(s) of history no completed snapshot has read (${shown}): the ${pairs} pair(s) opted out now miss any opt-out said in them, and \`submigrate optouts\` exits 3 for a list they leave not whole. Run \`submigrate snapshot\` with Bulk Export (for a subaccount, with --account) to read them.`;
}
