/**
 * The run's figures that report.html's sections share, counted from its input alone: each
 * customer's rows on the list, the numbers moved or not, the rows Twilio does not refuse, which
 * lists are whole, and what reconcile has not judged yet. No HTML.
 */

import { unvouchedCustomers } from '../optouts/export.js';
import type { AuditDocument, AuditRow } from './audit.js';
import type { ReportPageInput } from './page-input.js';

/** Each customer's rows on the list (null: no customer), in the list's order. */
export function listCounts(
  optouts: NonNullable<ReportPageInput['optouts']>,
): ReadonlyMap<string | null, number> {
  if (optouts.counts !== undefined) return optouts.counts;
  const counts = new Map<string | null, number>();
  for (const r of optouts.rows) counts.set(r.customer_id, (counts.get(r.customer_id) ?? 0) + 1);
  return counts;
}

/** The rows of the list, all customers', but those of a customer whose list is not known. */
export function vouchedRows(input: ReportPageInput): number | null {
  if (input.optouts === null) return null;
  const unvouched = unvouchedCustomers(input.optouts.coverage);
  let rows = 0;
  for (const [id, count] of listCounts(input.optouts)) {
    if (id === null || !unvouched.has(id)) rows += count;
  }
  return rows;
}

/**
 * Whether a number is in its customer's subaccount now: its transfer is done (whatever became
 * of its other steps: one that failed to join the service has moved all the same, and the
 * parent's opt-outs no longer hold for it), or, with no transfer to make, all its steps are.
 */
export function movedInto(document: AuditDocument): (row: AuditRow) => boolean {
  const states = new Map(document.steps.map((s) => [s.id, s.state]));
  return (row) => {
    const transfer = states.get(`transfer_number:${row.phone_number_sid}`);
    return transfer === undefined
      ? row.status === 'done'
      : transfer === 'done' || transfer === 'skipped';
  };
}

/**
 * The run's numbers, each counted once, so that the figures add up to them all: moved; not
 * moved, with a step failed or not run; not moved, with a step still pending or in flight (a
 * stopped run's: in neither of the others, they went uncounted); and not moved with nothing
 * left to do (already in their subaccount, the plan moved none). A moved number whose other
 * steps failed or have not finished is counted as moved, and said so beside it.
 */
export function numberCounts(document: AuditDocument, rows: readonly AuditRow[]) {
  const moved = movedInto(document);
  const counts = { moved: 0, movedUnfinished: 0, failed: 0, notFinished: 0, inPlace: 0 };
  for (const row of rows) {
    const bad = row.status === 'failed' || row.status === 'not_run';
    const open = row.status === 'pending' || row.status === 'in_flight';
    if (moved(row)) {
      counts.moved += 1;
      if (bad || open) counts.movedUnfinished += 1;
    } else if (bad) counts.failed += 1;
    else if (open) counts.notFinished += 1;
    else counts.inPlace += 1;
  }
  return counts;
}

/**
 * The rows of this run's customers' lists that Twilio does not refuse (toll-free senders, a
 * carry not planned or failed…): written into Twilio counts records, which alone would let
 * "all written" read as "all enforced". null without the customers' protection. A list that
 * is not known is left out of the rows and counted apart, as the opt-outs figure does: its
 * opt-outs may be any number Twilio does not refuse, so the figure cannot read as all refused.
 */
export function listOnly(input: ReportPageInput): { rows: number; unknown: number } | null {
  if (input.protection === undefined) return null;
  let rows = 0;
  let unknown = 0;
  for (const customer of input.document.customers) {
    const p = input.protection.get(customer.customer_id);
    if (p === undefined) continue;
    if (p.rows === null || p.enforced === null) unknown += 1;
    else rows += p.rows - p.enforced;
  }
  return { rows, unknown };
}

/** This run's customers whose lists are not whole (`partial`). */
export function notWhole(input: ReportPageInput): ReportPageInput['document']['customers'] {
  return input.document.customers.filter((c) => input.partial?.has(c.customer_id) === true);
}

/**
 * Whether every list of the run is known and whole, as the sign-off's reasons judge them: the
 * sends reconcile held to them were held to all of them.
 */
export function listsWhole(input: ReportPageInput): boolean {
  if (input.optouts === null) return false;
  const coverage = input.optouts.coverage;
  if (coverage.never_read.length > 0) return false;
  return input.partial === undefined
    ? coverage.not_read.length === 0
    : notWhole(input).length === 0;
}

/**
 * Moved numbers the last routing check found out of their subaccount (moved by hand): the audit
 * marks their route `[missing]`.
 */
export const missingNumbers = (input: ReportPageInput) =>
  input.rows.filter((r) => / \[missing\]$/.test(String(r.inbound_route_after ?? '')));

/**
 * What reconcile has not judged yet for this run: sends pending, customers' sends not read again
 * since their lists became whole, spans since the move no pass read, and numbers the last routing
 * check found out of their subaccount (what they send there no pass reads).
 */
export function unjudgedCount(input: ReportPageInput): number {
  return (
    (input.pending ?? 0) +
    (input.notJudgedAgain ?? 0) +
    (input.neverJudgedWhole ?? 0) +
    (input.unjudged?.length ?? 0) +
    missingNumbers(input).length
  );
}
