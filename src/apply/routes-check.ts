/**
 * The routing check: every moved number and its service read back from its subaccount (GET
 * only), the route its inbound messages take now beside the route they took before the move.
 * A number whose inbound reached a webhook and now is dropped or reaches another URL has lost
 * its route: a failed check. A number that reaches the same URL is also judged on its fallback
 * (the URL Twilio calls when that one fails), beside the verdict: one whose fallback was lost
 * or changed is named, but fails no check. Run by apply after the steps, and by
 * `submigrate routes` at any time after.
 */

import { isoSeconds, type Clock } from '../clock.js';
import type { StepRecord } from '../db/journal.js';
import type { RouteCheckRecord } from '../db/route-checks.js';
import { observedNumber, observedService } from '../plan/observe.js';
import { serviceKey } from '../plan/resources.js';
import {
  fallbackOf,
  inboundRoute,
  judgeFallback,
  judgeRoute,
  lostFallback,
  lostRoute,
  serviceFallback,
  shownFallbackCheck,
  shownRoute,
  type FallbackCheck,
  type InboundRoute,
  type RouteFallback,
  type RouteVerdict,
} from '../plan/routes.js';
import type { Plan, PlanNumber } from '../plan/types.js';
import { firstFew } from '../text-list.js';
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
  /**
   * For a route that reaches the same URL as before: its fallback before and now. Null when
   * not compared: the route is not the same, or its fallback before is not known (a route to
   * the number's own sms_url, whose own fallback the plan does not keep and the move does not
   * touch; a service the plan did not record).
   */
  fallback: FallbackCheck | null;
  checkedAt: string;
}

export const failedCheck = (check: RouteCheck) =>
  check.verdict === 'missing' || lostRoute(check.verdict);

/** A check as people are shown it (`--json` output): its webhook URLs' passwords masked. */
export const shownCheck = (check: RouteCheck): RouteCheck => ({
  ...check,
  before: shownRoute(check.before),
  after: check.after === null ? null : shownRoute(check.after),
  fallback: shownFallbackCheck(check.fallback),
});

/** Reaches the same URL, but not the fallback it had: named, not failed. */
export const lostFallbackCheck = (check: RouteCheck) =>
  check.fallback !== null && lostFallback(check.fallback.verdict);

/** What to say of the numbers that reach their URL without the fallback it had. */
export const fallbackAdvice = (phones: readonly string[]) =>
  `${phones.length} number(s) reach their inbound URL but not the fallback URL it had (${firstFew(phones, 5)}): set that fallback again (their service's fallback_url, or the number's sms_fallback_url) if Twilio should still call it when the URL fails.`;

/**
 * The fallback a route through a service had when the plan was made: that service's
 * `fallback_url` as the plan recorded it (`service:MG…` in its `observed`). Undefined when not
 * known: a route to the number's own URL, or a service the plan holds no settings of.
 */
export function fallbackBefore(plan: Plan, route: InboundRoute): RouteFallback | null | undefined {
  if (route.via !== 'service') return undefined;
  const recorded = plan.observed.get(serviceKey(route.service_sid));
  if (typeof recorded !== 'object' || recorded === null || !('fallback_url' in recorded)) {
    return undefined;
  }
  return serviceFallback(recorded as { fallback_url: string | null; fallback_method?: string });
}

/**
 * Checks the numbers the plan moved whose steps have all finished, and those whose move
 * stopped half way (a step done, or left in flight by a killed apply, and a later one failed
 * or not run): their route may already be broken, and the reports must say so. Each is read
 * where the journal says it is now: in its subaccount once transferred, else still in the
 * account it was leaving, or in whichever of the two holds it while its transfer is in flight.
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
   * Every step of its own has finished, or at least one has changed something (a step left in
   * flight by a killed apply may have: its write was sent), or an earlier apply had begun to
   * move it (its route may be broken whatever this run did).
   */
  const checkable = (n: PlanNumber) =>
    n.from_origin === true ||
    ids(n.number_sid).every(finished) ||
    ids(n.number_sid).some((id) => state(id) === 'done' || state(id) === 'in_flight');

  // Where each number is read: its subaccount once transferred, else the account it was
  // leaving; for a transfer left in flight, either (the first that holds it).
  const wanted: { customerId: string; number: PlanNumber; accounts: string[] }[] = [];
  for (const customer of plan.customers) {
    const target = targets.subaccountOf(customer.customer_id);
    for (const number of customer.numbers) {
      if (number.unchanged || !checkable(number)) continue;
      const transfer = stepsById.get(`transfer_number:${number.number_sid}`);
      const accounts =
        transfer?.action === 'transfer_number' && !finished(transfer.id)
          ? state(transfer.id) === 'in_flight'
            ? [transfer.from_account_sid, target]
            : [transfer.from_account_sid]
          : [target];
      const known = accounts.filter((a): a is string => a !== null);
      if (known.length > 0)
        wanted.push({ customerId: customer.customer_id, number, accounts: known });
    }
  }
  const read = new Map(
    await Promise.all(
      [...new Set(wanted.flatMap((w) => w.accounts))].map(async (account) => {
        const [numbers, services] = await Promise.all([
          twilio.listPhoneNumbers(account),
          twilio.listServices(account),
        ]);
        const members = await Promise.all(
          services.map((s) => twilio.listServicePhoneNumbers(account, s.sid)),
        );
        const serviceOf = new Map<string, (typeof services)[number]>();
        members.forEach((list, i) => list.forEach((m) => serviceOf.set(m.sid, services[i]!)));
        return [account, { live: new Map(numbers.map((n) => [n.sid, n])), serviceOf }] as const;
      }),
    ),
  );
  const checkedAt = isoSeconds(clock.now());
  return wanted.map(({ customerId, number: n, accounts }): RouteCheck => {
    const holder = accounts.map((a) => read.get(a)!).find((r) => r.live.has(n.number_sid));
    const found = holder?.live.get(n.number_sid);
    const service = holder?.serviceOf.get(n.number_sid);
    const number = found === undefined ? null : observedNumber(found, service?.sid ?? null);
    const settings = service === undefined ? null : observedService(service);
    const after = number === null ? null : inboundRoute(number, settings);
    const verdict = after === null ? 'missing' : judgeRoute(n.route_before, after);
    const before = fallbackBefore(plan, n.route_before);
    let fallback: FallbackCheck | null = null;
    if (verdict === 'same' && after !== null && before !== undefined) {
      const now = fallbackOf(after, number, settings);
      fallback = { before, after: now, verdict: judgeFallback(before, now) };
    }
    return {
      customerId,
      phoneNumber: n.phone_number,
      numberSid: n.number_sid,
      before: n.route_before,
      after,
      verdict,
      fallback,
      checkedAt,
    };
  });
}

export const toCheckRecord = (c: RouteCheck): RouteCheckRecord => ({
  numberSid: c.numberSid,
  customerId: c.customerId,
  phoneNumber: c.phoneNumber,
  before: c.before,
  after: c.after,
  verdict: c.verdict,
  fallback: c.fallback,
  checkedAt: c.checkedAt,
});
