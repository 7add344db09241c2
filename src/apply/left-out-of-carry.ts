/**
 * Opt-outs the ledger holds by now that a plan made with --carry-optouts leaves out of its
 * sealed carry records (`leftOutOfCarry`), and how they are told: in the carry check's
 * refusal, in the note of a continued run, and after the moves.
 */

import { writtenCorrelationIds } from '../db/consent-journal.js';
import { listCustomerNumbers } from '../db/customers.js';
import type { StepRecord } from '../db/journal.js';
import type { Db } from '../db/open.js';
import { eachListedOptOutDate } from '../optouts/export.js';
import { carryIndex, uncarriedOptOuts, type Uncarried } from '../plan/carry.js';
import type { Plan, PlanNumber, PlanStep } from '../plan/types.js';
import type { targetsFrom } from './targets.js';

/**
 * Opt-outs the ledger holds by now for the plan's numbers that its carry records leave out and
 * that no earlier apply wrote (`uncarriedOptOuts`, as `plan --carry-optouts` would count them
 * today), for a plan made with --carry-optouts. A new run is refused over any of them. A run
 * that continues is refused over those of customers whose carry is still to come (their carry
 * step not done, or a number of theirs still to move): sending their sealed records, or
 * moving their numbers, would leave the rest out. Those of customers whose carry is done and
 * whose numbers have all moved are only noted: refusing would hold the run's other steps back
 * without carrying anything, and a plan made after the run carries them.
 */
export function leftOutOfCarry(
  plan: Plan,
  records: ReadonlyMap<string, StepRecord>,
  db: Db,
  targets: ReturnType<typeof targetsFrom>,
  continuing: boolean,
): { refused: Uncarried[]; noted: Uncarried[] } {
  if (plan.options.carry_optouts !== true) return { refused: [], noted: [] };
  // A plan written before numbers recorded their list's services: the service recorded for
  // the number, as its reports read it.
  let recorded: Map<string, string | null> | undefined;
  const recordedService = (sid: string) =>
    (recorded ??= new Map(
      listCustomerNumbers(db).map((n) => [n.numberSid, n.sourceServiceSid]),
    )).get(sid) ?? null;
  const servicesOf = (n: PlanNumber): readonly string[] => {
    if (n.optout_services !== undefined) return n.optout_services;
    const service = recordedService(n.number_sid);
    return service === null ? [] : [service];
  };
  // Only the lists of the plan's numbers are held, not every pair of the ledger.
  const numbers = plan.customers.flatMap((c) => c.numbers);
  const keys = {
    numbers: new Set(numbers.map((n) => n.phone_number)),
    services: new Set(numbers.flatMap(servicesOf)),
  };
  const uncarried = uncarriedOptOuts(plan, {
    optOuts: carryIndex(eachListedOptOutDate(db, keys.numbers), keys),
    written: writtenCorrelationIds(db),
    servicesOf,
    subaccountOf: (id) => targets.subaccountOf(id),
    serviceOf: (id) => targets.serviceOf(id),
  });
  if (!continuing) return { refused: uncarried, noted: [] };
  const finished = (step: PlanStep) => {
    const state = records.get(step.id)?.state;
    return state === 'done' || state === 'skipped';
  };
  // Customers whose carry is still to come: their carry step not done, or a number of theirs
  // still to move (it leaves the account where Twilio enforces the opt-out, whatever became of
  // the carry step).
  const toCome = new Set<string>();
  for (const step of plan.steps) {
    if ((step.action === 'carry_optouts' || step.action === 'transfer_number') && !finished(step)) {
      toCome.add(step.customer_id);
    }
  }
  const stillToCarry = (u: Uncarried) => toCome.has(u.customer_id);
  return {
    refused: uncarried.filter(stillToCarry),
    noted: uncarried.filter((u) => !stillToCarry(u)),
  };
}

/** The note on opt-outs left out of a carry the run continued has already done. */
export const describeLeftAfterCarry = (list: readonly Uncarried[]) =>
  `the ledger now holds ${describeUncarried(list)} that this plan does not carry, for customers whose carry this run had already done: make the plan again once this run is over, and apply it, to carry them`;

/** The note on opt-outs the read after the moves found that the plan does not carry. */
export const describeLeftAfterMoves = (list: readonly Uncarried[], replan: string) =>
  `the read after the moves found ${describeUncarried(list)} that this plan does not carry: opt-outs said to its numbers after the plan was made and before they moved. They are on the customers' suppression lists, marked not enforced (twilio_enforces no): Twilio does not refuse them in the subaccounts. ${replan}, then apply it, to carry them`;

export const recordsIn = (list: readonly Uncarried[]) => list.reduce((n, u) => n + u.records, 0);

/** `3 opt-out record(s) (acme: 2, beta: 1)`, naming the first five customers. */
export function describeUncarried(list: readonly Uncarried[]): string {
  const total = list.reduce((n, u) => n + u.records, 0);
  const named = list
    .slice(0, 5)
    .map((u) => `${u.customer_id}: ${u.records}`)
    .join(', ');
  const more = list.length > 5 ? `, and ${list.length - 5} more customer(s)` : '';
  return `${total} opt-out record(s) (${named}${more})`;
}
