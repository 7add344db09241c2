/**
 * report.html's input, as a run's reports gather it: the audit, the lists and the carry the
 * files show, and what reconcile left pending or not judged for the run's customers.
 */

import type { Db } from '../db/open.js';
import {
  judgedNotWhole,
  neverJudgedWhole,
  pendingSends,
  type ReconcileTotals,
} from '../db/reconcile.js';
import { packageVersion } from '../package.js';
import type { AuditDocument, AuditRow } from '../report/audit.js';
import type { CarryAudit } from '../report/carry.js';
import type { ViolationRow } from '../report/files.js';
import type { ReportPageInput } from '../report/page-input.js';
import type { RunLists } from './report-lists.js';

/** report.html's input: what the files show, with the rest of what reconcile left. */
export function pageInput(
  db: Db,
  report: {
    generatedAt: string;
    document: AuditDocument;
    rows: readonly AuditRow[];
    lists: RunLists;
    violations: readonly ViolationRow[] | null;
    totals: ReconcileTotals;
    carry: CarryAudit;
    customers: ReadonlySet<string>;
    unjudged: ReportPageInput['unjudged'];
  },
): ReportPageInput {
  const { generatedAt, document, rows, lists, violations, totals, carry, customers } = report;
  const { optouts } = lists;
  return {
    generatedAt,
    toolVersion: packageVersion(),
    document,
    rows,
    optouts:
      optouts === null
        ? null
        : {
            coverage: optouts.list.coverage,
            rows: optouts.shown() ?? [],
            counts: optouts.list.counts,
          },
    olderRulesRuns: lists.olderRuns,
    violations,
    blocked: totals.passes === 0 ? null : totals.blockedBy,
    carry: carry.planned
      ? new Map(
          carry.customers.map((c) => [
            String(c.customer_id),
            {
              to_carry: Number(c.optouts_to_carry ?? 0),
              written: Number(c.written ?? 0),
            },
          ]),
        )
      : null,
    protection: new Map(
      carry.customers.map((c) => [
        String(c.customer_id),
        {
          rows: c.list_rows === null ? null : Number(c.list_rows),
          enforced: c.twilio_enforces_rows === null ? null : Number(c.twilio_enforces_rows),
          protection: String(c.protection ?? ''),
        },
      ]),
    ),
    lastReconcileAt: totals.lastPassAt,
    // A send kept before its customer was (migration 015) may be any run's: counted in each.
    pending: pendingSends(db).filter((p) => p.customerId === null || customers.has(p.customerId))
      .length,
    notJudgedAgain: [...judgedNotWhole(db).keys()].filter((c) => customers.has(c)).length,
    // Not of `unjudged` (spansNotJudged): those spans no pass read, worked out again from the
    // passes' windows each time; these a pass read, but against a list not whole, and kept when
    // it let the mark go (nothing is left to work them out from); counted by customer, not by
    // this run's subaccounts.
    neverJudgedWhole: new Set(
      neverJudgedWhole(db)
        .map((span) => span.customerId)
        .filter((c) => customers.has(c)),
    ).size,
    unjudged: report.unjudged,
    partial: lists.partial,
  };
}
