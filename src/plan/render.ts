/**
 * The printed plan, in the style infrastructure tools taught everyone: `+` creates, `-`
 * removes, `~` changes; one line per change, grouped by customer, warnings after, and a
 * one-line summary last.
 */

import { describeRoute, sameDestination, shownUrl } from './routes.js';
import { carryItemsOf, describeDuration } from './carry.js';
import { quoted } from './mapping.js';
import type { Plan, PlanStep } from './types.js';

const short = (sid: string) => `${sid.slice(0, 4)}…`;

/**
 * A name from the mapping or from Twilio, in quotes and on one line: a line break a name may
 * hold (a quoted mapping field) is written out, so it cannot start a line of its own that
 * reads as another change of the plan.
 */
const name = (text: string) => quoted(text);

/** A line break of a warning (a name it quotes) written out: one warning, one line. */
const oneLine = (text: string) =>
  text.replace(/\r\n|\r|\n/g, (b) => JSON.stringify(b).slice(1, -1));

function accountLabel(plan: Plan, sid: string, customerOf: Map<string, string>): string {
  if (sid === plan.parent_account_sid) return `${short(sid)}(parent)`;
  return customerOf.get(sid) ?? sid;
}

function stepLine(plan: Plan, step: PlanStep, customerOf: Map<string, string>): string {
  const pad = (label: string) => label.padEnd(13);
  switch (step.action) {
    case 'create_subaccount':
      return `  + ${pad('subaccount')}${step.customer_id}  ${name(step.friendly_name)}`;
    case 'detach_number': {
      const owner =
        step.account_sid === plan.parent_account_sid ? 'parent' : short(step.account_sid);
      return `  - ${pad('membership')}${step.phone_number}  from ${short(step.service_sid)} ${name(step.service_name)} (${owner})     ! A2P registration must be redone`;
    }
    case 'transfer_number':
      return `  ~ ${pad('number')}${step.phone_number}  ${accountLabel(plan, step.from_account_sid, customerOf)} -> ${step.customer_id}`;
    case 'create_service':
      return `  + ${pad('service')}${step.customer_id}  ${name(step.friendly_name)}`;
    case 'attach_number':
      return `  + ${pad('membership')}${step.phone_number}  -> ${name(step.service_name)}`;
    case 'set_number_webhook': {
      const fallback =
        step.sms_fallback_url === null
          ? ''
          : `  (fallback ${step.sms_fallback_method ?? 'POST'} ${shownUrl(step.sms_fallback_url)})`;
      return `  ~ ${pad('sms_url')}${step.phone_number}  -> ${step.sms_method} ${shownUrl(step.sms_url)}${fallback}`;
    }
    case 'carry_optouts': {
      // Its Messaging Service; or its number, or how many numbers, when it has none.
      const numbers = [...new Set(carryItemsOf(plan, step.id).map((i) => i.sender_number))];
      const to =
        step.sender === 'service'
          ? name(step.service_name ?? '')
          : numbers.length === 1
            ? numbers[0]!
            : `${numbers.length} numbers`;
      return `  + ${pad('opt-outs')}${step.customer_id}  ${step.optouts} -> ${to}`;
    }
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function planSummaryLine(plan: Plan): string {
  const s = plan.summary;
  const carry =
    s.optouts_to_carry === undefined
      ? ''
      : `; ${plural(s.optouts_to_carry, 'opt-out record')} to carry`;
  return (
    `Plan: ${plural(s.subaccounts_to_create, 'subaccount')}, ${plural(s.numbers_to_transfer, 'number')} to move, ` +
    `${plural(s.services_to_create, 'service')}, ${plural(s.numbers_to_attach, 'membership')}; ` +
    `${plural(s.numbers_to_detach, 'detach', 'detaches')}${s.webhooks_to_set > 0 ? `, ${plural(s.webhooks_to_set, 'sms_url', 'sms_urls')} to set` : ''}; ${s.unchanged} unchanged${carry}. ` +
    `${plural(plan.warnings.length, 'warning')}.`
  );
}

/** With --carry-optouts: the requests the carry takes, and how long at Twilio's limit. */
export function carryLine(plan: Plan): string | null {
  const carry = plan.carry;
  if (carry === undefined) return null;
  const records = plan.summary.optouts_to_carry ?? 0;
  if (records === 0) {
    return 'Carry: no opt-out record to write into the subaccounts (none on the lists, or all written by an earlier apply).';
  }
  return (
    `Carry: ${plural(records, 'opt-out record')} (one per recipient and sender) written into the subaccounts through Twilio's Consent Management API, ` +
    `${plural(carry.requests, 'request')} of up to ${carry.batch_size}; at ${carry.requests_per_minute} requests a minute for each subaccount, side by side, ` +
    `that takes about ${describeDuration(carry.seconds)}.`
  );
}

/** The printed plan, line by line (a large plan is never one array of lines). */
export function* renderPlan(plan: Plan): Generator<string> {
  // Subaccount SID → the customer going there, to name accounts by customer.
  const customerOf = new Map<string, string>();
  for (const c of plan.customers) {
    if (c.subaccount_sid !== null) customerOf.set(c.subaccount_sid, c.customer_id);
  }
  const byCustomer = new Map<string, PlanStep[]>();
  for (const step of plan.steps) {
    const list = byCustomer.get(step.customer_id) ?? [];
    list.push(step);
    byCustomer.set(step.customer_id, list);
  }
  // A customer whose history no snapshot read whole: its count is of what was read, not of
  // its opt-outs ("0 opted-out recipients" read as none).
  const notKnown = new Set(
    plan.warnings.filter((w) => w.code === 'optouts_not_snapshotted').map((w) => w.customer_id),
  );
  for (const customer of plan.customers) {
    const steps = byCustomer.get(customer.customer_id);
    if (steps === undefined) continue;
    const target =
      customer.subaccount_sid === null
        ? 'new subaccount'
        : `${customer.subaccount_sid} (${customer.subaccount_source})`;
    const optouts = notKnown.has(customer.customer_id)
      ? `opted-out recipients not known (${customer.optouts} in the history read; see its warning)`
      : plural(customer.optouts, 'opted-out recipient');
    yield `# ${customer.customer_id} ${name(customer.customer_name)} → ${target}; ${optouts}`;
    for (const step of steps) yield stepLine(plan, step, customerOf);
    for (const number of customer.numbers) {
      if (number.unchanged) continue;
      const before = describeRoute(number.route_before);
      const after = sameDestination(number.route_before, number.route_after)
        ? 'same'
        : describeRoute(number.route_after);
      if (before !== describeRoute(number.route_after)) {
        yield `  ~ ${'inbound'.padEnd(13)}${number.phone_number}  ${before} -> ${after}`;
      }
    }
    yield '';
  }
  if (plan.steps.length === 0) {
    // Nothing to send Twilio is not nothing to do: a number moved by hand still left its
    // opt-outs behind, which its warning says.
    yield plan.warnings.length === 0
      ? 'No changes: every mapped number is already where the mapping wants it.'
      : 'No changes to make in Twilio: every mapped number is already where the mapping wants it. The warnings below still call for action.';
    yield '';
  }
  if (plan.warnings.length > 0) {
    yield 'Warnings:';
    for (const warning of plan.warnings) {
      yield `  ! ${warning.customer_id === null ? '' : `${warning.customer_id}: `}${oneLine(warning.message)}`;
    }
    yield '';
  }
  const carry = carryLine(plan);
  if (carry !== null) yield carry;
  yield planSummaryLine(plan);
}
