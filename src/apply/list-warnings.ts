/**
 * What the user is told beside a run's reports when they cannot vouch for everything: lists
 * not known or not whole (`describeListGaps`), and spans since the move no reconcile pass
 * has judged (`describeUnjudged`).
 */

import { olderRulesRuns } from '../optouts/export.js';
import { reportCommand } from '../plan/replan.js';
import { isNumberAway, numberAwayWhere } from '../reconcile/away.js';
import type { NotChecked, Unread } from '../reconcile/result.js';
import { firstFew } from '../text-list.js';

/**
 * What the user is told beside the reports when reconcile's passes left a span since the move
 * unjudged in the run's subaccounts: violations.csv holds only what was read.
 */
export function describeUnjudged(all: readonly (Unread | NotChecked)[]): string[] {
  // A number whose transfer failed, found in an account the passes read: its sends there are
  // judged (violations.csv), where it was on its way there is not.
  const held = all.filter(isNumberAway).filter((s) => s.sendsHeld === true);
  const away = all.filter(isNumberAway).filter((s) => s.sendsHeld !== true);
  const spans = all.filter((s) => !isNumberAway(s));
  const lines = [
    ...(held.length === 0
      ? []
      : [
          `${held.length} span(s) while a number whose transfer failed or was not run was in an account the reconcile passes read, moved there by hand (${firstFew(held, 3, numberAwayWhere)}): its sends there are held to its list (violations.csv names those to someone on it), but no pass can vouch for where it was on its way there; the customer must check what it sent then against its list and its own records, and report.html is not ready to sign off.`,
        ]),
    ...(away.length === 0
      ? []
      : [
          `${away.length} span(s) while a number of the mapping was where no step of apply's put it, moved there by hand (${firstFew(away, 3, numberAwayWhere)}): no reconcile pass reads its messages there, and none will; the customer must check what it sent then against its list and its own records, and report.html is not ready to sign off.`,
        ]),
  ];
  if (spans.length === 0) return lines;
  const shown = firstFew(spans, 3, (s) => `${s.accountSid} ${s.start} → ${s.end}`);
  return [
    ...lines,
    `${spans.length} span(s) since the move no reconcile pass has read (${shown}): a send in them to someone on a list is not judged, so violations.csv cannot say there was none, and report.html is not ready to sign off. \`submigrate reconcile\` (without --since) reads what the Messages API still shows, and names what no pass can read any more.`,
  ];
}

/**
 * What the user is told beside the reports when some list is not whole (`RunReport`): the
 * files say it too (coverage.txt, carry.csv, the `customer_list` column, report.html), but an
 * engineer reading the terminal must not take the folder for complete lists.
 */
export function describeListGaps(
  runId: number,
  customers: readonly string[],
  lists: { unknown: ReadonlySet<string>; partial: ReadonlySet<string> } | null,
  /** Completed snapshot runs an older submigrate read: said as coverage.txt says them. */
  olderRuns = 0,
): string[] {
  if (lists === null) {
    const why =
      olderRuns === 0
        ? 'no completed snapshot has read any account'
        : `no snapshot read under the current keyword rules (${olderRulesRuns(olderRuns)}: what they read no longer counts as read)`;
    return [
      `no suppression list in the reports: ${why}, so this tool can vouch for no customer's list (coverage.txt). Run \`submigrate snapshot\`, then \`${reportCommand(runId, null)}\`.`,
    ];
  }
  const few = (ids: readonly string[]) => firstFew(ids, 5);
  const unknown = customers.filter((c) => lists.unknown.has(c));
  const partial = customers.filter((c) => !lists.unknown.has(c) && lists.partial.has(c));
  const warnings: string[] = [];
  if (unknown.length > 0) {
    warnings.push(
      `the suppression lists of ${unknown.length} customer(s) are not known (${few(unknown)}): no completed snapshot has read an account their numbers came from, whose opt-outs are on no list. They get no optouts/<customer_id>.csv; coverage.txt names the account, carry.csv says unknown.`,
    );
  }
  if (partial.length > 0) {
    warnings.push(
      `the suppression lists of ${partial.length} customer(s) are not whole (${few(partial)}): part of the history of an account their numbers came from, or are in now, was never read, and may hold opt-outs on no list. Their rows say customer_list not_whole, and one whose history read holds no opt-out gets no optouts/<customer_id>.csv; coverage.txt names the spans not read.`,
    );
  }
  return warnings;
}
