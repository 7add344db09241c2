/**
 * Drift: the live resources a plan depends on, compared not with the plan as written but
 * with what the plan's own finished steps made of it. A number this run moved is where the
 * run put it; only a change someone else made is drift. Pure.
 */

import type { StepRecord } from '../db/journal.js';
import { changedResources } from '../plan/resources.js';
import { shownJson, shownUrl } from '../plan/routes.js';
import { describeUnlisted } from '../plan/observe.js';
import type { ObservedAccount, Plan, PlanStep, UnlistedAccount } from '../plan/types.js';
import type { Targets } from './targets.js';

type NumberState = {
  account_sid: string;
  service_sid: string | null;
  sms_url: string | null;
  sms_method: string | null;
} | null;

/** The state of every planned resource once this run's finished steps are taken into account. */
export function expectedResources(
  plan: Plan,
  steps: ReadonlyMap<string, StepRecord>,
  targets: Targets,
): Map<string, unknown> {
  const expected = new Map(plan.observed);
  const finished = (step: PlanStep) => {
    const state = steps.get(step.id)?.state;
    return state === 'done' || state === 'skipped';
  };
  const setNumber = (sid: string, change: (now: NonNullable<NumberState>) => NumberState) => {
    const key = `number:${sid}`;
    const now = expected.get(key) as NumberState | undefined;
    if (now !== null && now !== undefined) expected.set(key, change(now));
  };
  for (const step of plan.steps) {
    if (!finished(step)) continue;
    switch (step.action) {
      case 'create_subaccount': {
        const key = `subaccounts-named:${step.friendly_name}`;
        const sid = targets.subaccountOf(step.customer_id);
        if (sid !== null && expected.has(key)) {
          expected.set(key, [...new Set([...(expected.get(key) as string[]), sid])].sort());
        }
        break;
      }
      case 'create_service': {
        const account = targets.subaccountOf(step.customer_id);
        const key = `services-named:${account}:${step.friendly_name}`;
        const sid = targets.serviceOf(step.customer_id);
        if (sid !== null && expected.has(key)) {
          expected.set(key, [...new Set([...(expected.get(key) as string[]), sid])].sort());
        }
        break;
      }
      case 'detach_number':
        setNumber(step.number_sid, (now) => ({ ...now, service_sid: null }));
        break;
      case 'transfer_number': {
        const target = targets.subaccountOf(step.customer_id);
        setNumber(step.number_sid, (now) =>
          target === null ? null : { ...now, account_sid: target, service_sid: null },
        );
        break;
      }
      case 'attach_number':
        setNumber(step.number_sid, (now) => ({
          ...now,
          service_sid: targets.serviceOf(step.customer_id),
        }));
        break;
      case 'set_number_webhook':
        setNumber(step.number_sid, (now) => ({
          ...now,
          sms_url: step.sms_url,
          sms_method: step.sms_method,
        }));
        break;
      case 'carry_optouts':
        break; // changes no resource the plan observed
    }
  }
  return expected;
}

/**
 * The subaccounts the plan expects its numbers or customers in that are now suspended or
 * closed. Twilio refuses their own credentials (403 / 20403), so their Messaging Services were
 * not read (observe.ts reads only active ones) and nothing can be created or written in them:
 * said as such, not left to read as changes nobody made (a number "in no service").
 */
export function inactiveSubaccounts(
  plan: Plan,
  expected: ReadonlyMap<string, unknown>,
  targets: Targets,
  subaccounts: readonly ObservedAccount[],
): ObservedAccount[] {
  const used = new Set<string>();
  for (const [key, state] of expected) {
    if (key.startsWith('number:') && state !== null && typeof state === 'object') {
      used.add((state as { account_sid: string }).account_sid);
    } else if (key.startsWith('subaccount:')) used.add(key.slice('subaccount:'.length));
  }
  for (const customer of plan.customers) {
    const sid = targets.subaccountOf(customer.customer_id);
    if (sid !== null) used.add(sid);
  }
  return subaccounts.filter((a) => a.status !== 'active' && used.has(a.sid));
}

