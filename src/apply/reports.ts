/**
 * The reports of an apply run, rebuilt from the database alone (the run keeps the plan it
 * applied): the audit from the journal, the suppression lists from the ledger, what Twilio
 * itself enforces from the consent journal, reconcile's findings, and report.html showing them
 * all on one page.
 */

import { listRunConsentItems, writtenCorrelationIds } from '../db/consent-journal.js';
import { getApplyRun, listSteps, runPlanJson, type ApplyRun } from '../db/journal.js';
import type { Db } from '../db/open.js';
import {
  judgedNotWhole,
  neverJudgedWhole,
  listViolations,
  pendingSends,
  reconcileTotals,
} from '../db/reconcile.js';
import { completedWindows } from '../db/snapshot-runs.js';
import { listRouteChecks } from '../db/route-checks.js';
import { readCoverage, unvouchedCustomers } from '../optouts/export.js';
import type { FallbackCheck, InboundRoute } from '../plan/routes.js';
import { readPlan } from '../plan/plan-file.js';
import type { Plan } from '../plan/types.js';
import { auditDocument, auditRows } from '../report/audit.js';
import { carryAudit, inServiceKey, twilioEnforces } from '../report/carry.js';
import { reportFileWriters, type ReportFile } from '../report/files.js';
import { reportPage } from '../report/report-page.js';
import { packageVersion } from '../package.js';
import { spansNotJudged } from '../reconcile/spans.js';
import { describeListGaps, describeUnjudged } from './list-warnings.js';
import { earlierWaves, runClaims, runList } from './run-list.js';
import { runStatuses } from './run-status.js';
import { applyUnderWay, reportNotFinishedWarning } from './under-way.js';

/**
 * `report`'s warning on run `run`, whose reports show it as `status`: what
 * `reportNotFinishedWarning` says, from the lock's holder and the runs after it as the
 * database holds them now. Null for a run that ended.
 */
export function runNotFinishedWarning(
  db: Db,
  run: Pick<ApplyRun, 'id' | 'planPath' | 'optionsJson'>,
  status: string,
  me: { pid: number; hostname: string; isAlive(pid: number): boolean },
  dbArg: string,
): string | null {
  return reportNotFinishedWarning(
    run,
    status,
    applyUnderWay(db, run.id, me),
    me,
    dbArg,
    runStatuses(db, run.id, me).runs[0]?.followedBy ?? null,
  );
}

export interface RunReportOptions {
  generatedAt?: string;
  /**
   * The plan a caller holds already, with its seal: apply at the end of its run, whose plan it
   * read and checked at the start. Used when the seal is the run's; otherwise, and when absent,
   * the run's plan is read from the journal (for 100,000 numbers, 3 s: parsed and checked).
   */
  sealed?: { plan: Plan; integrity: string };
  /**
   * The process writing the reports. A run the journal records as `running` is shown so only
   * while another live process holds the apply lock for it (a `report --out` during its
   * apply); else it is `stopped`: its apply was killed, or crashed, or is this process ending
   * with an error. Without it, the journal's status is shown.
   */
  runner?: { pid: number; hostname: string; isAlive(pid: number): boolean };
}

/** A run's report files, and what its suppression lists cannot vouch for, to tell the user. */
export interface RunReport {
  files: ReportFile[];
  /** The run's status as the reports show it (`running` and `stopped`: not finished). */
  status: string;
  /**
   * One sentence per kind of list the reports cannot give whole: none at all (no completed
   * snapshot), lists not known (an account never read), lists not whole (spans never read).
   * Empty when every customer's list is whole.
   */
  listWarnings: string[];
}

