/**
 * `buildPlan`: observed state + mapping rows + options → Plan. Pure: it reads no file, clock,
 * database or network (everything it needs is passed in), so the same inputs always give the
 * same plan, and tests drive it with tiny builders.
 *
 * Per customer, the target subaccount is, in order: the pinned SID; the one a previous apply
 * recorded for the customer_id; the one active subaccount with exactly that FriendlyName;
 * else a new one. Whatever already matches the mapping gets no step, so planning again after
 * a finished migration gives zero steps. Rows the live state contradicts are errors with
 * their line, all at once.
 */

import {
  carryStep,
  carrySummary,
  listServices,
  writtenEarlier,
  type CarryOptions,
} from './carry.js';
import { MappingError, NUMBER_SID, type Mapping, type MappingRow } from './mapping.js';
import { describeUnlisted } from './observe.js';
import { planRouting, type CustomerRouting } from './inbound-plan.js';
import {
  fingerprint,
  numberKey,
  serviceKey,
  numberState,
  resourceState,
  servicesNamedKey,
  subaccountKey,
  subaccountsNamedKey,
  type ResourceKey,
} from './resources.js';
import {
  PLAN_FORMAT,
  type CarryItem,
  type NumberOrigin,
  type ObservedNumber,
  type ObservedService,
  type ObservedState,
  type Plan,
  type PlanCustomer,
  type PlanNumber,
  type PlanStep,
  type SubaccountSource,
} from './types.js';
import { planWarnings, type OptOutIndex } from './warnings.js';

export interface PlanOptions {
  /** ISO 8601: when the plan was made. */
  now: string;
  credentials: 'auth-token' | 'api-key';
  /** customer_id → the subaccount a previous apply created or used for it. */
  previousSubaccounts: ReadonlyMap<string, string>;
  /** Currently opted-out recipients by number and by service (from the ledger). */
  optOuts: OptOutIndex;
  /** Accounts whose history a completed snapshot covers. */
  coveredAccounts: ReadonlySet<string>;
  /**
   * Why an account's history read may not count as covered (runs an older submigrate read:
   * `olderRulesNote`); absent or '' = nothing to say.
   */
  olderRulesNote?: string;
  /** Whether `plan` refreshed the ledger first (false with --no-snapshot). */
  snapshotRefreshed: boolean;
  /**
   * The database `plan` used, as an absolute path, for the snapshot a warning advises: one
   * into another database covers nothing for this plan. Absent or null = left out.
   */
  dbPath?: string | null;
  /** With --carry-optouts: what the carry steps need (absent or null = no carry steps). */
  carry?: CarryOptions | null;
  /**
   * Without --carry-optouts: the same inputs, for the opt-outs warning to tell the records an
   * earlier apply wrote into a customer's subaccount (absent or null = none known).
   */
  carriedBefore?: CarryOptions | null;
  /** Numbers an earlier apply touched: where each was before it did. */
  origins?: ReadonlyMap<string, NumberOrigin>;
  /**
   * Number SID → the service whose opt-outs it carried out of where it started (its origin's,
   * or the one recorded before it left that account). Absent = the service it is in now.
   */
  sourceServices?: ReadonlyMap<string, string | null>;
  /** Phone number → the services its own opt-outs came through (`servicesSeenByNumber`). */
  servicesSeen?: ReadonlyMap<string, readonly string[]>;
  /**
   * Opted-out pairs no number's list carries: a sender that is no phone number, through no
   * known service (`optOutsNotPlaced`). Absent = none.
   */
  notPlaced?: number;
}

interface Resolved {
  customer: PlanCustomer;
  numbers: { number: ObservedNumber; row: MappingRow }[];
  routing: CustomerRouting;
}

export interface Resolution {
  customers: Resolved[];
  /** The live resources the plan depends on, and their state now. */
  resources: Map<ResourceKey, unknown>;
}

/**
 * Each customer's target subaccount and service, and each row's number, checked against the
 * live state: every contradiction is a problem with its line, all thrown at once.
 */
