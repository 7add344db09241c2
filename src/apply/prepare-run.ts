/**
 * What apply knows before its first write (`prepareRun`): the journal and the live state read
 * (GET only), steps a killed apply left in flight settled in memory, then the drift check, the
 * opt-out gate and the carry check. A refusal here has written nothing anywhere.
 */

import { isoSeconds } from '../clock.js';
import { movingOrigins, previousSubaccounts, recordedOrigins } from '../db/customers.js';
import { findRunByPlan, listSteps, type ApplyRun, type StepRecord } from '../db/journal.js';
import type { Db } from '../db/open.js';
import { RefusedError } from '../errors.js';
import type { Uncarried } from '../plan/carry.js';
import type { MappingRow } from '../plan/mapping.js';
import { observeFamily } from '../plan/observe.js';
import { refuseNewRunIds } from '../plan/plan-shape.js';
import { replanAdvice } from '../plan/replan.js';
import { describeResources } from '../plan/resources.js';
import { coveredAccounts } from '../plan/run-plan.js';
import type { NumberOrigin, Plan, PlanStep } from '../plan/types.js';
import type { ApplyDeps, ApplyInput } from './apply-types.js';
import { describeDrift, expectedResources, inactiveSubaccounts } from './effects.js';
import { refuseUncarried, refuseUncovered, unsnapshotted } from './refusals.js';
import { answerWasLost, settleInFlight } from './settle.js';
import { targetsFrom } from './targets.js';

/**
 * The accounts whose services the plan may have fingerprinted: where it found its numbers,
 * where the moves under way began, and where the moves it planned from their origin began
 * (those moves may have ended since: this run, or the one before, finished them). They are
 * read again whether or not the numbers are still there, or a number that has left would make
 * its old service look gone (false drift).
 */
function serviceAccounts(db: Db, plan: Plan): Set<string> {
  const accounts = new Set<string>();
  for (const [key, state] of plan.observed) {
    if (key.startsWith('number:')) accounts.add((state as { account_sid: string }).account_sid);
  }
  const fromOrigin = plan.customers.flatMap((c) =>
    c.numbers.filter((n) => n.from_origin === true).map((n) => n.number_sid),
  );
  for (const json of [...movingOrigins(db).values(), ...recordedOrigins(db, fromOrigin).values()]) {
    accounts.add((JSON.parse(json) as NumberOrigin).accountSid);
  }
  return accounts;
}

/** The rows of the mapping the plan came from, as far as observing needs them. */
function rowsOf(plan: Plan): MappingRow[] {
  return plan.customers.flatMap((c) =>
    c.numbers.map((n) => ({
      line: n.line,
      customerId: c.customer_id,
      customerName: c.customer_name,
      phoneNumber: n.phone_number,
      messagingService: c.messaging_service,
      subaccountSid: c.subaccount_source === 'pinned' ? c.subaccount_sid : null,
    })),
  );
}

/** What apply knows before its first write, and nothing written to learn it. */
export interface Prepared {
  existing: ApplyRun | undefined;
  /** Every step's record, as this run will go on from: failed and not-run steps pending again. */
  records: Map<string, StepRecord>;
  settlements: {
    step: PlanStep;
    record: StepRecord;
    outcome: ReturnType<typeof settleInFlight>;
    /** It failed in the run continued, its last send unanswered (not left in flight). */
    answerLost: boolean;
  }[];
  /** Numbers it would move that no completed snapshot covers (allowed, or it refused). */
  uncovered: string[];
  /**
   * Opt-outs the plan does not carry, of customers whose carry the run continued has already
   * done (of any other customer, it refused).
   */
  uncarried: Uncarried[];
}

/**
 * The journal and the live state (GET only) read, steps left in flight settled in memory,
 * then drift, the opt-out gate and the carry check: a refusal here has written nothing
 * anywhere. Without `readLive` (the dry run) nothing is read from Twilio: no settling, no drift
 * check, and the gate judges each number by the account the plan found it in.
 */
