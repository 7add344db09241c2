/**
 * The suppression list of a run's customers as its reports give it: the run's own claims
 * (`runClaims`), the numbers earlier waves moved for its customers (`earlierWaves`), and the
 * list itself, marked and counted as the files read it (`runList`).
 */

import { listCustomerNumbers } from '../db/customers.js';
import { listApplyRuns, listSteps, runPlanJson } from '../db/journal.js';
import type { Db } from '../db/open.js';
import { departuresByNumber, numbersLeft } from '../db/reconcile.js';
import {
  keepOptOutExport,
  listHorizons,
  partialCustomers,
  unvouchedCustomers,
  type ExportClaims,
  type OptOutExportRow,
} from '../optouts/export.js';
import { readPlan } from '../plan/plan-file.js';
import type { Plan, PlanNumber } from '../plan/types.js';
import { auditRows, type AuditRow } from '../report/audit.js';
import { customerList, type MarkedOptOutRow, type ReportList } from '../report/files.js';
import { PAGE_LIST_ROWS } from '../report/report-page.js';

/**
 * The run's own claims: the customer each number was planned for and the services on its
 * list, from the plan the run applied (for a plan written before it said which services, the
 * service recorded for the number, which a later plan may since have replaced); the
 * subaccounts this run's customers went to.
 */
export function runClaims(
  db: Db,
  runId: number,
  plan: Plan,
  customers: readonly { customer_id: string; subaccount_sid: string | null }[],
): ExportClaims {
  const numbers = listCustomerNumbers(db);
  const recorded = new Map(numbers.map((n) => [n.numberSid, n.sourceServiceSid]));
  // Where each of the run's numbers came from: the account its transfer left, else (no
  // transfer in this plan) the one recorded for it; bound to the customer this plan named,
  // whatever a later plan gives the number to.
  const recordedAccount = new Map(numbers.map((n) => [n.numberSid, n.sourceAccountSid]));
  const transferredFrom = new Map(
    plan.steps.flatMap((s) =>
      s.action === 'transfer_number' ? [[s.number_sid, s.from_account_sid] as const] : [],
    ),
  );
  // And every account an apply up to this run moved it out of: a number an earlier wave moved
  // for another customer carries what it carried out of the parent then, too.
  const departed = departuresByNumber(db);
  const sources = new Map<string, Set<string>>();
  const stays: { numberSid: string; customerId: string; accountSid: string }[] = [];
  for (const c of plan.customers) {
    for (const n of c.numbers) {
      const account = transferredFrom.get(n.number_sid) ?? recordedAccount.get(n.number_sid);
      const accounts = [
        ...(account === undefined ? [] : [account]),
        ...(departed.get(n.number_sid) ?? []).flatMap((d) =>
          d.runId > runId ? [] : [d.accountSid],
        ),
      ];
      for (const from of accounts) {
        let ids = sources.get(from);
        if (ids === undefined) sources.set(from, (ids = new Set()));
        ids.add(c.customer_id);
        stays.push({ numberSid: n.number_sid, customerId: c.customer_id, accountSid: from });
      }
    }
  }
  return {
    sources,
    // Up to when each customer's numbers were in each account, as the journal knows it up to
    // this run: a span not read after they left is another customer's concern.
    horizons: listHorizons(stays, numbersLeft(db), runId),
    numbers: plan.customers.flatMap((c) =>
      c.numbers.map((n) => {
        const service = recorded.get(n.number_sid) ?? null;
        return {
          phoneNumber: n.phone_number,
          customerId: c.customer_id,
          services: n.optout_services ?? (service === null ? [] : [service]),
        };
      }),
    ),
    subaccounts: new Map(
      customers.flatMap((c) =>
        c.subaccount_sid === null ? [] : [[c.subaccount_sid, c.customer_id]],
      ),
    ),
  };
}

/**
 * The numbers earlier runs moved for this run's customers and this plan does not name (a
 * migration in waves: the second plan maps only the customer's new numbers), each with its
 * audit row in its own run; a later run's plan wins for a number two name. Only customers
 * whose subaccount existed when the plan was made can have any: plans are read only then.
 */
