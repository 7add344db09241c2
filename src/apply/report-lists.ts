/**
 * What a run's reports say of its customers' suppression lists: the run's plan with the
 * numbers earlier waves moved for its customers (`withEarlierWaves`), the lists and what is
 * known of them (`runLists`), and what the carry wrote and what protects each customer's
 * opt-outs (`runCarry`).
 */

import { listRunConsentItems, writtenCorrelationIds } from '../db/consent-journal.js';
import type { StepRecord } from '../db/journal.js';
import type { Db } from '../db/open.js';
import { completedWindows } from '../db/snapshot-runs.js';
import { readCoverage, unvouchedCustomers } from '../optouts/export.js';
import type { Plan } from '../plan/types.js';
import type { AuditRow } from '../report/audit.js';
import {
  carryAudit,
  inServiceKey,
  twilioEnforces,
  type CarryAudit,
  type CustomerTarget,
} from '../report/carry.js';
import { earlierWaves, runClaims, runList } from './run-list.js';

/**
 * The run's plan with each customer's numbers moved by earlier runs (a migration in waves):
 * its suppression list is theirs too, and the journal of their runs says whether they are in
 * its service. `inService`: the numbers in their customer's service now, as the journal knows
 * (that service's opt-outs are enforced only for sends from them).
 */
export function withEarlierWaves(
  db: Db,
  runId: number,
  plan: Plan,
  rows: readonly AuditRow[],
  targets: readonly CustomerTarget[],
): { listPlan: Plan; inService: Set<string> } {
  const serviceOf = new Map(targets.map((c) => [c.customer_id, c.messaging_service_sid]));
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
  return { listPlan, inService };
}

/** The run's suppression lists as its reports give them, and what is known of them. */
export interface RunLists {
  /** The lists, with what Twilio enforces of them; null without a completed snapshot. */
  optouts: ReturnType<typeof runList> | null;
  list: ReturnType<typeof runList>['list'] | null;
  /** Completed snapshot runs an older submigrate read. */
  olderRuns: number;
  /**
   * Customers whose numbers came from an account with history no snapshot read (an apply with
   * --allow-missing-snapshot moves them): their lists hold only what was read.
   */
  partial: ReadonlySet<string>;
  /** `twilioEnforces` as if the Consent API covered toll-free numbers. */
  writtenApartFromTollFree: ReturnType<typeof twilioEnforces>;
}

export function runLists(
  db: Db,
  runId: number,
  plan: Plan,
  listPlan: Plan,
  targets: readonly CustomerTarget[],
  inService: ReadonlySet<string>,
): RunLists {
  const names = new Map(plan.customers.map((c) => [c.customer_id, c.customer_name]));
  const written = writtenCorrelationIds(db, runId);
  const enforced = twilioEnforces(listPlan, targets, written, inService);
  const writtenApartFromTollFree = twilioEnforces(listPlan, targets, written, inService, {
    apartFromTollFree: true,
  });
  const claims = runClaims(db, runId, listPlan, targets);
  // The coverage is read once: with the list, or, without a completed snapshot (no list to
  // export), below for the count of older runs alone. Read here as well, its costliest
  // statement (when numbers last left each account, over every transfer in the journal) ran
  // twice at every writing of the reports.
  const optouts = completedWindows(db).length === 0 ? null : runList(db, claims, names, enforced);
  const list = optouts?.list ?? null;
  const olderRuns = (list?.coverage ?? readCoverage(db)).older_rules_runs;
  const partial = list?.partial ?? new Set<string>();
  return { optouts, list, olderRuns, partial, writtenApartFromTollFree };
}

/** What the run's carry wrote, and what protects each customer's opt-outs (carry.csv). */
export function runCarry(
  db: Db,
  runId: number,
  listPlan: Plan,
  targets: readonly CustomerTarget[],
  steps: ReadonlyMap<string, StepRecord>,
  inService: ReadonlySet<string>,
  { optouts, partial, writtenApartFromTollFree }: RunLists,
): CarryAudit {
  return carryAudit(
    listPlan,
    targets,
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
}