export async function prepareRun(
  input: ApplyInput,
  deps: Pick<ApplyDeps, 'twilio' | 'db' | 'clock'>,
  { readLive }: { readLive: boolean } = { readLive: true },
): Promise<Prepared> {
  const { plan } = input;
  const { db, twilio, clock } = deps;
  const now = () => isoSeconds(clock.now());
  const existing = findRunByPlan(db, input.planIntegrity);
  // A plan an earlier submigrate made with ids a mapping now refuses: its run is continued,
  // never begun.
  if (existing === undefined) refuseNewRunIds(input.planPath, plan);
  const records = new Map<string, StepRecord>(
    existing === undefined ? [] : listSteps(db, existing.id).map((r) => [r.stepId, r]),
  );
  // A step whose last send got no certain answer failed, but that write may have landed after
  // the run's last look (Twilio answering nobody, then doing it): it is settled from live
  // state like a step left in flight. Taken for not done, the drift check found its effect
  // (the number already in its subaccount) and refused the run as changed by someone else.
  const answersLost = new Set(
    [...records.values()]
      .filter(
        (r) => r.state === 'failed' && answerWasLost(r.action as PlanStep['action'], r.errorStatus),
      )
      .map((r) => r.stepId),
  );
  for (const record of records.values()) {
    // A re-run tries again what failed, and what could not run because of it.
    if (record.state === 'failed' || record.state === 'not_run') record.state = 'pending';
  }
  for (const step of plan.steps) {
    if (!records.has(step.id)) {
      records.set(step.id, {
        stepId: step.id,
        position: 0,
        action: step.action,
        customerId: step.customer_id,
        state: 'pending',
        attempts: 0,
        startedAt: null,
        finishedAt: null,
        result: null,
        errorStatus: null,
        errorCode: null,
        errorMessage: null,
      });
    }
  }

  const replan = replanAdvice(plan, input.replan ?? { out: input.planPath, db: null });
  if (!readLive) {
    const unread = unsnapshotted(plan, records, null, coveredAccounts(db));
    refuseUncovered(input, unread, replan, db);
    const uncovered = unread.map((n) => n.phoneNumber);
    const uncarried = refuseUncarried(plan, records, db, existing !== undefined, replan);
    return { existing, records, settlements: [], uncovered, uncarried };
  }
  const observed = await observeFamily(twilio, {
    rows: rowsOf(plan),
    previousSubaccounts: previousSubaccounts(db),
    originAccounts: serviceAccounts(db, plan),
  });

  // A step left in flight by a killed apply: settled from what is there, never re-sent blind.
  const settlements: Prepared['settlements'] = [];
  for (const step of plan.steps) {
    const record = records.get(step.id)!;
    const answerLost = answersLost.has(step.id);
    if (record.state !== 'in_flight' && !answerLost) continue;
    const outcome = settleInFlight(
      plan,
      step,
      record.startedAt ?? now(),
      observed,
      targetsFrom(plan, records),
    );
    settlements.push({ step, record, outcome, answerLost });
    if (outcome.kind === 'adopt') {
      record.state = 'done';
      record.result = outcome.result;
    } else if (outcome.kind === 'resend') {
      record.state = 'pending';
    } else {
      record.state = 'failed';
    }
  }

  const targets = targetsFrom(plan, records);
  const expected = expectedResources(plan, records, targets);
  const live = describeResources(observed, plan.observed.keys());
  const inactive = inactiveSubaccounts(plan, expected, targets, observed.subaccounts);
  const drift = describeDrift(
    plan,
    expected,
    live,
    new Set(inactive.map((a) => a.sid)),
    observed.unlisted,
  );
  if (drift.length > 0) {
    // A suspended or closed subaccount is said first: the drift it shows is its status.
    const why = inactive.map(
      (a) =>
        `subaccount ${a.sid} ("${a.friendlyName}") is ${a.status}: Twilio refuses its own credentials, so its Messaging Services could not be read and nothing can be created or written in it`,
    );
    const reactivate =
      inactive.length === 0
        ? ''
        : `Make ${inactive.length === 1 ? 'that subaccount' : 'those subaccounts'} active again (Status=active, with the parent's credentials; a closed one cannot be) and run apply again; or, to go without ${inactive.length === 1 ? 'it' : 'them'}:\n`;
    throw new RefusedError(
      `the account changed since the plan was made, in ways this plan's own steps do not explain; nothing was written:\n${[...why, ...drift].map((line) => `  ${line}`).join('\n')}\n${reactivate}${replan}`,
    );
  }

  const unread = unsnapshotted(plan, records, observed, coveredAccounts(db));
  refuseUncovered(input, unread, replan, db);
  const uncovered = unread.map((n) => n.phoneNumber);

  const uncarried = refuseUncarried(plan, records, db, existing !== undefined, replan);

  return { existing, records, settlements, uncovered, uncarried };
}