export function resolveCustomers(
  observed: ObservedState,
  mapping: Mapping,
  options: PlanOptions,
): Resolution {
  const problems: string[] = [];
  const at = (row: MappingRow, reason: string) =>
    problems.push(`${mapping.path}:${row.line}: ${reason}`);
  const parent = observed.parentSid;
  const subaccounts = new Map(observed.subaccounts.map((a) => [a.sid, a]));
  const byPhone = new Map(observed.numbers.map((n) => [n.phoneNumber, n]));
  let bySid: Map<string, ObservedNumber> | undefined;
  const numberBySid = (text: string) =>
    (bySid ??= new Map(observed.numbers.map((n) => [n.sid.toLowerCase(), n]))).get(
      text.toLowerCase(),
    );
  const keys = new Set<ResourceKey>();
  const resources = new Map<ResourceKey, unknown>();
  const servicesById = new Map(observed.services.map((s) => [s.sid, s]));

  const groups = new Map<string, MappingRow[]>();
  for (const row of mapping.rows) {
    const group = groups.get(row.customerId) ?? [];
    group.push(row);
    groups.set(row.customerId, group);
  }

  const claimed = new Map<string, MappingRow>();
  /** Existing subaccount → the first row of the customer going there. */
  const goingTo = new Map<string, MappingRow>();
  const resolved: Resolved[] = [];
  for (const [customerId, rows] of groups) {
    const first = rows[0]!;
    const target = resolveSubaccount(first, customerId);
    if (target === null) continue;
    if (target.sid !== null) {
      const other = goingTo.get(target.sid);
      if (other !== undefined) {
        at(
          first,
          `customer "${customerId}" would go to subaccount ${target.sid}, which customer "${other.customerId}" (line ${other.line}) goes to: one subaccount per customer`,
        );
        continue;
      }
      goingTo.set(target.sid, first);
    }
    const serviceName = first.messagingService;
    let serviceSid: string | null = null;
    if (serviceName !== null && target.sid !== null) {
      keys.add(servicesNamedKey(target.sid, serviceName));
      const same = observed.services.filter(
        (s) => s.accountSid === target.sid && s.friendlyName === serviceName,
      );
      if (same.length > 1) {
        at(
          first,
          `subaccount ${target.sid} has ${same.length} Messaging Services named "${serviceName}" (${same.map((s) => s.sid).join(', ')}); rename or delete all but one of them: the plan uses the one left with that name`,
        );
        continue;
      }
      serviceSid = same[0]?.sid ?? null;
      // Its routing settings decide where the numbers' inbound goes: a change is drift.
      if (serviceSid !== null) keys.add(serviceKey(serviceSid));
    }
    const numbers: Resolved['numbers'] = [];
    for (const row of rows) {
      const number = NUMBER_SID.test(row.phoneNumber)
        ? numberBySid(row.phoneNumber)
        : byPhone.get(row.phoneNumber);
      if (number === undefined) {
        // A subaccount whose numbers could not be listed may hold it: named, never ruled out.
        const unlisted = observed.unlisted ?? [];
        at(
          row,
          `${row.phoneNumber} is not a number of ${parent} or of any of its ${observed.subaccounts.length} subaccounts${unlisted.length === 0 ? '' : ` that could be listed: it may be in ${unlisted.map(describeUnlisted).join(', ')}, whose numbers could not be listed (with an API key, Twilio refuses a suspended or closed subaccount's own credentials, which list them); run plan with the parent's Auth Token (TWILIO_AUTH_TOKEN), which lists them, or make the subaccount active again`}`,
        );
        continue;
      }
      const other = claimed.get(number.sid);
      if (other !== undefined) {
        at(
          row,
          `${row.phoneNumber} is the same number as ${other.phoneNumber} on line ${other.line}`,
        );
        continue;
      }
      claimed.set(number.sid, row);
      const holder = subaccounts.get(number.accountSid);
      if (holder !== undefined && holder.status !== 'active') {
        // Its services cannot be read with its own credentials: which service-wide opt-outs
        // its list carries, and where its inbound goes, would be guesses.
        at(
          row,
          `${number.phoneNumber} is in subaccount ${holder.sid}, which is ${holder.status}: its Messaging Services cannot be read, so neither can the opt-outs and the inbound route the number would carry; make the subaccount active again first`,
        );
        continue;
      }
      if (
        options.credentials === 'api-key' &&
        number.accountSid !== parent &&
        number.accountSid !== target.sid
      ) {
        at(
          row,
          `${number.phoneNumber} is in subaccount ${number.accountSid}: moving a number out of a subaccount needs the parent's Auth Token (TWILIO_AUTH_TOKEN); an API key cannot`,
        );
        continue;
      }
      resources.set(numberKey(number.sid), numberState(number));
      numbers.push({ number, row });
    }
    const routing = planRouting(
      numbers.map(({ number }) => ({
        number,
        origin: options.origins?.get(number.sid) ?? null,
        inPlace:
          target.sid !== null &&
          number.accountSid === target.sid &&
          (serviceName === null
            ? number.serviceSid === null
            : serviceSid !== null && number.serviceSid === serviceSid),
      })),
      servicesById,
      {
        wantsService: serviceName !== null,
        existing: serviceSid === null ? null : (servicesById.get(serviceSid) ?? null),
      },
    );
    if (routing.problem !== null) at(first, `customer "${customerId}": ${routing.problem}`);
    for (const { number } of numbers) {
      // The services the plan copies or judges routes by: where it is, and where it started.
      const origin = options.origins?.get(number.sid)?.serviceSid ?? null;
      for (const sid of [number.serviceSid, origin]) {
        if (sid !== null && servicesById.has(sid)) keys.add(serviceKey(sid));
      }
    }
    resolved.push({
      numbers,
      routing,
      customer: {
        customer_id: customerId,
        customer_name: first.customerName,
        subaccount_sid: target.sid,
        subaccount_source: target.source,
        messaging_service: serviceName,
        service_sid: serviceSid,
        numbers: [],
        optouts: 0,
      },
    });
  }
  if (problems.length > 0) throw new MappingError(problems);
  for (const key of keys) resources.set(key, resourceState(observed, key));
  return { customers: resolved, resources };

  function resolveSubaccount(
    row: MappingRow,
    customerId: string,
  ): { sid: string | null; source: SubaccountSource } | null {
    const usable = (sid: string, how: string) => {
      const account = subaccounts.get(sid);
      if (account === undefined) {
        at(row, `${how} ${sid} is not a subaccount of ${parent}`);
        return false;
      }
      keys.add(subaccountKey(sid));
      if (account.status !== 'active') {
        at(
          row,
          `${how} ${sid} ("${account.friendlyName}") is ${account.status}: numbers can only move into an active subaccount`,
        );
        return false;
      }
      return true;
    };
    if (row.subaccountSid !== null) {
      return usable(row.subaccountSid, 'subaccount_sid')
        ? { sid: row.subaccountSid, source: 'pinned' }
        : null;
    }
    const previous = options.previousSubaccounts.get(customerId);
    if (previous !== undefined) {
      return usable(previous, `the subaccount a previous apply used for "${customerId}",`)
        ? { sid: previous, source: 'previous-apply' }
        : null;
    }
    keys.add(subaccountsNamedKey(row.customerName));
    const named = observed.subaccounts.filter(
      (a) => a.status === 'active' && a.friendlyName === row.customerName,
    );
    if (named.length > 1) {
      at(
        row,
        `${named.length} active subaccounts are named "${row.customerName}" (${named.map((a) => a.sid).join(', ')}); pin one with subaccount_sid`,
      );
      return null;
    }
    if (named.length === 1) return { sid: named[0]!.sid, source: 'name' };
    return { sid: null, source: 'create' };
  }
}

/** The plan: the resolution, its steps in dependency order, its fingerprint and warnings. */
export function buildPlan(
  observed: ObservedState,
  mapping: Mapping,
  options: PlanOptions,
  /** A resolution already made of the same state and mapping (it is used up). */
  resolution: Resolution = resolveCustomers(observed, mapping, options),
): Plan {
  const { customers: resolved, resources } = resolution;
  const services = new Map(observed.services.map((s) => [s.sid, s]));
  const steps: PlanStep[] = [];
  const carry = options.carry ?? null;
  const carryItems: CarryItem[] = [];
  // Without --carry-optouts: the customers some of whose records an earlier apply wrote.
  // (None written, as in a first plan: nothing to look for, and no list read again for it.)
  const before = (options.carriedBefore?.written.size ?? 0) > 0 ? options.carriedBefore! : null;
  const written = new Map<string, { written: number; left: number }>();
  // A number's origin names the service it started in, whatever else was recorded.
  const sources = new Map(options.sourceServices ?? []);
  for (const [sid, origin] of options.origins ?? []) sources.set(sid, origin.serviceSid);
  // Most numbers' lists are alike (none, or their shared service): one array for each.
  const lists = new Map<string, string[]>();
  const seen = options.servicesSeen ?? new Map<string, readonly string[]>();
  for (const item of resolved) {
    const own = customerSteps(item, services, options.optOuts, sources, seen, lists);
    for (const step of own) steps.push(step);
    const carried =
      carry === null
        ? null
        : carryStep(
            item.customer,
            item.numbers.map((n) => n.number),
            own,
            carry,
          );
    if (carried !== null) {
      steps.push(carried.step);
      for (const record of carried.items) carryItems.push(record);
    }
    if (carry === null && before !== null && item.customer.optouts > 0) {
      const counted = writtenEarlier(
        item.customer,
        item.numbers.map((n) => n.number),
        before,
      );
      if (counted.written > 0) written.set(item.customer.customer_id, counted);
    }
  }
  const count: Record<PlanStep['action'], number> = {
    create_subaccount: 0,
    detach_number: 0,
    transfer_number: 0,
    create_service: 0,
    attach_number: 0,
    set_number_webhook: 0,
    carry_optouts: 0,
  };
  for (const step of steps) count[step.action] += 1;
  const customers = resolved.map((r) => r.customer);
  const plan: Plan = {
    format: PLAN_FORMAT,
    created_at: options.now,
    parent_account_sid: observed.parentSid,
    mapping: { path: mapping.path, sha256: mapping.sha256, rows: mapping.rows.length },
    options: {
      snapshot: options.snapshotRefreshed,
      ...(carry === null ? {} : { carry_optouts: true }),
    },
    fingerprint: fingerprint(resources),
    observed: resources,
    summary: {
      subaccounts_to_create: count.create_subaccount,
      numbers_to_detach: count.detach_number,
      numbers_to_transfer: count.transfer_number,
      services_to_create: count.create_service,
      numbers_to_attach: count.attach_number,
      webhooks_to_set: count.set_number_webhook,
      unchanged: customers.reduce((n, c) => n + c.numbers.filter((x) => x.unchanged).length, 0),
      ...(carry === null ? {} : { optouts_to_carry: carryItems.length }),
    },
    warnings: planWarnings(observed, customers, steps, options, written),
    customers,
    steps,
  };
  if (carry !== null) {
    plan.carry = carrySummary(steps, carry);
    plan.carry_items = carryItems;
  }
  return plan;
}

function customerSteps(
  { customer, numbers, routing }: Resolved,
  services: ReadonlyMap<string, ObservedService>,
  optOuts: OptOutIndex,
  sourceServices: ReadonlyMap<string, string | null>,
  servicesSeen: ReadonlyMap<string, readonly string[]>,
  lists: Map<string, string[]>,
): PlanStep[] {
  const out: PlanStep[] = [];
  const id = customer.customer_id;
  const target = customer.subaccount_sid;
  const createAccount = `create_subaccount:${id}`;
  const createService = `create_service:${id}`;
  if (target === null) {
    out.push({
      id: createAccount,
      action: 'create_subaccount',
      customer_id: id,
      depends_on: [],
      friendly_name: customer.customer_name,
    });
  }
  const wantsService = customer.messaging_service !== null;
  if (wantsService && customer.service_sid === null) {
    out.push({
      id: createService,
      action: 'create_service',
      customer_id: id,
      depends_on: target === null ? [createAccount] : [],
      friendly_name: customer.messaging_service!,
      account_sid: target,
      settings: routing.settings,
    });
  }
  for (const { number, row } of numbers) {
    const inTarget = target !== null && number.accountSid === target;
    const inWantedService =
      wantsService && number.serviceSid !== null && number.serviceSid === customer.service_sid;
    const service = number.serviceSid === null ? undefined : services.get(number.serviceSid);
    const phone = number.phoneNumber;
    // An empty messaging_service means none: out of any service it is in, even in its subaccount.
    const mustDetach = number.serviceSid !== null && !inWantedService;
    const detachId = `detach_number:${number.sid}`;
    const transferId = `transfer_number:${number.sid}`;
    if (mustDetach) {
      out.push({
        id: detachId,
        action: 'detach_number',
        customer_id: id,
        phone_number: phone,
        number_sid: number.sid,
        depends_on: [],
        account_sid: number.accountSid,
        service_sid: number.serviceSid!,
        service_name: service?.friendlyName ?? '',
      });
    }
    if (!inTarget) {
      out.push({
        id: transferId,
        action: 'transfer_number',
        customer_id: id,
        phone_number: phone,
        number_sid: number.sid,
        depends_on: after(mustDetach && detachId, target === null && createAccount),
        from_account_sid: number.accountSid,
        to_account_sid: target,
      });
    }
    // A number joining a service that defers to its numbers' webhooks has its sms_url set
    // first: once in the service, it answers on it at once.
    const webhook = routing.webhooks.get(number.sid);
    const webhookId = `set_number_webhook:${number.sid}`;
    if (webhook !== undefined) {
      out.push({
        id: webhookId,
        action: 'set_number_webhook',
        customer_id: id,
        phone_number: phone,
        number_sid: number.sid,
        depends_on: after(!inTarget && transferId, target === null && inTarget && createAccount),
        account_sid: target,
        sms_url: webhook.url,
        sms_method: webhook.method,
        sms_fallback_url: webhook.fallback?.url ?? null,
        sms_fallback_method: webhook.fallback?.method ?? null,
      });
    }
    const attach = wantsService && !inWantedService;
    if (attach) {
      out.push({
        id: `attach_number:${number.sid}`,
        action: 'attach_number',
        customer_id: id,
        phone_number: phone,
        number_sid: number.sid,
        depends_on: after(
          !inTarget && transferId,
          inTarget && mustDetach && detachId,
          customer.service_sid === null && createService,
          webhook !== undefined && webhookId,
        ),
        account_sid: target,
        service_sid: customer.service_sid,
        service_name: customer.messaging_service!,
      });
    }
    const route = routing.routes.get(number.sid)!;
    customer.numbers.push({
      line: row.line,
      phone_number: phone,
      number_sid: number.sid,
      unchanged: !mustDetach && inTarget && !attach && webhook === undefined,
      route_before: route.before,
      route_after: route.after,
      ...(routing.fromOrigin.has(number.sid) ? { from_origin: true as const } : {}),
      optout_services: shared(lists, listServices(number, customer, sourceServices, servicesSeen)),
    });
  }
  customer.optouts = countOptOuts(optOuts, customer.numbers);
  return out;
}

/**
 * The steps a step waits for (`false` = not this one), in an array of exactly their number:
 * one grown by pushes or spreads keeps room for 16, and a plan holds 200,000 of them.
 */
function after(...ids: (string | false)[]): string[] {
  return ids.filter((id): id is string => id !== false).slice();
}

/** One array for equal lists of services, however many numbers carry it. */
function shared(lists: Map<string, string[]>, list: string[]): string[] {
  const key = list.join(' ');
  const found = lists.get(key);
  if (found !== undefined) return found;
  lists.set(key, list);
  return list;
}

/**
 * Distinct recipients on the suppression lists of these numbers: number scope, and the
 * service-wide opt-outs of every service on their lists (`listServices`, as the carry reads).
 */
function countOptOuts(index: OptOutIndex, numbers: readonly PlanNumber[]): number {
  const recipients = new Set<string>();
  for (const number of numbers) {
    for (const r of index.byNumber.get(number.phone_number)?.keys() ?? []) recipients.add(r);
    for (const service of number.optout_services ?? []) {
      for (const r of index.byService.get(service)?.keys() ?? []) recipients.add(r);
    }
  }
  return recipients.size;
}
