/**
 * What a plan must be before `apply` trusts it, beyond its seal: the seal tells a damaged plan
 * from the one `plan` wrote, but anyone can compute it again after an edit. So every member
 * `apply` reads is checked for its type (a step whose `number_sid` is null would send
 * `/IncomingPhoneNumbers/null.json`; one whose `depends_on` is not a list stopped apply with a
 * stack trace), and the steps for what `plan` always makes of them: each step of a customer the
 * plan lists, named as `plan` names it (`apply` finds what a customer's `create_subaccount` and
 * `create_service` made by those names), after every step it depends on, acting on a number of
 * its customer, and after the steps that create the subaccount and service it acts in. A plan
 * that is not so is refused in one line, before any request: a plan that passes can be run to
 * its end without a step finding what it needs missing half way.
 */

import { UserError } from '../errors.js';
import { CARRY_BATCH_SIZE } from './carry.js';
import { COPIED_SETTINGS } from './inbound-plan.js';
import { ACCOUNT_SID, CUSTOMER_ID, foldedId, NUMBER_SID, RECORDED_CUSTOMER_ID } from './mapping.js';
import { fingerprint } from './resources.js';
import type { Plan, PlanStep } from './types.js';
import { shownJson } from './routes.js';

const SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
const SETTINGS = new Set<string>(COPIED_SETTINGS);
const SOURCES = new Set(['pinned', 'previous-apply', 'name', 'create']);
const ROUTES = new Set(['service', 'number', 'none', 'dropped']);

type Check = (value: unknown) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const string: Check = (v) => typeof v === 'string';
const boolean: Check = (v) => typeof v === 'boolean';
const count: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const matching =
  (pattern: RegExp): Check =>
  (v) =>
    typeof v === 'string' && pattern.test(v);
const nullOr =
  (check: Check): Check =>
  (v) =>
    v === null || check(v);
const oneOf =
  (values: ReadonlySet<string>): Check =>
  (v) =>
    typeof v === 'string' && values.has(v);
