/**
 * The audit of an apply run, as data: one row per mapped number (what moved, from where to
 * where, through which steps, how it ended) and the run with every step. Pure: built from the
 * plan and the journal; the files are views of it.
 */

import type { ApplyRun, StepRecord } from '../db/journal.js';
import {
  describeFallback,
  describeRoute,
  lostFallback,
  shownUrl,
  type FallbackCheck,
  type InboundRoute,
} from '../plan/routes.js';
import type { Plan, PlanCustomer, PlanStep } from '../plan/types.js';

export const AUDIT_COLUMNS = [
  'customer_id',
  'customer_name',
  'phone_number',
  'phone_number_sid',
  'from_account_sid',
  'to_account_sid',
  'detached_from_service_sid',
  'messaging_service_sid',
  'status',
  'attempts',
  'started_at',
  'finished_at',
  'error_code',
  'error_message',
  'inbound_route_before',
  'inbound_route_after',
] as const;

export type AuditRow = Record<(typeof AUDIT_COLUMNS)[number], string | number | null>;

/**
 * A step's state in the words people read (`status`, report.html), in the order apply's summary
 * gives them (`3 done, 0 skipped, 1 failed, 2 not run`): the journal's names (`not_run`,
 * `in_flight`, `pending`) stay in `--json`, audit.csv and audit.json, which scripts read.
 * `pending` is a step no request was sent for yet in this run: "pending" said nothing of that,
 * and apply's own lines never used it.
 */
export const STATE_WORDS: ReadonlyMap<string, string> = new Map([
  ['done', 'done'],
  ['skipped', 'skipped'],
  ['failed', 'failed'],
  ['not_run', 'not run'],
  ['in_flight', 'in flight'],
  ['pending', 'not sent yet'],
  ['unchanged', 'unchanged'],
]);

/** A state's words: its entry in STATE_WORDS, else its name with spaces for underscores. */
export const stateWords = (state: string): string =>
  STATE_WORDS.get(state) ?? state.replaceAll('_', ' ');

/** A number's outcome from its steps: the worst of them, or `unchanged` when it had none. */
function numberStatus(records: readonly StepRecord[]): string {
  if (records.length === 0) return 'unchanged';
  for (const state of ['failed', 'not_run', 'in_flight', 'pending'] as const) {
    if (records.some((r) => r.state === state)) return state;
  }
  return records.every((r) => r.state === 'skipped') ? 'skipped' : 'done';
}

const finished = (record: StepRecord | undefined) =>
  record?.state === 'done' || record?.state === 'skipped';

const ran = (record: StepRecord) =>
  record.state === 'done' || record.state === 'skipped' || record.state === 'failed';

/** The failed step that a number's not-run steps waited on, directly or not. */
function failedDependency(
  ids: readonly string[],
  stepsById: ReadonlyMap<string, PlanStep>,
  steps: ReadonlyMap<string, StepRecord>,
): StepRecord | undefined {
  const seen = new Set<string>();
  const stack = ids.flatMap((id) => stepsById.get(id)?.depends_on ?? []);
  while (stack.length > 0) {
    const id = stack.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const record = steps.get(id);
    if (record?.state === 'failed') return record;
    stack.push(...(stepsById.get(id)?.depends_on ?? []));
  }
  return undefined;
}

/** The latest routing check of a number: its route before and now, and the verdict. */
export interface CheckedRoute {
  before: InboundRoute;
  after: InboundRoute | null;
  verdict: string;
  /** Its fallback beside a route that is the same; null (or absent) when not compared. */
  fallback?: FallbackCheck | null;
}

