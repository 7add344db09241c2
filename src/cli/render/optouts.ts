/** `optouts`' notes on stderr: what was written, the coverage, and whether the list is whole. */

import { describeCoverage } from '../../optouts/export.js';
import type { OptOutsEnd } from '../optouts-run.js';

/**
 * The lines said after the list: `out`, the --out file as given; `failed`, whether a write to
 * stdout or stderr failed (a full disk: said by main, not as a reader gone).
 */
export function optOutsNotes(
  { coverage, parents, rows, unread, cut }: OptOutsEnd,
  given: {
    out: string | undefined;
    customer: string | undefined;
    format: 'csv' | 'json';
    failed: boolean;
  },
): string[] {
  const lines: string[] = [];
  if (given.out !== undefined) {
    // Rows, not pairs: a service's pair is on the list of every customer it binds.
    lines.push(
      `wrote ${rows} row(s) to ${given.out} (one per opted-out pair and customer whose list holds it)`,
    );
  }
  if (cut && !given.failed) {
    lines.push(
      `stdout's reader went away after ${rows} row(s) of the list were read: no more of it was read, and what the reader took is not the whole list.`,
    );
  }
  if (given.format === 'csv') lines.push(...describeCoverage(coverage, parents));
  // Written all the same (what was read is on it), but not vouched for: a script that
  // hands on the list only when the command succeeds must not hand on this one as whole.
  if (unread.length > 0) {
    const accounts = [...new Set(unread.map((w) => w.account_sid))];
    lines.push(
      `this list is not whole: ${unread.length} span(s) of the history of ${accounts.join(', ')} were never read (\`not_read\`), and opt-outs said in them are on no list. Run \`submigrate snapshot\` with Bulk Export (for a subaccount, with --account), then export again.`,
    );
  } else if (given.customer !== undefined && coverage.not_read.length > 0) {
    // The `not read:` lines above are the database's: said whose they are not, so that a
    // reader does not take this customer's list for one with a gap.
    lines.push(
      `this list is whole: none of the spans not read is history of an account ${given.customer}'s numbers were in at the time (a span after a number left an account is the history of the account it went to).`,
    );
  }
  return lines;
}
