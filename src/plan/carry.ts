/**
 * `plan --carry-optouts`: one `carry_optouts` step per customer with opt-outs to carry, once
 * the subaccount and the senders its records name are there, and the records it writes. Pure.
 *
 * A customer's records are the currently opted-out pairs on the suppression lists of its
 * numbers (a number's list: its number-scope opt-outs and the service-scope opt-outs of the
 * service it was in before it moved). With a Messaging Service, `sender_id` is that service
 * and there is one record per end user (Twilio then refuses them from every number of the
 * service); without one, one record per (number, end user). A record stands for every pair
 * it covers and carries the latest of their opt-out dates.
 */

import { createHash } from 'node:crypto';

import { compareText } from '../text-order.js';
import type {
  CarryItem,
  CarryOptOutsStep,
  ObservedNumber,
  Plan,
  PlanCarry,
  PlanCustomer,
  PlanNumber,
  PlanStep,
} from './types.js';

/** Records per Consent API request: 25, per a translated copy of Twilio's docs. */
export const CARRY_BATCH_SIZE = 25;

/** Currently opted-out end users with the date they opted out, by number and by service. */
export interface CarryIndex {
  byNumber: ReadonlyMap<string, ReadonlyMap<string, string>>;
  byService: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export interface CarryOptions {
  batchSize: number;
  /** The rate the plan's time estimate assumes (Twilio's limit, 100 a minute). */
  requestsPerMinute: number;
  optOuts: CarryIndex;
  /**
   * Number SID → the service whose service-scope opt-outs are on its list: where it was
   * before it moved (a number already moved has left it). Absent = the service it is in now.
   */
  sourceServices: ReadonlyMap<string, string | null>;
  /** Phone number → the services its own opt-outs came through (`servicesSeenByNumber`). */
  servicesSeen?: ReadonlyMap<string, readonly string[]>;
  /** correlation_ids Twilio accepted in earlier applies: those records are not planned again. */
  written: ReadonlySet<string>;
}

/**
 * The record's correlation_id: 32 hex characters of sha256(subaccount, sender_id, contact_id).
 * The same record always gets the same id, so writing it again (a re-run, a resumed crash)
 * upserts the same record rather than adding one.
 */
export function correlationId(accountSid: string, senderId: string, contactId: string): string {
  return createHash('sha256')
    .update(`${accountSid}|${senderId}|${contactId}`)
    .digest('hex')
    .slice(0, 32);
}

/** The numbers and services whose lists a caller reads (`byNumber`, `byService` keys). */
export interface ListKeys {
  numbers: ReadonlySet<string>;
  services: ReadonlySet<string>;
}

/**
 * The index from the ledger's currently opted-out pairs (`eachOptOutDate`), keeping only
 * those of `keys` when given: the lists the plan's numbers read. The pairs of other numbers
 * and services, a ledger's worth, are not held.
 */
export function carryIndex(
  rows: Iterable<{
    scope: 'number' | 'service';
    senderNumber: string;
    messagingServiceSid: string | null;
    recipient: string;
    optedOutAt: string;
  }>,
  keys?: ListKeys,
): CarryIndex {
  const byNumber = new Map<string, Map<string, string>>();
  const byService = new Map<string, Map<string, string>>();
  for (const row of rows) {
    const viaService = row.scope === 'service' && row.messagingServiceSid !== null;
    const [map, key] = viaService
      ? [byService, row.messagingServiceSid!]
      : [byNumber, row.senderNumber];
    if (keys !== undefined && !(viaService ? keys.services : keys.numbers).has(key)) continue;
    let recipients = map.get(key);
    if (recipients === undefined) map.set(key, (recipients = new Map()));
    keepLatest(recipients, row.recipient, row.optedOutAt);
  }
  return { byNumber, byService };
}

function keepLatest(map: Map<string, string>, recipient: string, date: string): void {
  const known = map.get(recipient);
  if (known === undefined || Date.parse(date) > Date.parse(known)) map.set(recipient, date);
}

/**
 * The services whose service-wide opt-outs are on a number's suppression list: the one it was
 * in where it started (`sourceServices`, recorded), the ones its own opt-outs came through
 * (`servicesSeen`: a STOP it took in a service it has since left), and the one it is in now,
 * unless it stays in that service (already in the customer's subaccount and service, where
 * Twilio enforces them itself). A number moves on with every list it was on.
 */
export function listServices(
  number: ObservedNumber,
  customer: Pick<PlanCustomer, 'subaccount_sid' | 'service_sid'>,
  sourceServices: ReadonlyMap<string, string | null>,
  servicesSeen: ReadonlyMap<string, readonly string[]> = new Map(),
): string[] {
  const services = new Set<string | null>();
  const recorded = sourceServices.get(number.sid);
  if (recorded !== undefined) services.add(recorded);
  const stays =
    number.accountSid === customer.subaccount_sid && number.serviceSid === customer.service_sid;
  const enforcedHere = recorded !== undefined && stays;
  if (!enforcedHere) services.add(number.serviceSid);
  for (const service of servicesSeen.get(number.phoneNumber) ?? []) {
    if (!(enforcedHere && service === number.serviceSid)) services.add(service);
  }
  services.delete(null);
  return [...services] as string[];
}

/** Whether an earlier apply wrote the record (it has a subaccount and sender to be written to). */
function wasWritten(
  written: ReadonlySet<string>,
  account: string | null,
  senderId: string | null,
  contact: string,
): boolean {
  return (
    account !== null && senderId !== null && written.has(correlationId(account, senderId, contact))
  );
}

/**
 * The customer's carry step and its records, or null when it has none to write. It depends
 * on what its records name, which Twilio accepts as `sender_id` only once it is there: the
 * subaccount, and its service, or the numbers the records are for. Nothing else: a number
 * that fails to join the service (its pool full, say) must not keep every opt-out out of
 * Twilio.
 */
export function carryStep(
  customer: PlanCustomer,
  numbers: readonly ObservedNumber[],
  otherSteps: readonly PlanStep[],
  options: CarryOptions,
): { step: CarryOptOutsStep; items: CarryItem[] } | null {
  const id = `carry_optouts:${customer.customer_id}`;
  const viaService = customer.messaging_service !== null;
  const pairs = customerPairs(customer, numbers, options);
  const account = customer.subaccount_sid;
  const serviceSid = customer.service_sid;
  const items: CarryItem[] = [];
  let alreadyCarried = 0;
  for (const pair of pairs.values()) {
    if (wasWritten(options.written, account, viaService ? serviceSid : pair.number, pair.contact)) {
      alreadyCarried += 1;
      continue;
    }
    items.push({
      step: id,
      contact_id: pair.contact,
      sender_number: pair.number,
      date_of_consent: pair.date,
    });
  }
  if (items.length === 0) return null;
  items.sort(
    (a, b) =>
      compareText(a.sender_number ?? '', b.sender_number ?? '') ||
      compareText(a.contact_id, b.contact_id),
  );
  return {
    step: {
      id,
      action: 'carry_optouts',
      customer_id: customer.customer_id,
      depends_on: carryDependencies(otherSteps, viaService, items),
      account_sid: account,
      sender: viaService ? 'service' : 'number',
      service_sid: viaService ? serviceSid : null,
      service_name: customer.messaging_service,
      optouts: items.length,
      batch_size: options.batchSize,
      requests: Math.ceil(items.length / options.batchSize),
      already_carried: alreadyCarried,
    },
    items,
  };
}

/** The records on a customer's lists (`listPairs` of its numbers' lists). */
function customerPairs(
  customer: PlanCustomer,
  numbers: readonly ObservedNumber[],
  options: CarryOptions,
): Map<string, Pair> {
  return listPairs(
    customer.messaging_service !== null,
    numbers.map((number) => ({
      phoneNumber: number.phoneNumber,
      services: listServices(number, customer, options.sourceServices, options.servicesSeen),
    })),
    options.optOuts,
  );
}

/**
 * For a plan made without --carry-optouts: of the records `carryStep` would make for the
 * customer, how many earlier applies wrote into its subaccount (`written`) and how many no
 * apply wrote (`left`). The opt-outs warning says which, so that a plan made again after a
 * carry does not say the subaccount will not know opt-outs Twilio already holds. Pure.
 */
export function writtenEarlier(
  customer: PlanCustomer,
  numbers: readonly ObservedNumber[],
  options: CarryOptions,
): { written: number; left: number } {
  const viaService = customer.messaging_service !== null;
  const account = customer.subaccount_sid;
  let written = 0;
  let left = 0;
  for (const pair of customerPairs(customer, numbers, options).values()) {
    const sender = viaService ? customer.service_sid : pair.number;
    if (wasWritten(options.written, account, sender, pair.contact)) written += 1;
    else left += 1;
  }
  return { written, left };
}

/** A number's suppression list as the carry reads it: its own opt-outs and its services'. */
export interface NumberList {
  phoneNumber: string;
  /** The services whose service-wide opt-outs are on it (`listServices`). */
  services: readonly string[];
}

/** One record a customer's carry would write: its sender number (none = the service) and end user. */
interface Pair {
  number: string | null;
  contact: string;
  date: string;
}

const pairKey = (number: string | null, contact: string) => `${number ?? ''}|${contact}`;

/**
 * The records on a customer's lists, by `pairKey`: with a service, one per end user; without
 * one, one per (number, end user); each with the latest of its opt-out dates.
 */
function listPairs(
  viaService: boolean,
  lists: Iterable<NumberList>,
  optOuts: CarryIndex,
): Map<string, Pair> {
  const pairs = new Map<string, Pair>();
  for (const list of lists) {
    const recipients = new Map<string, string>();
    for (const scope of [
      optOuts.byNumber.get(list.phoneNumber),
      ...list.services.map((s) => optOuts.byService.get(s)),
    ]) {
      for (const [recipient, date] of scope ?? []) keepLatest(recipients, recipient, date);
    }
    for (const [contact, date] of recipients) {
      const sender = viaService ? null : list.phoneNumber;
      const key = pairKey(sender, contact);
      const known = pairs.get(key);
      if (known === undefined || Date.parse(date) > Date.parse(known.date)) {
        pairs.set(key, { number: sender, contact, date });
      }
    }
  }
  return pairs;
}

/** A customer with opt-outs on its lists that its plan's carry does not write. */
export interface Uncarried {
  customer_id: string;
  /** The consent records a plan made now would add for them. */
  records: number;
}

/**
 * What a plan made with --carry-optouts leaves out by now: the records `carryStep` would make
 * today, from the ledger's opt-outs on the lists of the plan's numbers (as the plan recorded
 * them), that are not among the plan's own carry records and that no earlier apply wrote
 * (into the subaccount and with the sender the customer has by now). A plan's records are
 * fixed when it is made: a snapshot that later finds older opt-outs (or a STOP that comes in
 * since) is carried only by a plan made again. Pure.
 */
export function uncarriedOptOuts(
  plan: Plan,
  options: {
    optOuts: CarryIndex;
    /** correlation_ids Twilio accepted in earlier applies. */
    written: ReadonlySet<string>;
    /** The services on a number's list (the plan's `optout_services`, where it has them). */
    servicesOf(number: PlanNumber): readonly string[];
    /** The customer's subaccount and service by now (null: not there yet). */
    subaccountOf(customerId: string): string | null;
    serviceOf(customerId: string): string | null;
  },
): Uncarried[] {
  if (plan.options.carry_optouts !== true) return [];
  const planned = new Set<string>();
  for (const item of plan.carry_items ?? []) {
    planned.add(`${item.step} ${pairKey(item.sender_number, item.contact_id)}`);
  }
  const found: Uncarried[] = [];
  for (const customer of plan.customers) {
    const id = customer.customer_id;
    const step = `carry_optouts:${id}`;
    const viaService = customer.messaging_service !== null;
    const account = options.subaccountOf(id);
    const service = options.serviceOf(id);
    const pairs = listPairs(
      viaService,
      customer.numbers.map((n) => ({
        phoneNumber: n.phone_number,
        services: options.servicesOf(n),
      })),
      options.optOuts,
    );
    let records = 0;
    for (const [key, pair] of pairs) {
      if (planned.has(`${step} ${key}`)) continue;
      if (!wasWritten(options.written, account, viaService ? service : pair.number, pair.contact)) {
        records += 1;
      }
    }
    if (records > 0) found.push({ customer_id: id, records });
  }
  return found;
}

function carryDependencies(
  steps: readonly PlanStep[],
  viaService: boolean,
  items: readonly CarryItem[],
): string[] {
  const senders = new Set(items.map((i) => i.sender_number));
  return steps
    .filter(
      (s) =>
        s.action === 'create_subaccount' ||
        (viaService
          ? s.action === 'create_service'
          : s.action === 'transfer_number' && senders.has(s.phone_number)),
    )
    .map((s) => s.id);
}

/**
 * The requests every carry step takes, and how long they take at `requestsPerMinute`: the
 * limit is each subaccount's, and the steps of different customers go side by side, so the
 * carry takes as long as its largest step.
 */
export function carrySummary(
  steps: readonly PlanStep[],
  options: Pick<CarryOptions, 'batchSize' | 'requestsPerMinute'>,
): PlanCarry {
  let requests = 0;
  let largest = 0;
  for (const s of steps) {
    if (s.action !== 'carry_optouts') continue;
    requests += s.requests;
    largest = Math.max(largest, s.requests);
  }
  return {
    batch_size: options.batchSize,
    requests,
    requests_per_minute: options.requestsPerMinute,
    seconds: Math.ceil((largest * 60) / options.requestsPerMinute),
  };
}

const itemsByStep = new WeakMap<Plan, ReadonlyMap<string, readonly CarryItem[]>>();

/** A plan's carry records by step, grouped once per plan. */
export function carryItemsOf(plan: Plan, stepId: string): readonly CarryItem[] {
  let byStep = itemsByStep.get(plan);
  if (byStep === undefined) {
    const grouped = new Map<string, CarryItem[]>();
    for (const item of plan.carry_items ?? []) {
      const list = grouped.get(item.step) ?? [];
      list.push(item);
      grouped.set(item.step, list);
    }
    itemsByStep.set(plan, (byStep = grouped));
  }
  return byStep.get(stepId) ?? [];
}

/** `72` → `1 min 12 s`; `0` → `0 s`. */
export function describeDuration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes === 0) return `${rest} s`;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
