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
import type { Plan } from '../plan/types.js';
import type { TwilioPort } from '../twilio/port.js';
import { targetsFrom } from './targets.js';

export interface RouteCheck {
  customerId: string;
  phoneNumber: string;
  numberSid: string;
  before: InboundRoute;
  /** Null when the number is not in the customer's subaccount. */
  after: InboundRoute | null;
  verdict: RouteVerdict | 'missing';
  checkedAt: string;
}

export const failedCheck = (check: RouteCheck) =>
  check.verdict === 'missing' || lostRoute(check.verdict);

/** Checks the numbers the plan moved whose steps have all finished. */
export async function checkRoutes(
  plan: Plan,
  records: ReadonlyMap<string, StepRecord>,
  twilio: TwilioPort,
  clock: Clock,
): Promise<RouteCheck[]> {
  const targets = targetsFrom(plan, records as Map<string, StepRecord>);
  const finished = (id: string) => {
    const state = records.get(id)?.state;
    return state === undefined || state === 'done' || state === 'skipped';
  };
  const stepIds = new Set(plan.steps.map((s) => s.id));
  const ACTIONS = ['detach_number', 'transfer_number', 'attach_number', 'set_number_webhook'];
  /** A number is checked once every step of its own has finished. */
  const settled = (numberSid: string) =>
    ACTIONS.every((action) => {
      const id = `${action}:${numberSid}`;
      return !stepIds.has(id) || finished(id);
    });
  const checks = await Promise.all(
    plan.customers.map(async (customer) => {
      const moved = customer.numbers.filter((n) => !n.unchanged && settled(n.number_sid));
      const account = targets.subaccountOf(customer.customer_id);
      if (moved.length === 0 || account === null) return [];
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
      return moved.map((n): RouteCheck => {
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
          customerId: customer.customer_id,
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
