/**
 * The routing check: every moved number and its service read back from its subaccount (GET
 * only), the route its inbound messages take now beside the route they took before the move.
 * A number whose inbound reached a webhook and now is dropped or reaches another URL has lost
 * its route: a failed check. Run by apply after the steps, and by `submigrate routes` at any
 * time after.
 */

import { isoSeconds, type Clock } from '../clock.js';
import type { StepRecord } from '../db/journal.js';
import { observedNumber, observedService } from '../plan/observe.js';
import {
  inboundRoute,
  judgeRoute,
  lostRoute,
  type InboundRoute,
  type RouteVerdict,
} from '../plan/routes.js';
import type { Plan, PlanNumber } from '../plan/types.js';
import type { TwilioPort } from '../twilio/port.js';
import { targetsFrom } from './targets.js';

export interface RouteCheck {
  customerId: string;
  phoneNumber: string;
  numberSid: string;
  before: InboundRoute;
  /** Null when the number is not in the account the journal says it is in. */
  after: InboundRoute | null;
  verdict: RouteVerdict | 'missing';
  checkedAt: string;
}

export const failedCheck = (check: RouteCheck) =>
  check.verdict === 'missing' || lostRoute(check.verdict);

/**
 * Checks the numbers the plan moved whose steps have all finished, and those whose move
 * stopped half way (a step done, a later one failed or not run): their route may already be
 * broken, and the reports must say so. Each is read where the journal says it is now: in its
 * subaccount once transferred, else still in the account it was leaving.
 */
export async function checkRoutes(
  plan: Plan,
  records: ReadonlyMap<string, StepRecord>,
  twilio: TwilioPort,
  clock: Clock,
): Promise<RouteCheck[]> {
  const targets = targetsFrom(plan, records as Map<string, StepRecord>);
  const state = (id: string) => records.get(id)?.state;
  const finished = (id: string) => {
    const now = state(id);
    return now === undefined || now === 'done' || now === 'skipped';
  };
  const stepsById = new Map(plan.steps.map((s) => [s.id, s]));
  const ACTIONS = ['detach_number', 'transfer_number', 'attach_number', 'set_number_webhook'];
  const ids = (numberSid: string) =>
    ACTIONS.map((action) => `${action}:${numberSid}`).filter((id) => stepsById.has(id));
  /**
   * Every step of its own has finished, or at least one has changed something, or an earlier
   * apply had begun to move it (its route may be broken whatever this run did).
   */
  const checkable = (n: PlanNumber) =>
    n.from_origin === true ||
    ids(n.number_sid).every(finished) ||
    ids(n.number_sid).some((id) => state(id) === 'done');

  const byAccount = new Map<string, { customerId: string; number: PlanNumber }[]>();
  for (const customer of plan.customers) {
    const target = targets.subaccountOf(customer.customer_id);
    for (const number of customer.numbers) {
      if (number.unchanged || !checkable(number)) continue;
      const transfer = stepsById.get(`transfer_number:${number.number_sid}`);
      const account =
        transfer?.action === 'transfer_number' && !finished(transfer.id)
          ? transfer.from_account_sid
          : target;
      if (account === null) continue;
      const list = byAccount.get(account) ?? [];
      list.push({ customerId: customer.customer_id, number });
      byAccount.set(account, list);
    }
  }
  const checks = await Promise.all(
    [...byAccount].map(async ([account, moved]) => {
      const [numbers, services] = await Promise.all([
        twilio.listPhoneNumbers(account),
        twilio.listServices(account),
      ]);
      const members = await Promise.all(
        services.map((s) => twilio.listServicePhoneNumbers(account, s.sid)),
      );
      const serviceOf = new Map<string, (typeof services)[number]>();
      members.forEach((list, i) => list.forEach((m) => serviceOf.set(m.sid, services[i]!)));
      const live = new Map(numbers.map((n) => [n.sid, n]));
      const checkedAt = isoSeconds(clock.now());
      return moved.map(({ customerId, number: n }): RouteCheck => {
        const found = live.get(n.number_sid);
        const service = serviceOf.get(n.number_sid);
        const after =
          found === undefined
            ? null
            : inboundRoute(
                observedNumber(found, service?.sid ?? null),
                service === undefined ? null : observedService(service),
              );
        return {
          customerId,
          phoneNumber: n.phone_number,
          numberSid: n.number_sid,
          before: n.route_before,
          after,
          verdict: after === null ? 'missing' : judgeRoute(n.route_before, after),
          checkedAt,
        };
      });
    }),
  );
  return checks.flat();
}