export function auditRows(
  plan: Plan,
  steps: ReadonlyMap<string, StepRecord>,
  checks: ReadonlyMap<string, CheckedRoute> = new Map(),
): AuditRow[] {
  const rows: AuditRow[] = [];
  const stepsById = new Map(plan.steps.map((s) => [s.id, s]));
  for (const customer of plan.customers) {
    const { subaccount, service } = customerTargets(customer, steps);
    for (const number of customer.numbers) {
      const ids = ['detach_number', 'transfer_number', 'attach_number', 'set_number_webhook'].map(
        (action) => `${action}:${number.number_sid}`,
      );
      const records = ids.flatMap((id) => {
        const record = steps.get(id);
        return stepsById.has(id) && record !== undefined ? [record] : [];
      });
      const before = plan.observed.get(`number:${number.number_sid}`) as {
        account_sid: string;
        service_sid: string | null;
      } | null;
      const detach = stepsById.get(ids[0]!) as
        Extract<PlanStep, { action: 'detach_number' }> | undefined;
      // A number not run for a step it waited on (its subaccount's creation, say) shows that
      // step's error: its own steps have none.
      const failed =
        records.find((r) => r.state === 'failed') ??
        (records.some((r) => r.state === 'not_run')
          ? failedDependency(ids, stepsById, steps)
          : undefined);
      const times = records.flatMap((r) => (r.startedAt === null ? [] : [r.startedAt])).sort();
      // Only a step that ran has finished: one not run (or queued again) keeps the time it was
      // given up, which is no end of anything. And a number with a step still to send, or in
      // flight (a killed apply's), has not finished: the end of its steps done would read as
      // the end of its move.
      const unfinished = records.some((r) => r.state === 'pending' || r.state === 'in_flight');
      const ends = records
        .flatMap((r) => (r.finishedAt === null || !ran(r) || unfinished ? [] : [r.finishedAt]))
        .sort();
      const status = numberStatus(records);
      /** The service the number is in now, as far as the journal knows. */
      const serviceNow = (): string | null => {
        if (detach !== undefined && !finished(steps.get(detach.id))) return detach.service_sid;
        if (customer.messaging_service === null) {
          return status === 'unchanged' ? (before?.service_sid ?? null) : null;
        }
        const attach = ids[2]!;
        return !stepsById.has(attach) || finished(steps.get(attach)) ? service : null;
      };
      rows.push({
        customer_id: customer.customer_id,
        customer_name: customer.customer_name,
        phone_number: number.phone_number,
        phone_number_sid: number.number_sid,
        from_account_sid: before?.account_sid ?? null,
        to_account_sid: subaccount,
        detached_from_service_sid:
          detach !== undefined && finished(steps.get(detach.id)) ? detach.service_sid : null,
        messaging_service_sid: serviceNow(),
        status,
        attempts: records.reduce((n, r) => n + r.attempts, 0),
        started_at: times[0] ?? null,
        finished_at: ends.at(-1) ?? null,
        error_code: failed?.errorCode ?? null,
        error_message:
          failed === undefined
            ? null
            : records.includes(failed)
              ? failed.errorMessage
              : `not run: ${failed.stepId} failed: ${failed.errorMessage ?? ''}`,
        ...routeColumns(number.route_before, checks.get(number.number_sid)),
      });
    }
  }
  return rows;
}

/**
 * The customer's subaccount and Messaging Service, once they exist: reused as planned, or
 * made by a step of the run that has finished.
 */
function customerTargets(
  customer: PlanCustomer,
  steps: ReadonlyMap<string, StepRecord>,
): { subaccount: string | null; service: string | null } {
  const resultOf = (id: string, key: string) =>
    finished(steps.get(id)) ? (steps.get(id)?.result?.[key] ?? null) : null;
  return {
    subaccount:
      customer.subaccount_sid ??
      resultOf(`create_subaccount:${customer.customer_id}`, 'subaccount_sid'),
    service:
      customer.messaging_service === null
        ? null
        : (customer.service_sid ??
          resultOf(`create_service:${customer.customer_id}`, 'service_sid')),
  };
}

