/**
 * The reports of an apply run, rebuilt from the database alone (the run keeps the plan it
 * applied): the audit from the journal, the suppression lists from the ledger, and what Twilio
 * itself enforces from the consent journal.
 */

import { listRunConsentItems, writtenCorrelationIds } from '../db/consent-journal.js';
import { getApplyRun, listApplyRuns, listSteps, runPlanJson } from '../db/journal.js';
import type { Db } from '../db/open.js';
import { UserError } from '../errors.js';
import { exportOptOuts, readCoverage } from '../optouts/export.js';
import type { Plan } from '../plan/types.js';
import { auditDocument, auditRows } from '../report/audit.js';
import { carryAudit, twilioEnforces } from '../report/carry.js';
import { reportFiles, type ReportFile } from '../report/files.js';

/** The run asked for, or the latest one. */
export function chooseRun(db: Db, runId: number | undefined) {
  if (runId !== undefined) {
    const run = getApplyRun(db, runId);
    if (run === undefined)
      throw new UserError(`--run ${runId}: no such apply run in this database`);
    return run;
  }
  const runs = listApplyRuns(db);
  const latest = runs.at(-1);
  if (latest === undefined) {
    throw new UserError('this database holds no apply run yet: `submigrate apply PLAN` makes one');
  }
  return latest;
}

export function runReport(db: Db, runId: number): ReportFile[] {
  const run = getApplyRun(db, runId)!;
  const plan = JSON.parse(runPlanJson(db, runId)) as Plan;
  const steps = new Map(listSteps(db, runId).map((r) => [r.stepId, r]));
  const rows = auditRows(plan, steps);
  const document = auditDocument(plan, run, steps, rows);
  const customers = new Set(plan.customers.map((c) => c.customer_id));
  const enforced = twilioEnforces(plan, document.customers, writtenCorrelationIds(db));
  const optouts =
    readCoverage(db).windows.length === 0
      ? null
      : (() => {
          const exported = exportOptOuts(db);
          return {
            coverage: exported.coverage,
            rows: exported.optouts
              .filter((row) => row.customer_id !== null && customers.has(row.customer_id))
              .map((row) => ({ ...row, twilio_enforces: enforced(row) ? 'yes' : 'no' })),
          };
        })();
  const carry = carryAudit(
    plan,
    document.customers,
    steps,
    listRunConsentItems(db, runId),
    optouts === null
      ? null
      : { rows: optouts.rows, enforced: (row) => row.twilio_enforces === 'yes' },
  );
  return reportFiles(rows, { ...document, carry }, optouts);
}