/**
 * One line per drifted resource, in words a person can act on. `unread`: accounts whose
 * services could not be read (inactiveSubaccounts), where a number's service is not known.
 * `unlisted`: subaccounts whose numbers could not be listed (observeFamily, with an API key):
 * a number found in no account listed may be there, and is never said to be gone.
 */
export function describeDrift(
  plan: Plan,
  expected: ReadonlyMap<string, unknown>,
  live: ReadonlyMap<string, unknown>,
  unread: ReadonlySet<string> = new Set(),
  unlisted: readonly UnlistedAccount[] = [],
): string[] {
  const notFound =
    unlisted.length === 0
      ? 'gone'
      : `in no account listed: it may be in ${unlisted.map(describeUnlisted).join(', ')}, whose numbers could not be listed`;
  const phones = new Map(
    plan.customers.flatMap((c) => c.numbers.map((n) => [n.number_sid, n.phone_number] as const)),
  );
  type NumberState = {
    account_sid?: string;
    service_sid?: string | null;
    sms_url?: string | null;
    sms_method?: string | null;
  };
  // Where a number is; and its inbound URL too when that is what differs from `other`.
  const where = (state: unknown, other: unknown, isLive: boolean) => {
    if (state === null || state === undefined) return isLive ? notFound : 'gone';
    const s = state as NumberState;
    if (s.account_sid === undefined) return shownJson(state);
    const o = (other ?? {}) as NumberState;
    const url =
      s.sms_url !== o.sms_url || s.sms_method !== o.sms_method
        ? `, SmsUrl ${s.sms_url ? shownUrl(s.sms_url) : 'none'}${s.sms_url ? ` (${s.sms_method ?? 'POST'})` : ''}`
        : '';
    const service =
      s.service_sid !== null
        ? `, in service ${s.service_sid}`
        : isLive && unread.has(s.account_sid)
          ? ', its service not read'
          : ', in no service';
    return `in ${s.account_sid}${service}${url}`;
  };
  return changedResources(expected, live).map((key) => {
    if (key.startsWith('number:')) {
      const sid = key.slice('number:'.length);
      const [before, now] = [expected.get(key), live.get(key)];
      return `number ${phones.get(sid) ?? ''} (${sid}): expected ${where(before, now, false)}, now ${where(now, before, true)}`;
    }
    if (key.startsWith('subaccounts-named:')) {
      const name = key.slice('subaccounts-named:'.length);
      return `subaccounts named "${name}": expected ${shownJson(expected.get(key))}, now ${shownJson(live.get(key))}${besideOwn(plan, key, expected, live)}`;
    }
    if (key.startsWith('services-named:')) {
      const rest = key.slice('services-named:'.length);
      return `services named "${rest.slice(35)}" in ${rest.slice(0, 34)}: expected ${shownJson(expected.get(key))}, now ${shownJson(live.get(key))}`;
    }
    return `${key}: expected ${shownJson(expected.get(key))}, now ${shownJson(live.get(key))}`;
  });
}

/**
 * For a name this run has created a subaccount under, the others that appeared since the plan:
 * another apply of the plan, from another database, made one too (or a create of this run took
 * effect twice). Making the plan again would not help; which one to keep would: said after
 * the line. Closing a subaccount releases its numbers, hence the care in the advice.
 */
function besideOwn(
  plan: Plan,
  key: string,
  expected: ReadonlyMap<string, unknown>,
  live: ReadonlyMap<string, unknown>,
): string {
  const before = (plan.observed.get(key) ?? []) as string[];
  const own = ((expected.get(key) ?? []) as string[]).filter((sid) => !before.includes(sid));
  const expectedNow = (expected.get(key) ?? []) as string[];
  const others = ((live.get(key) ?? []) as string[]).filter((sid) => !expectedNow.includes(sid));
  if (own.length === 0 || others.length === 0) return '';
  return ` (this run created ${own.join(', ')}; ${others.join(', ')} was made by another apply of this plan, from another database, or by a create of this run that took effect twice: its note says which. Keep the subaccount the numbers moved into and close the other, which releases any number in it, so close only one that holds none; then apply again from the database that created the one kept)`;
}