export function runReport(db: Db, runId: number, options: RunReportOptions = {}): RunReport {
  const { generatedAt = new Date().toISOString(), sealed, runner } = options;
  const run = getApplyRun(db, runId)!;
  const plan =
    sealed !== undefined && sealed.integrity === run.planIntegrity
      ? sealed.plan
      : readPlan(`apply run ${runId}`, runPlanJson(db, runId), 'journal');
  const steps = new Map(listSteps(db, runId).map((r) => [r.stepId, r]));
  const checks = new Map(
    listRouteChecks(db, runId).map((c) => [
      c.numberSid,
      {
        before: c.before as InboundRoute,
        after: c.after as InboundRoute | null,
        verdict: c.verdict,
        fallback: c.fallback as FallbackCheck | null,
      },
    ]),
  );
  const rows = auditRows(plan, steps, checks);
  const document = auditDocument(plan, run, steps, shownStatus(db, run, runner));
  const customers = new Set(plan.customers.map((c) => c.customer_id));
  const names = new Map(plan.customers.map((c) => [c.customer_id, c.customer_name]));
  // The numbers in their customer's service now, as the journal knows: that service's opt-outs
  // are enforced only for sends from them.
  const serviceOf = new Map(
    document.customers.map((c) => [c.customer_id, c.messaging_service_sid]),
  );
  // A customer's numbers moved by earlier runs (a migration in waves): its suppression list is
  // theirs too, and the journal of their runs says whether they are in its service.
  const earlier = earlierWaves(db, runId, plan);
  const listPlan: Plan = {
    ...plan,
    customers: plan.customers.map((c) => ({
      ...c,
      numbers: [...c.numbers, ...(earlier.get(c.customer_id) ?? []).map((e) => e.number)],
    })),
  };
  const inService = new Set(
    [...rows, ...[...earlier.values()].flat().map((e) => e.row)]
      .filter(
        (r) =>
          r.messaging_service_sid !== null &&
          r.messaging_service_sid === serviceOf.get(String(r.customer_id)),
      )
      .map((r) => inServiceKey(String(r.customer_id), String(r.phone_number))),
  );
  const written = writtenCorrelationIds(db, runId);
  const enforced = twilioEnforces(listPlan, document.customers, written, inService);
  const writtenApartFromTollFree = twilioEnforces(
    listPlan,
    document.customers,
    written,
    inService,
    { apartFromTollFree: true },
  );
  const claims = runClaims(db, runId, listPlan, document.customers);
  // The coverage is read once: with the list, or, without a completed snapshot (no list to
  // export), below for the count of older runs alone. Read here as well, its costliest
  // statement (when numbers last left each account, over every transfer in the journal) ran
  // twice at every writing of the reports.
  const optouts = completedWindows(db).length === 0 ? null : runList(db, claims, names, enforced);
  const list = optouts?.list ?? null;
  const olderRuns = (list?.coverage ?? readCoverage(db)).older_rules_runs;
  // Customers whose numbers came from an account with history no snapshot read (an apply
  // with --allow-missing-snapshot moves them): their lists hold only what was read.
  const partial = list?.partial ?? new Set<string>();
  const carry = carryAudit(
    listPlan,
    document.customers,
    steps,
    listRunConsentItems(db, runId),
    optouts === null
      ? null
      : {
          // The list's one reading here: it counts it for the files and the page.
          rows: optouts.counted(),
          enforced: (row) => row.twilio_enforces === 'yes',
          writtenApartFromTollFree,
          unknown: unvouchedCustomers(optouts.list.coverage),
          partial,
          outsideService: new Set(
            listPlan.customers
              .filter(
                (c) =>
                  c.messaging_service !== null &&
                  c.numbers.some(
                    (n) => !inService.has(inServiceKey(c.customer_id, n.phone_number)),
                  ),
              )
              .map((c) => c.customer_id),
          ),
        },
  );
  // Reconcile's findings for this run's customers, once reconcile has run.
  const totals = reconcileTotals(db);
  const violations =
    totals.passes === 0
      ? null
      : listViolations(db)
          .filter((v) => customers.has(v.customerId))
          .map((v) => ({
            recipient: v.recipient,
            sender_number: v.senderNumber,
            messaging_service_sid: v.messagingServiceSid,
            customer_id: v.customerId,
            stop_message_sid: v.stopMessageSid,
            opted_out_at: v.optedOutAt,
            violating_message_sid: v.violatingMessageSid,
            sent_at: v.sentAt,
            account_sid: v.accountSid,
            status: v.status,
            evidence: v.evidence,
            evidence_message_sid: v.evidenceMessageSid,
          }));
  const files = reportFileWriters(rows, { ...document, carry }, list, violations, olderRuns);
  // What the passes leave unjudged in this run's subaccounts: no "nobody was texted" over it.
  const accounts = new Set(rows.map((r) => r.to_account_sid));
  const gaps = totals.passes === 0 ? null : spansNotJudged(db, new Date(generatedAt));
  const unjudged =
    gaps === null
      ? []
      : [...gaps.unread, ...gaps.notChecked].filter(
          (span) =>
            accounts.has(span.accountSid) ||
            ('subaccountSid' in span &&
              span.subaccountSid !== undefined &&
              accounts.has(span.subaccountSid)),
        );
  const listWarnings = [
    ...describeListGaps(
      runId,
      plan.customers.map((c) => c.customer_id),
      list === null ? null : { unknown: unvouchedCustomers(list.coverage), partial },
      olderRuns,
    ),
    ...describeUnjudged(unjudged),
  ];
  files.push({
    path: 'report.html',
    content: reportPage({
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
      olderRulesRuns: olderRuns,
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
      unjudged,
      partial,
    }),
  });
  return { files, status: document.run.status, listWarnings };
}

/**
 * A run's status as its reports show it: one the journal records as `running` whose apply no
 * longer runs is `stopped`, as `status` shows it — shown `running`, a killed run's reports
 * would say it is still being applied, and its in-flight steps still being sent.
 */
function shownStatus(db: Db, run: ApplyRun, runner: RunReportOptions['runner']): string {
  if (run.status !== 'running' || runner === undefined) return run.status;
  const holder = applyUnderWay(db, run.id, runner);
  const other =
    holder !== undefined && (holder.pid !== runner.pid || holder.hostname !== runner.hostname);
  return other ? 'running' : 'stopped';
}