export function earlierWaves(
  db: Db,
  runId: number,
  plan: Plan,
): Map<string, { number: PlanNumber; row: AuditRow }[]> {
  const waves = new Map<string, { number: PlanNumber; row: AuditRow }[]>();
  const ours = new Set(
    plan.customers.filter((c) => c.subaccount_source !== 'create').map((c) => c.customer_id),
  );
  if (ours.size === 0) return waves;
  const named = new Set(plan.customers.flatMap((c) => c.numbers.map((n) => n.number_sid)));
  const found = new Map<string, { customerId: string; number: PlanNumber; row: AuditRow }>();
  for (const run of listApplyRuns(db)) {
    if (run.id >= runId) continue;
    // Every earlier plan, even one that names none of this run's customers: it may have given
    // a number an earlier wave moved for one of them to another customer since.
    const earlierPlan = readPlan(`apply run ${run.id}`, runPlanJson(db, run.id), 'journal');
    const steps = new Map(listSteps(db, run.id).map((r) => [r.stepId, r]));
    const rows = auditRows(earlierPlan, steps);
    let i = 0;
    for (const customer of earlierPlan.customers) {
      for (const number of customer.numbers) {
        const row = rows[i++]!;
        if (named.has(number.number_sid)) continue;
        if (!ours.has(customer.customer_id)) {
          found.delete(number.number_sid);
          continue;
        }
        found.set(number.number_sid, { customerId: customer.customer_id, number, row });
      }
    }
  }
  for (const { customerId, number, row } of found.values()) {
    const own = waves.get(customerId) ?? [];
    own.push({ number, row });
    waves.set(customerId, own);
  }
  return waves;
}

/**
 * The suppression list of a run's customers, as its reports give it: every row of a customer of
 * the run, marked with the name the run moved the customer under (as in audit.csv: a later plan
 * may have renamed it), whether Twilio enforces it and what is known of the customer's list
 * (part of a list not known, or not whole, must not read as all of it; never dropped: what was
 * read still binds). SQLite keeps the list, sorted (`keepOptOutExport`): a run may list
 * millions of opt-outs, more than the heap holds, so each file reads it again a row at a time.
 * `tally()` reads it once to count it (each customer's rows and where they lie, and the rows
 * themselves while there are no more than the page shows); `list()` is then what the files read.
 */
export function runList(
  db: Db,
  claims: ExportClaims,
  names: ReadonlyMap<string, string>,
  enforced: (row: OptOutExportRow) => boolean,
) {
  const kept = keepOptOutExport(db, undefined, { claims });
  const unknown = unvouchedCustomers(kept.coverage);
  const partial = partialCustomers(
    kept.coverage,
    claims.sources,
    claims.subaccounts,
    claims.horizons,
  );
  // Whether Twilio enforces each row, by its place, as the first reading worked it out (1 byte
  // a row; working it out again at each reading took a tenth of the report's time).
  let enforcedAt = new Uint8Array(1 << 16);
  let counting = true;
  function* marked(first?: number, last?: number) {
    for (const { position, row } of kept.rows(first, last)) {
      const id = row.customer_id;
      if (id === null || !names.has(id)) continue;
      if (counting) {
        if (position >= enforcedAt.length) {
          const larger = new Uint8Array(Math.max(2 * enforcedAt.length, position + 1));
          larger.set(enforcedAt);
          enforcedAt = larger;
        }
        enforcedAt[position] = enforced(row) ? 1 : 0;
      }
      yield {
        position,
        row: Object.assign(row, {
          customer_name: names.get(id) ?? row.customer_name,
          twilio_enforces: enforcedAt[position] === 1 ? 'yes' : 'no',
          customer_list: customerList(id, unknown, partial),
        }),
      };
    }
  }
  const counts = new Map<string | null, number>();
  const places = new Map<string, { first: number; last: number }>();
  let shown: MarkedOptOutRow[] | null = [];
  const list: ReportList = {
    coverage: kept.coverage,
    parents: kept.parents,
    partial,
    counts,
    *rows(customerId?: string) {
      const place = customerId === undefined ? undefined : places.get(customerId);
      if (customerId !== undefined && place === undefined) return;
      for (const { row } of marked(place?.first, place?.last)) yield row;
    },
  };
  return {
    list,
    /**
     * The list read once, to be counted by its reader (`carryAudit`): as it is read, each
     * customer's rows are counted into `list.counts` and their places noted for `list.rows`.
     */
    *counted() {
      for (const { position, row } of marked()) {
        const id = row.customer_id!;
        counts.set(id, (counts.get(id) ?? 0) + 1);
        const place = places.get(id);
        if (place === undefined) places.set(id, { first: position, last: position });
        else place.last = position;
        if (shown !== null && shown.length < PAGE_LIST_ROWS) shown.push(row);
        else shown = null;
        yield row;
      }
      counting = false;
    },
    /** Once counted: the rows, if no more than the page shows (`PAGE_LIST_ROWS`); else null. */
    shown: () => shown,
  };
}