const listOf =
  (check: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(check);

const accountSid = matching(ACCOUNT_SID);
const numberSid = matching(NUMBER_SID);
const serviceSid = matching(SERVICE_SID);

/** A route as `describeRoute` reads it. */
const route: Check = (v) =>
  isObject(v) &&
  oneOf(ROUTES)(v['via']) &&
  (v['via'] === 'none' || v['via'] === 'dropped' || (string(v['url']) && string(v['method'])));

/**
 * The state of each kind of observed resource, as the drift check, the settling of a step left
 * in flight and the search for leftovers read it (`resources.ts`).
 */
const OBSERVED: Record<string, Check> = {
  number: (v) =>
    isObject(v) &&
    accountSid(v['account_sid']) &&
    nullOr(serviceSid)(v['service_sid'] ?? null) &&
    nullOr(string)(v['sms_url'] ?? null) &&
    nullOr(string)(v['sms_method'] ?? null),
  service: nullOr(isObject),
  subaccount: nullOr(isObject),
  'subaccounts-named': listOf(accountSid),
  'services-named': listOf(serviceSid),
};

/** The members each action has, beside `id`, `action`, `customer_id` and `depends_on`. */
const STEP_FIELDS: Record<PlanStep['action'], Record<string, Check>> = {
  create_subaccount: { friendly_name: string },
  detach_number: {
    phone_number: string,
    number_sid: numberSid,
    account_sid: accountSid,
    service_sid: serviceSid,
    service_name: string,
  },
  transfer_number: {
    phone_number: string,
    number_sid: numberSid,
    from_account_sid: accountSid,
    to_account_sid: nullOr(accountSid),
  },
  create_service: {
    friendly_name: string,
    account_sid: nullOr(accountSid),
    // Each is sent as a form field: only the settings `plan` copies.
    settings: (v) =>
      isObject(v) &&
      Object.entries(v).every(
        ([name, s]) =>
          SETTINGS.has(name) && (s === null || ['string', 'number', 'boolean'].includes(typeof s)),
      ),
  },
  attach_number: {
    phone_number: string,
    number_sid: numberSid,
    account_sid: nullOr(accountSid),
    service_sid: nullOr(serviceSid),
    service_name: string,
  },
  set_number_webhook: {
    phone_number: string,
    number_sid: numberSid,
    account_sid: nullOr(accountSid),
    sms_url: string,
    sms_method: string,
    sms_fallback_url: nullOr(string),
    sms_fallback_method: nullOr(string),
  },
  carry_optouts: {
    account_sid: nullOr(accountSid),
    sender: oneOf(new Set(['service', 'number'])),
    service_sid: nullOr(serviceSid),
    service_name: nullOr(string),
    optouts: count,
    // At most CARRY_BATCH_SIZE in a plan to apply (checked below); any in a run's plan.
    batch_size: (v) => Number.isSafeInteger(v) && (v as number) >= 1,
    requests: count,
    already_carried: count,
  },
};

const FIELD_CHECKS = new Map(
  Object.entries(STEP_FIELDS).map(([action, fields]) => [
    action as PlanStep['action'],
    Object.entries(fields),
  ]),
);

/**
 * Every member each part of a plan may have: what this version, and every one before it,
 * writes. A member beyond them is one a newer submigrate added (a plan's format stays
 * `submigrate-plan/1` as members are added, as `sms_fallback_url` was): read without it, the
 * plan would be applied as it was not reviewed, a step doing less than it says.
 */
const PLAN_MEMBERS = new Set([
  'format',
  'created_at',
  'parent_account_sid',
  'mapping',
  'options',
  'fingerprint',
  'observed',
  'summary',
  'warnings',
  'customers',
  'steps',
  'carry',
  'carry_items',
  'integrity',
]);
const MAPPING_MEMBERS = new Set(['path', 'sha256', 'rows']);
const OPTIONS_MEMBERS = new Set(['snapshot', 'carry_optouts']);
const CUSTOMER_MEMBERS = new Set([
  'customer_id',
  'customer_name',
  'subaccount_sid',
  'subaccount_source',
  'messaging_service',
  'service_sid',
  'numbers',
  'optouts',
]);
const NUMBER_MEMBERS = new Set([
  'line',
  'phone_number',
  'number_sid',
  'unchanged',
  'route_before',
  'route_after',
  'from_origin',
  'optout_services',
]);
const STEP_MEMBERS = new Map(
  Object.entries(STEP_FIELDS).map(([action, fields]) => [
    action,
    new Set(['id', 'action', 'customer_id', 'depends_on', ...Object.keys(fields)]),
  ]),
);
const CARRY_MEMBERS = new Set(['batch_size', 'requests', 'requests_per_minute', 'seconds']);
const CARRY_ITEM_MEMBERS = new Set(['step', 'contact_id', 'sender_number', 'date_of_consent']);

/** Steps named by their customer (one each); the others are named by their number. */
const PER_CUSTOMER = new Set<PlanStep['action']>([
  'create_subaccount',
  'create_service',
  'carry_optouts',
]);

/**
 * Where a plan is read from: a plan `file` that `apply` is to run, or the `journal`'s copy of
 * the plan an apply run ran (read again by `report`, `routes`, `reconcile`). A run's plan may
 * have been written by an earlier `plan`, which allowed what this one refuses: a
 * `--carry-batch-size` above Twilio's 25, two customers pinned to one subaccount. Its run is
 * over, or resumed only from the plan file: its reports are still written.
 *
 * `apply` is the plan file `apply` reads: its customer_ids are held to the rules of the
 * mapping an earlier `plan` allowed (a Windows device name, ids differing only in case), as a
 * run of it that an earlier submigrate began is continued from it; apply refuses to begin a
 * new run of such a plan (`refuseNewRunIds`), before anything is sent.
 */
export type PlanSource = 'file' | 'apply' | 'journal';

/** Throws a UserError naming the first way `plan` (the value of a sealed plan file) is not one. */
export function checkPlanShape(
  path: string,
  plan: Record<string, unknown>,
  source: PlanSource = 'file',
): void {
  const applied = source === 'journal';
  /** Customer ids held to the rules an earlier mapping had (see `refuseNewRunIds`). */
  const recordedIds = source !== 'file';
  const refuse = (what: string): never => {
    throw new UserError(
      `${path}: ${what}; the plan is not one \`submigrate plan\` writes (edited by hand?): make the plan again with \`submigrate plan\``,
    );
  };
  // The reason is made only for a refusal: a plan of 100,000 numbers checks millions of things.
  const need = (ok: boolean, what: () => string) => {
    if (!ok) refuse(what());
  };
  /** A member no submigrate this old writes: the plan is a newer one's, refused, not misread. */
  const onlyKnown = (owner: Record<string, unknown>, known: ReadonlySet<string>, where: string) => {
    for (const name of Object.keys(owner)) {
      if (known.has(name)) continue;
      throw new UserError(
        `${path}: ${where}${name} is a member this version of submigrate does not know: a newer submigrate made the plan. Apply it with the submigrate that made it, or make the plan again with this one (\`submigrate plan\`); nothing was sent`,
      );
    }
  };
  const member = (
    owner: Record<string, unknown>,
    name: string,
    check: Check,
    where: string,
    optional = false,
  ) => {
    if (optional && !(name in owner)) return;
    need(
      Object.hasOwn(owner, name) && check(owner[name]),
      () =>
        `${where}${name} is ${name in owner ? shownJson(owner[name])?.slice(0, 80) : 'missing'}`,
    );
  };

  onlyKnown(plan, PLAN_MEMBERS, '');
  member(plan, 'created_at', string, '');
  member(plan, 'parent_account_sid', accountSid, '');
  member(plan, 'mapping', isObject, '');
  const mapping = plan['mapping'] as Record<string, unknown>;
  onlyKnown(mapping, MAPPING_MEMBERS, 'mapping.');
  member(mapping, 'path', string, 'mapping.');
  member(mapping, 'sha256', string, 'mapping.');
  member(mapping, 'rows', count, 'mapping.');
  member(plan, 'options', isObject, '');
  const options = plan['options'] as Record<string, unknown>;
  onlyKnown(options, OPTIONS_MEMBERS, 'options.');
  member(options, 'snapshot', boolean, 'options.');
  member(options, 'carry_optouts', boolean, 'options.', true);
  member(plan, 'fingerprint', string, '');
  member(plan, 'summary', isObject, '');
  member(plan, 'warnings', listOf(isObject), '');
  (plan['warnings'] as Record<string, unknown>[]).forEach((warning, i) => {
    member(warning, 'code', string, `warnings[${i}].`);
    member(warning, 'customer_id', nullOr(string), `warnings[${i}].`);
    member(warning, 'message', string, `warnings[${i}].`);
  });

  // observed: what the drift check reads again, and the fingerprint of it.
  member(plan, 'observed', isObject, '');
  const observed = plan['observed'] as Record<string, unknown>;
  for (const [key, state] of Object.entries(observed)) {
    const kind = key.slice(0, Math.max(0, key.indexOf(':')));
    need(
      Object.hasOwn(OBSERVED, kind),
      () => `observed resource ${JSON.stringify(key)} is of no kind apply reads`,
    );
    need(OBSERVED[kind]!(state), () => `observed ${key} is ${shownJson(state)?.slice(0, 80)}`);
  }
  need(
    plan['fingerprint'] === fingerprint(new Map(Object.entries(observed))),
    () => 'its fingerprint is not that of its observed resources',
  );

  // customers
  member(plan, 'customers', Array.isArray, '');
  const customers = new Map<string, Record<string, unknown>>();
  /** Each customer_id by its case-folded form (report file names). */
  const foldedIds = new Map<string, string>();
  /** Subaccount → the customer going to it. */
  const customerOf = new Map<string, string>();
  const numbersOf = new Map<string, Map<string, string>>();
  (plan['customers'] as unknown[]).forEach((customer, i) => {
    need(isObject(customer), () => `customers[${i}] is not an object`);
    const c = customer as Record<string, unknown>;
    const where = `customers[${i}].`;
    onlyKnown(c, CUSTOMER_MEMBERS, where);
    // A customer_id names files of the reports (optouts/<customer_id>.csv). A plan an apply
    // run recorded is held to the rules of the mapping it was made from: a run an earlier
    // submigrate made with a customer "CON", or "acme" beside "ACME", still has its reports
    // written again, on a file system that can hold them.
    need(
      typeof c['customer_id'] === 'string' &&
        (recordedIds ? RECORDED_CUSTOMER_ID : CUSTOMER_ID).test(c['customer_id']),
      () => `customer_id ${JSON.stringify(c['customer_id'])} is not one a mapping allows`,
    );
    const id = c['customer_id'] as string;
    need(!customers.has(id), () => `customer ${id} is listed twice`);
    const alike = foldedIds.get(foldedId(id));
    need(
      recordedIds || alike === undefined,
      () =>
        `customers ${alike!} and ${id} differ only in case: their report files would be one file on macOS and Windows`,
    );
    foldedIds.set(foldedId(id), id);
    customers.set(id, c);
    member(c, 'customer_name', string, where);
    member(c, 'subaccount_sid', nullOr(accountSid), where);
    need(
      c['subaccount_sid'] !== plan['parent_account_sid'],
      () => `customer ${id}'s subaccount is the parent account itself`,
    );
    // One subaccount per customer, as `plan` refuses a mapping that would share one.
    const subaccount = c['subaccount_sid'] as string | null;
    if (subaccount !== null && !applied) {
      const sharer = customerOf.get(subaccount);
      need(
        sharer === undefined,
        () => `customers ${sharer!} and ${id} both go to subaccount ${subaccount}`,
      );
      customerOf.set(subaccount, id);
    }
    member(c, 'subaccount_source', oneOf(SOURCES), where);
    member(c, 'messaging_service', nullOr(string), where);
    member(c, 'service_sid', nullOr(serviceSid), where);
    member(c, 'optouts', count, where);
    member(c, 'numbers', listOf(isObject), where);
    const numbers = new Map<string, string>();
    (c['numbers'] as Record<string, unknown>[]).forEach((n, j) => {
      const at = `${where}numbers[${j}].`;
      onlyKnown(n, NUMBER_MEMBERS, at);
      member(n, 'line', count, at);
      member(n, 'phone_number', string, at);
      member(n, 'number_sid', numberSid, at);
      member(n, 'unchanged', boolean, at);
      member(n, 'route_before', route, at);
      member(n, 'route_after', route, at);
      member(n, 'from_origin', (v) => v === true, at, true);
      member(n, 'optout_services', listOf(string), at, true);
      need(
        isObject(observed[`number:${n['number_sid'] as string}`]),
        () =>
          `customer ${id}'s number ${n['number_sid'] as string} is not among the observed resources`,
      );
      numbers.set(n['number_sid'] as string, n['phone_number'] as string);
    });
    numbersOf.set(id, numbers);
  });
  const owners = new Map<string, string>();
  for (const [id, numbers] of numbersOf) {
    for (const sid of numbers.keys()) {
      const other = owners.get(sid);
      need(other === undefined, () => `number ${sid} is both ${other}'s and ${id}'s`);
      owners.set(sid, id);
    }
  }

  // steps
  member(plan, 'steps', Array.isArray, '');
  const steps = new Map<string, PlanStep>();
  /**
   * Each step's dependencies, direct or not, that create a subaccount or a service: what the
   * checks below ask of them. (All of them would be a set per step: 200,000 sets for a plan of
   * 100,000 numbers.) Equal lists are one array.
   */
  const creatorsBefore = new Map<string, readonly string[]>();
  const lists = new Map<string, readonly string[]>();
  const NONE: readonly string[] = [];
  (plan['steps'] as unknown[]).forEach((value, i) => {
    need(isObject(value), () => `steps[${i}] is not an object`);
    const step = value as Record<string, unknown>;
    const action = step['action'];
    need(
      typeof action === 'string' && Object.hasOwn(STEP_FIELDS, action),
      () => `steps[${i}] has action ${JSON.stringify(action)}, which this submigrate does not know`,
    );
    const where = `step ${typeof step['id'] === 'string' ? step['id'] : `[${i}]`}: `;
    onlyKnown(step, STEP_MEMBERS.get(action as string)!, where);
    member(step, 'id', string, where);
    member(step, 'customer_id', string, where);
    member(step, 'depends_on', listOf(string), where);
    if (action === 'set_number_webhook') {
      // A plan written before steps carried a fallback has neither field: none.
      step['sms_fallback_url'] ??= null;
      step['sms_fallback_method'] ??= null;
    }
    for (const [name, check] of FIELD_CHECKS.get(action as PlanStep['action'])!) {
      member(step, name, check, where);
    }
    if (action === 'carry_optouts' && !applied) {
      member(step, 'batch_size', (v) => (v as number) <= CARRY_BATCH_SIZE, where);
    }
    const s = step as unknown as PlanStep;
    const customer = customers.get(s.customer_id);
    need(
      customer !== undefined,
      () => `step ${s.id} is for customer ${s.customer_id}, who is not in the plan's customers`,
    );
    const key = PER_CUSTOMER.has(s.action)
      ? s.customer_id
      : (s as { number_sid: string }).number_sid;
    need(s.id === `${s.action}:${key}`, () => `step ${s.id} should be named ${s.action}:${key}`);
    need(!steps.has(s.id), () => `step ${s.id} appears twice`);
    if (!PER_CUSTOMER.has(s.action)) {
      const { number_sid: sid, phone_number: phone } = s as {
        number_sid: string;
        phone_number: string;
      };
      need(
        numbersOf.get(s.customer_id)!.get(sid) === phone,
        () =>
          `step ${s.id} moves ${phone} (${sid}), which is not a number of customer ${s.customer_id}`,
      );
    }
    const creators = new Set<string>();
    for (const dependency of s.depends_on) {
      need(steps.has(dependency), () =>
        dependency === s.id
          ? `step ${s.id} depends on itself`
          : `step ${s.id} depends on ${dependency}, which is not a step before it in the plan`,
      );
      const { action: kind } = steps.get(dependency)!;
      if (kind === 'create_subaccount' || kind === 'create_service') creators.add(dependency);
      for (const earlier of creatorsBefore.get(dependency)!) creators.add(earlier);
    }
    steps.set(s.id, s);
    const creatorKey = [...creators].sort().join(' ');
    let made = lists.get(creatorKey);
    if (made === undefined) {
      made = creatorKey === '' ? NONE : creatorKey.split(' ');
      lists.set(creatorKey, made);
    }
    creatorsBefore.set(s.id, made);

    // What the step acts in must be there, or made by a step before it.
    const c = customer!;
    const subaccount = `create_subaccount:${s.customer_id}`;
    const service = `create_service:${s.customer_id}`;
    if (s.action === 'create_subaccount') {
      need(
        c['subaccount_sid'] === null,
        () => `step ${s.id} creates a subaccount for a customer who has one`,
      );
    } else if (s.action === 'create_service') {
      need(
        c['service_sid'] === null,
        () => `step ${s.id} creates a service for a customer who has one`,
      );
    }
    // What the step shows is what apply does: apply acts in the customer's subaccount and
    // service, whatever a step's own fields say.
    const shown: [string, unknown, unknown][] = [];
    if (s.action === 'create_subaccount')
      shown.push(['friendly_name', s.friendly_name, c['customer_name']]);
    if (s.action === 'create_service')
      shown.push(['friendly_name', s.friendly_name, c['messaging_service']]);
    if (s.action === 'transfer_number')
      shown.push(['to_account_sid', s.to_account_sid, c['subaccount_sid']]);
    if (s.action === 'attach_number') shown.push(['service_sid', s.service_sid, c['service_sid']]);
    if (s.action === 'carry_optouts' && s.sender === 'service') {
      shown.push(['service_sid', s.service_sid, c['service_sid']]);
    }
    if (
      s.action === 'create_service' ||
      s.action === 'attach_number' ||
      s.action === 'set_number_webhook' ||
      s.action === 'carry_optouts'
    ) {
      shown.push(['account_sid', s.account_sid, c['subaccount_sid']]);
    }
    for (const [name, value, customerValue] of shown) {
      need(
        value === customerValue,
        () =>
          `step ${s.id} has ${name} ${JSON.stringify(value)}, but its customer's is ${JSON.stringify(customerValue)}`,
      );
    }
    const usesSubaccount = s.action !== 'create_subaccount' && s.action !== 'detach_number';
    if (usesSubaccount && c['subaccount_sid'] === null) {
      need(
        made.includes(subaccount),
        () =>
          `step ${s.id} does not come after ${subaccount}, which makes the subaccount it acts in`,
      );
    }
    const usesService =
      s.action === 'attach_number' || (s.action === 'carry_optouts' && s.sender === 'service');
    if (usesService && c['service_sid'] === null) {
      need(
        made.includes(service),
        () => `step ${s.id} does not come after ${service}, which makes the service it acts in`,
      );
    }
  });

  // Without the option, apply does not check the carry against the ledger (opt-outs recorded
  // since the plan was made): a plan that carries is one made with it.
  const carries = [...steps.values()].some((s) => s.action === 'carry_optouts');
  need(
    !carries || options['carry_optouts'] === true,
    () =>
      'it has carry_optouts steps but was not made with --carry-optouts (options.carry_optouts)',
  );

  // carry_items: each names a carry step, and each carry step has as many as it says.
  member(plan, 'carry', isObject, '', true);
  if (isObject(plan['carry'])) onlyKnown(plan['carry'], CARRY_MEMBERS, 'carry.');
  member(plan, 'carry_items', listOf(isObject), '', true);
  const left = new Map(
    [...steps.values()].filter((s) => s.action === 'carry_optouts').map((s) => [s.id, s.optouts]),
  );
  const phones = new Map<string, Set<string>>();
  const phonesOf = (customerId: string) => {
    let set = phones.get(customerId);
    if (set === undefined) {
      set = new Set(numbersOf.get(customerId)!.values());
      phones.set(customerId, set);
    }
    return set;
  };
  for (const [i, item] of ((plan['carry_items'] ?? []) as Record<string, unknown>[]).entries()) {
    const where = `carry_items[${i}].`;
    onlyKnown(item, CARRY_ITEM_MEMBERS, where);
    member(item, 'step', string, where);
    member(item, 'contact_id', string, where);
    member(item, 'sender_number', nullOr(string), where);
    member(item, 'date_of_consent', string, where);
    const remaining = left.get(item['step'] as string);
    need(
      remaining !== undefined,
      () => `a carry item names ${item['step'] as string}, which is not a carry step`,
    );
    // Its sender_id: the customer's service, or one of the customer's numbers.
    const step = steps.get(item['step'] as string) as Extract<
      PlanStep,
      { action: 'carry_optouts' }
    >;
    const sender = item['sender_number'];
    need(
      step.sender === 'service'
        ? sender === null
        : phonesOf(step.customer_id).has(sender as string),
      () => `${where}sender_number ${JSON.stringify(sender)} is not a sender of ${step.id}`,
    );
    left.set(item['step'] as string, remaining! - 1);
  }
  for (const [id, remaining] of left) {
    need(remaining === 0, () => `step ${id} does not have the records its count says`);
    const step = steps.get(id) as Extract<PlanStep, { action: 'carry_optouts' }>;
    need(
      step.requests === Math.ceil(step.optouts / step.batch_size),
      () =>
        `step ${id} says ${step.requests} request(s) for ${step.optouts} record(s) ${step.batch_size} to a request`,
    );
  }
}

/**
 * Refuses a plan whose customer_ids a mapping no longer allows (a Windows device name, two ids
 * differing only in case) when no apply run of it has begun: such a plan was made by an
 * earlier submigrate, and a run of it is only continued, not begun.
 */
export function refuseNewRunIds(path: string, plan: Plan): void {
  const folded = new Map<string, string>();
  for (const { customer_id: id } of plan.customers) {
    const alike = folded.get(foldedId(id));
    const why = !CUSTOMER_ID.test(id)
      ? `customer_id ${JSON.stringify(id)} is a name Windows keeps for a device: its report file (optouts/${id}.csv) could not be written or copied there`
      : alike !== undefined
        ? `customers ${alike} and ${id} differ only in case: their report files would be one file on macOS and Windows`
        : null;
    if (why !== null) {
      throw new UserError(
        `${path}: ${why}. An earlier submigrate made this plan; no apply run of it has begun, and none is begun now: nothing was sent. Give the customer another id in the mapping and make the plan again with \`submigrate plan\``,
      );
    }
    folded.set(foldedId(id), id);
  }
}