function routeColumns(before: InboundRoute, check: CheckedRoute | undefined) {
  const after =
    check === undefined
      ? null
      : check.after === null
        ? 'not in its subaccount'
        : describeRoute(check.after);
  // `none`: it reached no URL before and reaches none now, logged as before: unchanged.
  const verdict =
    check === undefined || check.verdict === 'same' || check.verdict === 'none'
      ? ''
      : ` [${check.verdict}]`;
  // The same URL, but not the fallback Twilio called when it failed: said beside it.
  const fallback = check?.fallback ?? null;
  const detail =
    fallback === null || !lostFallback(fallback.verdict)
      ? ''
      : `, ${describeFallback(fallback.after)} (was ${describeFallback(fallback.before)}) [fallback-${fallback.verdict}]`;
  return {
    inbound_route_before: describeRoute(before),
    inbound_route_after: after === null ? null : `${after}${verdict}${detail}`,
  };
}

export interface AuditDocument {
  run: {
    id: number;
    status: string;
    started_at: string;
    finished_at: string | null;
    parent_account_sid: string;
    options: unknown;
    notes: { at: string; note: string }[];
  };
  plan: { path: string; integrity: string; fingerprint: string; mapping: Plan['mapping'] };
  counts: Record<string, number>;
  customers: {
    customer_id: string;
    customer_name: string;
    subaccount_sid: string | null;
    messaging_service_sid: string | null;
    numbers: number;
  }[];
  steps: {
    id: string;
    action: string;
    customer_id: string;
    state: string;
    attempts: number;
    started_at: string | null;
    finished_at: string | null;
    twilio: Record<string, string> | null;
    error: { status: number | null; code: number | null; message: string } | null;
  }[];
}

/**
 * `status` is the run's as the reader should take it: the journal's, but `stopped` for a run it
 * records as running that no process runs any longer (`runReport`).
 */
export function auditDocument(
  plan: Plan,
  run: ApplyRun,
  steps: ReadonlyMap<string, StepRecord>,
  status: string = run.status,
): AuditDocument {
  const counts: Record<string, number> = {};
  for (const record of steps.values()) counts[record.state] = (counts[record.state] ?? 0) + 1;
  return {
    run: {
      id: run.id,
      status,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      parent_account_sid: run.parentAccountSid,
      options: JSON.parse(run.optionsJson) as unknown,
      notes: JSON.parse(run.notesJson) as { at: string; note: string }[],
    },
    plan: {
      path: run.planPath,
      integrity: run.planIntegrity,
      fingerprint: run.planFingerprint,
      mapping: plan.mapping,
    },
    counts,
    // The customer's own subaccount and service, whatever became of each number: taken from
    // one number's row, a number still in the shared service it was to leave (or one that
    // failed to join) would name that service, or none, as the customer's, and the carry's
    // writes for the customer's service would not be seen as Twilio enforcing its list.
    customers: plan.customers.map((c) => {
      const { subaccount, service } = customerTargets(c, steps);
      return {
        customer_id: c.customer_id,
        customer_name: c.customer_name,
        subaccount_sid: subaccount,
        messaging_service_sid: service,
        numbers: c.numbers.length,
      };
    }),
    steps: plan.steps.map((step) => {
      const record = steps.get(step.id);
      return {
        id: step.id,
        action: step.action,
        customer_id: step.customer_id,
        state: record?.state ?? 'pending',
        attempts: record?.attempts ?? 0,
        started_at: record?.startedAt ?? null,
        finished_at: record?.finishedAt ?? null,
        twilio: shownResult(record?.result ?? null),
        error:
          record?.state === 'failed'
            ? {
                status: record.errorStatus,
                code: record.errorCode,
                message: record.errorMessage ?? '',
              }
            : null,
      };
    }),
  };
}

/**
 * A step's result as people are shown it (the audit, `status`): a webhook URL it set (`sms_url`)
 * without its password.
 */
export function shownResult(result: Record<string, string> | null): Record<string, string> | null {
  if (result === null) return null;
  return Object.fromEntries(Object.entries(result).map(([key, value]) => [key, shownUrl(value)]));
}
