/**
 * The reports of an apply run, rebuilt from the database alone (the run keeps the plan it
 * applied): the audit from the journal, the suppression lists from the ledger, what Twilio
 * itself enforces from the consent journal, reconcile's findings, and report.html showing them
 * all on one page.
 */

import {
  getApplyRun,
  listSteps,
  runPlanJson,
  type ApplyRun,
  type LockRunner,
} from '../db/journal.js';
import type { Db } from '../db/open.js';
import { listViolations, reconcileTotals } from '../db/reconcile.js';
import { listRouteChecks } from '../db/route-checks.js';
import { unvouchedCustomers } from '../optouts/export.js';
import type { FallbackCheck, InboundRoute } from '../plan/routes.js';
import { readPlan } from '../plan/plan-file.js';
import type { Plan } from '../plan/types.js';
import { auditDocument, auditRows, type AuditRow, type CheckedRoute } from '../report/audit.js';
import { reportFileWriters, type ReportFile, type ViolationRow } from '../report/files.js';
import { reportPage } from '../report/report-page.js';
import type { NotChecked, Unread } from '../reconcile/result.js';
import { spansNotJudged } from '../reconcile/spans.js';
import { describeListGaps, describeUnjudged } from './list-warnings.js';
import { runCarry, runLists, withEarlierWaves } from './report-lists.js';
import { pageInput } from './report-page-input.js';
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
  me: LockRunner,
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
  runner?: LockRunner;
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
  const plan = planOfRun(db, run, sealed);
  const steps = new Map(listSteps(db, runId).map((r) => [r.stepId, r]));
  const rows = auditRows(plan, steps, routeChecksOf(db, runId));
  const document = auditDocument(plan, run, steps, shownStatus(db, run, runner));
  const customers = new Set(plan.customers.map((c) => c.customer_id));
  const { listPlan, inService } = withEarlierWaves(db, runId, plan, rows, document.customers);
  const lists = runLists(db, runId, plan, listPlan, document.customers, inService);
  const carry = runCarry(db, runId, listPlan, document.customers, steps, inService, lists);
  // Reconcile's findings for this run's customers, once reconcile has run.
  const totals = reconcileTotals(db);
  const violations = totals.passes === 0 ? null : runViolations(db, customers);
  const files = reportFileWriters(
    rows,
    { ...document, carry },
    lists.list,
    violations,
    lists.olderRuns,
  );
  const unjudged = totals.passes === 0 ? [] : unjudgedIn(db, rows, generatedAt);
  const listWarnings = [
    ...describeListGaps(
      runId,
      plan.customers.map((c) => c.customer_id),
      lists.list === null
        ? null
        : { unknown: unvouchedCustomers(lists.list.coverage), partial: lists.partial },
      lists.olderRuns,
    ),
    ...describeUnjudged(unjudged),
  ];
  files.push({
    path: 'report.html',
    content: reportPage(
      pageInput(db, {
        generatedAt,
        document,
        rows,
        lists,
        violations,
        totals,
        carry,
        customers,
        unjudged,
      }),
    ),
  });
  return { files, status: document.run.status, listWarnings };
}

/** The run's plan: the one the caller holds when its seal is the run's, else the journal's. */
function planOfRun(db: Db, run: ApplyRun, sealed: RunReportOptions['sealed']): Plan {
  return sealed !== undefined && sealed.integrity === run.planIntegrity
    ? sealed.plan
    : readPlan(`apply run ${run.id}`, runPlanJson(db, run.id), 'journal');
}

/** Each number's inbound route as the run checked it, by number. */
function routeChecksOf(db: Db, runId: number): Map<string, CheckedRoute> {
  return new Map(
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
}

/** Reconcile's violations of this run's customers, as violations.csv gives them. */
function runViolations(db: Db, customers: ReadonlySet<string>): ViolationRow[] {
  return listViolations(db)
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
}

/**
 * What the passes leave unjudged in this run's subaccounts: no "nobody was texted" over it. And
 * the spans of this run's numbers whose transfer failed or was not run, held to the account
 * this run was to move them from (`comesFrom`): found changed there or away from it, they sent
 * from where no pass read, as this run's numbers.
 */
function unjudgedIn(
  db: Db,
  rows: readonly AuditRow[],
  generatedAt: string,
): (Unread | NotChecked)[] {
  const accounts = new Set(rows.map((r) => r.to_account_sid));
  const gaps = spansNotJudged(db, new Date(generatedAt));
  return [...gaps.unread, ...gaps.notChecked].filter(
    (span) =>
      accounts.has(span.accountSid) ||
      ('subaccountSid' in span &&
        span.subaccountSid !== undefined &&
        accounts.has(span.subaccountSid)) ||
      ('comesFrom' in span &&
        span.comesFrom !== undefined &&
        rows.some(
          (r) =>
            r.phone_number === span.phoneNumber &&
            r.customer_id === span.customerId &&
            (r.from_account_sid === span.accountSid || r.from_account_sid === span.subaccountSid),
        )),
  );
}

/**
 * A run's status as its reports show it: one the journal records as `running` whose apply no
 * longer runs is `stopped`, as `status` shows it — shown `running`, a killed run's reports
 * would say it is still being applied, and its in-flight steps still being sent.
 */
function shownStatus(db: Db, run: ApplyRun, runner: RunReportOptions['runner']): string {
  if (run.status !== 'running' || runner === undefined) return run.status;
  // Another process's (`applyUnderWay` never names this one's own lock), even one of this
  // process's own pid and host: another container sharing the hostname.
  const holder = applyUnderWay(db, run.id, runner);
  return holder !== undefined ? 'running' : 'stopped';
}
