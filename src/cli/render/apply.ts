/** `apply`'s result as it is printed: its `--dry-run` rehearsal, and the run's end. */

import type { ApplyResult, StepFailure } from '../../apply/apply-types.js';
import { fallbackAdvice, lostFallbackCheck, shownCheck } from '../../apply/routes-check.js';
import { describeFallback, describeRoute } from '../../plan/routes.js';
import { shownResult } from '../../report/audit.js';

/** What a run that ended says, once its reports' folder (if written) is known. */
export interface ApplyEnd {
  /** The run, without why its reports were not written (thrown after the rest is told). */
  done: Omit<ApplyResult, 'reportsError'>;
  /** How many steps the plan has. */
  planSteps: number;
  /** What the reports cannot vouch for, told beside them (none when not written). */
  listWarnings: string[];
  /** The reports' folder as shown; undefined when its reports were not all written. */
  shownDir: string | undefined;
}

/** `--dry-run --json`: the same lines, `requests` in the order they would be sent, `notes` the rest. */
export function rehearsalJson(lines: readonly string[]): string {
  const notes = lines.filter((line) => line.startsWith('#'));
  const requests = lines.filter((line) => !line.startsWith('#'));
  return JSON.stringify({ requests, notes }, null, 2);
}

/** `--json`: the run, its reports' folder and the lists' warnings. */
export function applyResultJson({ done, listWarnings, shownDir }: ApplyEnd): string {
  // Webhook URLs without their passwords, as in the text (an adopted step's result, as in the
  // audit: the sms_url a resume found set).
  const routes = done.routes.map(shownCheck);
  const routeFailures = done.routeFailures.map(shownCheck);
  const adopted = done.adopted.map((a) => ({ ...a, result: shownResult(a.result)! }));
  return JSON.stringify(
    { ...done, routes, routeFailures, adopted, reports: shownDir, listWarnings },
    null,
    2,
  );
}

/**
 * `failed: STEP: ERROR`, then whose step it was (a number's step id names only its PN… SID),
 * and what lifts a limit of Twilio's that refused it.
 */
export function failedLine(f: StepFailure): string {
  const whose = [
    ...(f.phone_number === null ? [] : [`number ${f.phone_number}`]),
    ...(f.customer_id === null ? [] : [`customer ${f.customer_id}`]),
  ];
  const advice = f.advice === null ? '' : `: ${f.advice}`;
  return `failed: ${f.step}: ${f.error}${whose.length === 0 ? '' : ` (${whose.join(', ')})`}${advice}`;
}

/**
 * The run's end as text: notes, failures, warnings and lost routes on stderr (printed first),
 * then the summary line on stdout.
 */
export function renderApplyResult({ done, planSteps, listWarnings, shownDir }: ApplyEnd): {
  out: string[];
  err: string[];
} {
  const err: string[] = [];
  const c = done.counts;
  for (const note of done.notes) err.push(`note: ${note}`);
  for (const f of done.failures) err.push(failedLine(f));
  for (const warning of listWarnings) err.push(`warning: ${warning}`);
  for (const r of done.routeFailures) {
    err.push(
      `inbound route lost: ${r.phoneNumber} (${r.customerId}): ${describeRoute(r.before)} -> ${r.after === null ? 'not in its subaccount' : describeRoute(r.after)}`,
    );
  }
  const fallbacks = done.routes.filter(lostFallbackCheck);
  for (const r of fallbacks) {
    err.push(
      `inbound fallback ${r.fallback!.verdict}: ${r.phoneNumber} (${r.customerId}): ${describeRoute(r.after!)}: was ${describeFallback(r.fallback!.before)}, now ${describeFallback(r.fallback!.after)}`,
    );
  }
  const summary =
    `apply run ${done.runId}${done.resumed ? ' (continued)' : ''}: ${planSteps} steps: ${c.done} done, ${c.skipped} skipped, ${c.failed} failed, ${c.not_run} not run. ` +
    `Inbound routes: ${done.routes.length - done.routeFailures.length} of ${done.routes.length} moved numbers reach where they did. ` +
    (fallbacks.length === 0 ? '' : `${fallbackAdvice(fallbacks.map((r) => r.phoneNumber))} `) +
    `${done.status === 'completed' ? 'Completed.' : 'Not complete: fix what failed, then run apply again (or `submigrate routes`).'}` +
    // The moves stand, but the lists cannot be vouched for: the note says what to run.
    `${done.ledgerUnread === undefined ? '' : ' The suppression lists are not whole: the history up to the moves was not read (see the note).'}` +
    `${done.uncarriedAfterMoves === undefined ? '' : ` ${done.uncarriedAfterMoves} opt-out record(s) the plan does not carry (STOPs said after it was made): Twilio does not refuse those sends (see the note).`}` +
    `${shownDir === undefined ? '' : ` Reports: ${shownDir}/`}`;
  return { out: [summary], err };
}
