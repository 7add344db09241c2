/**
 * What a reviewer must know before approving a plan: what Twilio will not carry across
 * (A2P 10DLC registrations, toll-free verifications, opt-outs, and what the Consent API does
 * not cover when they are carried), what the tool cannot vouch for (numbers no completed
 * snapshot covers), and limits the plan would run into.
 */

import type { PlanOptions } from './build-plan.js';
import { quoted } from './mapping.js';
import { describeUnlisted } from './observe.js';
import { snapshotCommand } from './replan.js';
import { hasSmsFallback } from './inbound-plan.js';
import {
  describeRoute,
  judgeRoute,
  lostRoute,
  sameFallback,
  serviceFallback,
  shownUrl,
  webhookOf,
  type RouteFallback,
} from './routes.js';
import type {
  CarryOptOutsStep,
  NumberOrigin,
  ObservedNumber,
  ObservedService,
  ObservedState,
  PlanCustomer,
  PlanStep,
  PlanWarning,
} from './types.js';

/**
 * Currently opted-out recipients, by number (number scope) and by service (service scope): the
 * keys of each list (a set of them, or the carry's map of them to their dates, `CarryIndex`).
 */
export interface OptOutIndex {
  byNumber: ReadonlyMap<string, { keys(): Iterable<string> }>;
  byService: ReadonlyMap<string, { keys(): Iterable<string> }>;
}

/** Twilio's defaults: numbers per Messaging Service, open subaccounts per main account. */
export const SERVICE_POOL_LIMIT = 400;
export const SUBACCOUNT_LIMIT = 1000;

const TOLL_FREE = /^\+1(800|833|844|855|866|877|888)\d{7}$/;
const isTollFree = (phone: string, type: string | null) =>
  (type !== null && /toll.?free/i.test(type)) || TOLL_FREE.test(phone);

/**
 * A name as people read it: case, runs of spaces, the kind of space (a no-break space), the
 * characters that show nothing (a zero-width space) and the forms of a letter (é as one
 * character or two, a ligature) do not count. Nor does Turkish case: `toLowerCase` makes `İ`
 * an `i` with a dot above and leaves `ı` dotless, so `İstanbul` and `ISTANBUL`, typed on a
 * Turkish and on another keyboard, read as two names.
 */
const normalName = (name: string) =>
  name
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .trim()
    .replace(/\s+/g, ' ')
    .toLowerCase()
    .replace(/i\u0307|\u0131/g, 'i');

/** `SMS: TwiML App AP…, voice: TwiML App AP…`: the apps a number answers through. */
const twimlApps = (n: ObservedNumber) => {
  const { sms = null, voice = null } = n.applications ?? {};
  return [
    sms === null ? null : `SMS: TwiML App ${sms}`,
    voice === null ? null : `voice: TwiML App ${voice}`,
  ]
    .filter((app) => app !== null)
    .join(', ');
};

const list = (items: readonly string[], max = 5) =>
  items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

export function planWarnings(
  observed: ObservedState,
  customers: readonly PlanCustomer[],
  steps: readonly PlanStep[],
  options: PlanOptions,
  /**
   * Without --carry-optouts, customer_id → its records an earlier apply wrote into its
   * subaccount and those it did not (only customers with some written).
   */
  writtenBefore: ReadonlyMap<string, { written: number; left: number }> = new Map(),
): PlanWarning[] {
  const warnings: PlanWarning[] = [];
  const add = (code: PlanWarning['code'], customer: string | null, message: string) =>
    warnings.push({ code, customer_id: customer, message });

  if (!options.snapshotRefreshed) {
    add(
      'snapshot_not_refreshed',
      null,
      'the opt-out figures come from the ledger as it was: plan ran with --no-snapshot',
    );
  }
  const open = observed.subaccounts.filter((a) => a.status !== 'closed').length;
  const creating = customers.filter((c) => c.subaccount_sid === null).length;
  if (open + creating > SUBACCOUNT_LIMIT) {
    add(
      'subaccount_limit',
      null,
      `${open} open subaccounts + ${creating} to create exceeds Twilio's default limit of ${SUBACCOUNT_LIMIT} (error 21480): ask Twilio support to raise it first`,
    );
  }

  const unlisted = observed.unlisted ?? [];
  if (unlisted.length > 0) {
    // Said, never passed over: the plan saw nothing of the numbers there.
    add(
      'subaccount_not_listed',
      null,
      `${unlisted.length} subaccount(s) of the family could not be listed: ${unlisted.map(describeUnlisted).join(', ')}. With an API key, Twilio refuses a suspended or closed subaccount's own credentials, with which its numbers are listed: the plan cannot vouch for numbers there (every mapped number was found in an account listed; one there would have been refused as not found). Run plan with the parent's Auth Token (TWILIO_AUTH_TOKEN), which lists them, or make the subaccount active again, to see them`,
    );
  }

  const notPlaced = options.notPlaced ?? 0;
  if (notPlaced > 0) {
    // Said, not dropped: such a pair binds no number the mapping can name.
    add(
      'optouts_not_placed',
      null,
      `${notPlaced} opted-out pair(s) (a recipient and the sender they opted out of: one person counts once for each such sender) have a sender that is no phone number — an RCS agent, a short code, an alphanumeric sender ID — and came through no Messaging Service a snapshot listed: they are on no customer's list. \`submigrate optouts\` shows them (its \`not placed:\` lines); if such a sender sends for a customer's numbers, put those recipients on that customer's list by hand`,
    );
  }

  const carrying = (options.carry ?? null) !== null;
  const bySid = new Map(observed.numbers.map((n) => [n.sid, n]));
  const accounts = new Map(observed.subaccounts.map((a) => [a.sid, a]));
  /** The existing subaccounts the plan gives its customers. */
  const taken = new Set(
    customers.flatMap((c) => (c.subaccount_sid === null ? [] : [c.subaccount_sid])),
  );
  const servicesById = new Map(observed.services.map((s) => [s.sid, s]));
  // The fallbacks this plan gives numbers of their own (with the URL they answered on).
  const fallbackSet = new Map<string, RouteFallback>();
  // The status callback each new service is given (copied from one service its numbers leave),
  // and the fallback it calls when its inbound URL fails (null: none).
  const createdCallback = new Map<string, string | null>();
  const createdFallback = new Map<string, RouteFallback | null>();
  for (const step of steps) {
    if (step.action === 'set_number_webhook' && step.sms_fallback_url !== null) {
      fallbackSet.set(step.number_sid, {
        url: step.sms_fallback_url,
        method: step.sms_fallback_method ?? 'POST',
      });
    }
    if (step.action === 'create_service') {
      createdCallback.set(step.customer_id, step.settings.status_callback ?? null);
      createdFallback.set(step.customer_id, serviceFallback(step.settings));
    }
  }
  // Numbers per service, as observed.
  const members = new Map<string, number>();
  for (const n of observed.numbers) {
    if (n.serviceSid !== null) members.set(n.serviceSid, (members.get(n.serviceSid) ?? 0) + 1);
  }
  // Numbers in a service that the mapping does not name, by account: an earlier wave's.
  const mapped = new Set(customers.flatMap((c) => c.numbers.map((n) => n.number_sid)));
  const unmapped = new Map<string, ObservedNumber[]>();
  for (const n of observed.numbers) {
    if (n.serviceSid === null || mapped.has(n.sid)) continue;
    const held = unmapped.get(n.accountSid);
    if (held === undefined) unmapped.set(n.accountSid, [n]);
    else held.push(n);
  }
  for (const customer of customers) {
    const id = customer.customer_id;
    // Where each of the customer's numbers is now, and those of them that move: the observed
    // numbers themselves (a copy of each with its `unchanged` was 100,000 objects to collect).
    const now: ObservedNumber[] = [];
    const moving: ObservedNumber[] = [];
    for (const n of customer.numbers) {
      const found = bySid.get(n.number_sid);
      if (found === undefined) continue;
      now.push(found);
      if (!n.unchanged) moving.push(found);
    }
    const leaving = moving.filter(
      (n) => n.serviceSid !== null && n.serviceSid !== customer.service_sid,
    );
    if (leaving.length > 0) {
      add(
        'a2p_registration',
        id,
        `${leaving.length} number(s) leave a Messaging Service (${list(leaving.map((n) => n.phoneNumber))}): an A2P 10DLC registration does not move with them; register them again in the subaccount`,
      );
    }
    const tollFree = moving.filter(
      (n) => n.accountSid !== customer.subaccount_sid && isTollFree(n.phoneNumber, n.type),
    );
    if (tollFree.length > 0) {
      add(
        'toll_free_verification',
        id,
        `toll-free ${list(tollFree.map((n) => n.phoneNumber))}: a toll-free verification does not move with the number; submit it again for the subaccount`,
      );
    }
    const uncovered = now.filter((n) => !options.coveredAccounts.has(n.accountSid));
    if (uncovered.length > 0) {
      const snapshot = snapshotCommand(
        observed.parentSid,
        uncovered.map((n) => n.accountSid),
        options.dbPath ?? null,
      );
      add(
        'optouts_not_snapshotted',
        id,
        `no completed snapshot covers the history of ${list(uncovered.map((n) => n.phoneNumber))} (account ${list([...new Set(uncovered.map((n) => n.accountSid))])})${options.olderRulesNote ?? ''}: their opt-outs are unknown, and apply will refuse to move them until \`${snapshot}\` has read it: run it, then make this plan again${carrying ? ' (a plan carries only the opt-outs known when it is made)' : ' (so that it shows the opt-outs found)'}`,
      );
    }
    // A reused service keeps the numbers it holds: they count towards its pool too.
    const already =
      customer.service_sid === null
        ? 0
        : (members.get(customer.service_sid) ?? 0) -
          now.filter((n) => n.serviceSid === customer.service_sid).length;
    const pool = already + customer.numbers.length;
    if (customer.messaging_service !== null && pool > SERVICE_POOL_LIMIT) {
      add(
        'service_pool_limit',
        id,
        already === 0
          ? `${pool} numbers for one Messaging Service: Twilio allows ${SERVICE_POOL_LIMIT} by default (error 21714)`
          : `${pool} numbers for the existing service "${customer.messaging_service}" (${already} already in it that the mapping does not name, and ${customer.numbers.length} mapped): Twilio allows ${SERVICE_POOL_LIMIT} by default (error 21714)`,
      );
    }
    const lost = customer.numbers.filter(
      (n) => !n.unchanged && lostRoute(judgeRoute(n.route_before, n.route_after)),
    );
    if (lost.length > 0) {
      add(
        'inbound_route',
        id,
        `the existing service "${customer.messaging_service}" would drop or divert inbound messages: ${lost
          .slice(0, 5)
          .map(
            (n) =>
              `${n.phone_number} ${describeRoute(n.route_before)} -> ${describeRoute(n.route_after)}`,
          )
          .join(
            '; ',
          )}${lost.length > 5 ? `; and ${lost.length - 5} more` : ''}. Before apply: set up "${customer.messaging_service}" to route them as before (its inbound URL, or use_inbound_webhook_on_number), or name another messaging_service in the mapping (a new one is given the settings of the service they leave), then plan again`,
      );
    }
    // A reused service keeps a number's inbound URL but not the fallback the service it leaves
    // gave it (Twilio calls that when the URL fails): routes judge the URL only, so say it here
    // (the routing check after the move names it beside the route's verdict).
    const reused =
      customer.service_sid === null ? undefined : servicesById.get(customer.service_sid);
    if (reused !== undefined) {
      const fallbackLost = customer.numbers.flatMap((n) => {
        const before = n.route_before;
        const after = n.route_after;
        if (n.unchanged || before.via !== 'service' || lostRoute(judgeRoute(before, after)))
          return [];
        const was = serviceFallback(servicesById.get(before.service_sid)?.settings);
        if (was === null) return [];
        const kept =
          after.via === 'service'
            ? sameFallback(serviceFallback(reused.settings), was)
            : sameFallback(fallbackSet.get(n.number_sid) ?? null, was) ||
              (bySid.has(n.number_sid) && hasSmsFallback(bySid.get(n.number_sid)!, was));
        return kept ? [] : [`${n.phone_number} (${was.method} ${shownUrl(was.url)})`];
      });
      if (fallbackLost.length > 0) {
        const has = serviceFallback(reused.settings);
        add(
          'inbound_route',
          id,
          `the existing service "${customer.messaging_service}" (${reused.sid}) keeps the inbound URL of ${list(fallbackLost)} but not the fallback URL the service they leave calls when that URL fails (it has ${has === null ? 'no fallback' : `fallback ${has.method} ${shownUrl(has.url)}`}): ${reused.settings.use_inbound_webhook_on_number === true ? `it defers to its numbers' own webhooks, so set that fallback as each number's own SMS fallback URL (sms_fallback_url)` : `set that fallback on "${customer.messaging_service}"`} if it should still be called`,
        );
      }
    }
    // A number that answered on its own sms_url, which is the new service's inbound URL too:
    // the service (not deferring to it) calls that URL, and its own fallback when the URL
    // fails, not the number's sms_fallback_url. The route is the same; the fallback is not.
    if (createdFallback.has(id)) {
      const given = createdFallback.get(id)!;
      const replaced = customer.numbers.flatMap((n) => {
        const own = bySid.get(n.number_sid)?.smsFallback;
        if (n.unchanged || own === undefined) return [];
        if (n.route_before.via !== 'number' || n.route_after.via !== 'service') return [];
        if (lostRoute(judgeRoute(n.route_before, n.route_after))) return [];
        if (given !== null && hasSmsFallback(bySid.get(n.number_sid)!, given)) return [];
        return [`${n.phone_number} (fallback ${own.method.toUpperCase()} ${shownUrl(own.url)})`];
      });
      if (replaced.length > 0) {
        add(
          'inbound_route',
          id,
          `${list(replaced)} answered on their own sms_url, which is the inbound URL the new service "${customer.messaging_service}" calls for them; but when that URL fails the service calls its own fallback (${given === null ? 'none' : `${given.method} ${shownUrl(given.url)}`}), not theirs. If theirs should still be called, leave the customer's messaging_service empty in the mapping and plan again (each number then keeps its own sms_url and fallback), or set the service's fallback to theirs after apply (it is then the fallback of every number in the service)`,
        );
      }
    }
    // A service's status callback (delivery receipts of the messages sent through it) belongs
    // to the service: a new service copies that of one service its numbers leave (not of any
    // other), no service has none to give, and a reused service gives its own. Said here: the
    // routes and their check are about inbound only.
    const created =
      customer.messaging_service !== null && reused === undefined
        ? createdCallback.get(id)
        : undefined;
    const callbacks = new Map<string, { url: string; service: string; numbers: string[] }>();
    for (const n of moving) {
      const origin = options.origins?.get(n.sid);
      const from = origin === undefined ? n.serviceSid : origin.serviceSid;
      if (from === null || from === customer.service_sid) continue;
      const left = servicesById.get(from);
      const url = left?.settings.status_callback ?? null;
      if (left === undefined || url === null) continue;
      if (customer.messaging_service !== null && reused === undefined) {
        if (created === undefined || created === url) continue;
      }
      if (reused !== undefined && reused.settings.status_callback === url) continue;
      const seen = callbacks.get(from) ?? {
        url,
        service: `"${left.friendlyName}" (${left.sid})`,
        numbers: [],
      };
      seen.numbers.push(n.phoneNumber);
      callbacks.set(from, seen);
    }
    for (const { url, service, numbers } of callbacks.values()) {
      if (created !== undefined) {
        add(
          'status_callback',
          id,
          `${list(numbers)} leave the Messaging Service ${service}, which sends the delivery status of messages sent through it to its status callback ${shownUrl(url)}; the new service "${customer.messaging_service}" copies the settings of another service the customer's numbers leave, with ${created === null ? 'no status callback' : `status callback ${shownUrl(created)}`}: after the move, their messages' delivery receipts go there. Make the status callbacks of the services they leave alike and plan again, or set the new service's status callback after the move, if they should still reach ${shownUrl(url)}`,
        );
      } else if (reused === undefined) {
        add(
          'status_callback',
          id,
          `${list(numbers)} leave the Messaging Service ${service}, which sends the delivery status of messages sent through it to its status callback ${shownUrl(url)}; the mapping gives them no service, and a number has no status callback of its own for messages: after the move, their messages' delivery receipts reach ${shownUrl(url)} only when each send names it (StatusCallback). Name a messaging_service for the customer in the mapping (a new service is given this status callback) and plan again if they should still go there`,
        );
      } else {
        const has = reused.settings.status_callback;
        add(
          'status_callback',
          id,
          `${list(numbers)} leave the Messaging Service ${service}, which sends the delivery status of messages sent through it to its status callback ${shownUrl(url)}; the existing service "${customer.messaging_service}" (${reused.sid}) they join has ${has === null ? 'none' : `status callback ${shownUrl(has)}`}: set its status callback to ${shownUrl(url)} if their delivery receipts should still go there`,
        );
      }
    }
    const account =
      customer.subaccount_sid === null ? undefined : accounts.get(customer.subaccount_sid);
    if (account !== undefined && account.friendlyName !== customer.customer_name) {
      add(
        'subaccount_name',
        id,
        `its subaccount ${account.sid} is named ${quoted(account.friendlyName)}, not ${quoted(customer.customer_name)}: the plan leaves the name as it is (rename it in the console if it should follow the mapping)`,
      );
    }
    if (customer.subaccount_sid === null) {
      // A subaccount is matched by its exact name: one whose name only reads the same is not
      // the customer's, and the plan creates another beside it.
      // (Not one the plan gives another customer: that one is not this customer's to pin.)
      const wanted = normalName(customer.customer_name);
      const near = observed.subaccounts.filter(
        (a) => a.status === 'active' && normalName(a.friendlyName) === wanted && !taken.has(a.sid),
      );
      if (near.length > 0) {
        add(
          'subaccount_name_near_match',
          id,
          `${near.map((a) => `subaccount ${a.sid} is named ${quoted(a.friendlyName)}`).join(', ')}, which differs from ${quoted(customer.customer_name)} only in case, spaces or characters that look alike: the plan creates a new subaccount beside it; if that one is the customer's, pin it with subaccount_sid in the mapping (or make the names match) and plan again`,
        );
      }
    }
    if (customer.messaging_service !== null && customer.service_sid === null) {
      const wanted = normalName(customer.messaging_service);
      const near = observed.services.filter(
        (s) => s.accountSid === customer.subaccount_sid && normalName(s.friendlyName) === wanted,
      );
      if (near.length > 0) {
        add(
          'service_name_near_match',
          id,
          `the subaccount already has ${near.map((s) => `${quoted(s.friendlyName)} (${s.sid})`).join(', ')}, which differs from ${quoted(customer.messaging_service)} only in case, spaces or characters that look alike: the plan creates a new service beside it; make the names match if that one is meant`,
        );
      }
    }
    const earlier = earlierWaveServices(customer, unmapped, servicesById, options);
    if (earlier.length > 0) {
      const into =
        customer.messaging_service === null
          ? 'in no service'
          : `in ${quoted(customer.messaging_service)}, a new service beside ${earlier.length === 1 ? 'it' : 'them'}`;
      add(
        'service_beside_earlier_wave',
        id,
        `its subaccount ${customer.subaccount_sid} (an earlier apply's) holds ${earlier.map(({ service, numbers }) => `${list(numbers.map((n) => n.phoneNumber))} in ${quoted(service.friendlyName)} (${service.sid})`).join(', ')}, which this mapping does not name; this plan puts the numbers it maps ${into}: the customer's numbers will be in two services. If they belong together, give them the earlier wave's messaging_service (${list(earlier.map(({ service }) => quoted(service.friendlyName)))}) and plan again`,
      );
    }
    // A TwiML App answers instead of the number's own URLs: its URLs are not read here, so
    // the routes planned and checked, and the signature warnings, cannot include them.
    const apps = moving.filter(
      (n) =>
        (n.applications?.sms ?? null) !== null ||
        ((n.applications?.voice ?? null) !== null && n.accountSid !== customer.subaccount_sid),
    );
    if (apps.length > 0) {
      add(
        'inbound_route',
        id,
        `${list(apps.map((n) => `${n.phoneNumber} (${twimlApps(n)})`))} answer through TwiML Apps, whose URLs Twilio calls instead of the number's own: submigrate does not read them, so the inbound routes it plans and checks, and its signature warnings, leave them out. An app stays in the account the number leaves, and whether Twilio still uses it for a number moved to another account is not documented: after apply, give the numbers an app (or URLs) of the subaccount, and expect the app's URLs to be signed with the subaccount's Auth Token`,
      );
    }
    const dropped = customer.numbers.filter(
      (n) => !n.unchanged && n.route_before.via === 'dropped',
    );
    if (dropped.length > 0) {
      add(
        'inbound_already_dropped',
        id,
        `inbound messages to ${list(dropped.map((n) => n.phone_number))} are dropped today (their service has no inbound URL): nobody receives them before the move either`,
      );
    }
    if (customer.optouts > 0 && !carrying) {
      // Records an earlier apply wrote are known to the subaccount: saying it will not know
      // them, in a plan made again without --carry-optouts, was untrue.
      const before = writtenBefore.get(id);
      const enforce = `the customer's app must enforce \`submigrate optouts --customer ${id}\``;
      add(
        'optouts_on_numbers',
        id,
        before === undefined
          ? `${customer.optouts} opted-out recipient(s) on its numbers, whom the subaccount will not know: ${enforce}`
          : before.left === 0
            ? `${customer.optouts} opted-out recipient(s) on its numbers, all written into its subaccount through the Consent Management API by an earlier apply. Where Twilio does not enforce them (see carry.csv of that run), ${enforce}`
            : `${customer.optouts} opted-out recipient(s) on its numbers: an earlier apply wrote ${before.written} of its records into its subaccount through the Consent Management API; the subaccount will not know the other ${before.left} (plan with --carry-optouts to write them): ${enforce}`,
      );
    }
    if (customer.optouts > 0 && carrying) {
      // A customer of a subaccount whose records an earlier apply wrote, all of them, gets no
      // carry step: its subaccount knows them already, and saying it will not was untrue.
      const carry = steps.find(
        (s): s is CarryOptOutsStep => s.action === 'carry_optouts' && s.customer_id === id,
      );
      add(
        'optouts_on_numbers',
        id,
        carry === undefined && customer.subaccount_sid !== null
          ? `${customer.optouts} opted-out recipient(s) on its numbers, all written into its subaccount through the Consent Management API by an earlier apply: nothing is left to carry. Where Twilio does not enforce them (see carry.csv of that run), the customer's app must enforce \`submigrate optouts --customer ${id}\``
          : `${customer.optouts} opted-out recipient(s) on its numbers, whom the subaccount will not know until \`carry_optouts\` has written them${carry !== undefined && carry.already_carried > 0 ? ` (an earlier apply wrote ${carry.already_carried} of its records already; this plan writes the other ${carry.optouts})` : ''}: until then, and for any Twilio rejects or when the subaccount has no Consent API access, the customer's app must enforce \`submigrate optouts --customer ${id}\``,
      );
      const tollFreeNow = now.filter((n) => isTollFree(n.phoneNumber, n.type));
      if (tollFreeNow.length > 0) {
        add(
          'carry_toll_free',
          id,
          `toll-free ${list(tollFreeNow.map((n) => n.phoneNumber))}: Twilio's Consent Management API does not cover US toll-free numbers (their carriers keep their own opt-out block): for sends from them, count on the suppression list, not on the records \`carry_optouts\` writes`,
        );
      }
    }
  }
  // A number planned from where its unfinished move began, whose sms_url someone has set since.
  // Its planned numbers by SID are needed only when some step sets a webhook.
  const setsWebhooks = steps.some((step) => step.action === 'set_number_webhook');
  const planned = new Map(
    setsWebhooks ? customers.flatMap((c) => c.numbers.map((n) => [n.number_sid, n] as const)) : [],
  );
  for (const step of steps) {
    if (step.action !== 'set_number_webhook') continue;
    const live = bySid.get(step.number_sid)?.smsUrl ?? null;
    if (planned.get(step.number_sid)?.from_origin !== true || live === null) continue;
    if (live === step.sms_url) continue;
    add(
      'inbound_route',
      step.customer_id,
      `${step.phone_number} is planned from where its unfinished move began: its sms_url ${shownUrl(live)} is replaced by ${shownUrl(step.sms_url)}, where its inbound went then. If ${shownUrl(live)} was set on purpose since, set it again after apply`,
    );
  }
  warnings.push(
    ...signatureWarnings(observed.parentSid, customers, steps, bySid, options.origins ?? new Map()),
  );
  return warnings;
}

/**
 * The Messaging Services of a customer's subaccount, made by an earlier apply (a first wave),
 * that hold numbers this mapping does not name, when the plan puts the customer's numbers in
 * another service or none. A service is reused by its name alone: a second wave that names
 * another (a typo) or none splits the customer's numbers without a word.
 */
function earlierWaveServices(
  customer: PlanCustomer,
  unmapped: ReadonlyMap<string, readonly ObservedNumber[]>,
  services: ReadonlyMap<string, ObservedService>,
  options: PlanOptions,
): { service: ObservedService; numbers: ObservedNumber[] }[] {
  const account = customer.subaccount_sid;
  if (account === null || options.previousSubaccounts.get(customer.customer_id) !== account) {
    return [];
  }
  const held = new Map<string, ObservedNumber[]>();
  for (const n of unmapped.get(account) ?? []) {
    if (n.serviceSid === customer.service_sid) continue;
    const numbers = held.get(n.serviceSid!);
    if (numbers === undefined) held.set(n.serviceSid!, [n]);
    else numbers.push(n);
  }
  return [...held].flatMap(([sid, numbers]) => {
    const service = services.get(sid);
    return service === undefined ? [] : [{ service, numbers }];
  });
}

/**
 * After the move Twilio signs each webhook request with the subaccount's Auth Token: an app
 * that validates X-Twilio-Signature with the token of the account the numbers left (the
 * parent's, or the subaccount a number leaves) rejects them all. One warning per URL the moved
 * numbers' messages (and their new services' status callbacks, and the fallbacks the numbers
 * take over from the services they leave) will reach.
 */
function signatureWarnings(
  parentSid: string,
  customers: readonly PlanCustomer[],
  steps: readonly PlanStep[],
  numbers: ReadonlyMap<string, ObservedNumber>,
  origins: ReadonlyMap<string, NumberOrigin>,
): PlanWarning[] {
  const byUrl = new Map<string, { customers: Set<string>; left: Set<string> }>();
  const note = (url: string, customer: string, left: Iterable<string>) => {
    const seen = byUrl.get(url) ?? { customers: new Set<string>(), left: new Set<string>() };
    seen.customers.add(customer);
    for (const account of left) seen.left.add(account);
    byUrl.set(url, seen);
  };
  // The account a number leaves: where its move began, for one an earlier apply already
  // moved part way (it may be in its subaccount already, its webhooks signed anew).
  const leftFrom = (numberSid: string) =>
    origins.get(numberSid)?.accountSid ?? numbers.get(numberSid)?.accountSid;
  // Only a number that changes account is signed with another token.
  const staysIn = (numberSid: string, account: string | null) => leftFrom(numberSid) === account;
  // Each customer's accounts its numbers leave: a new service's URLs are signed anew only then.
  const leaving = new Map<string, Set<string>>();
  for (const customer of customers) {
    const left = new Set<string>();
    leaving.set(customer.customer_id, left);
    for (const n of customer.numbers) {
      if (n.unchanged || staysIn(n.number_sid, customer.subaccount_sid)) continue;
      const from = leftFrom(n.number_sid) ?? parentSid;
      left.add(from);
      const hook = webhookOf(n.route_after);
      if (hook !== null) note(hook.url, customer.customer_id, [from]);
      // Its voice and fallback URLs and status callback are signed the same way.
      for (const url of numbers.get(n.number_sid)?.otherWebhooks ?? []) {
        note(url, customer.customer_id, [from]);
      }
    }
  }
  for (const step of steps) {
    const left = leaving.get(step.customer_id) ?? new Set<string>();
    if (step.action === 'create_service' && left.size > 0) {
      for (const url of [step.settings.status_callback, step.settings.fallback_url]) {
        if (typeof url === 'string') note(url, step.customer_id, left);
      }
    }
    // The fallback a number takes over from the service it leaves: not among its own yet.
    if (
      step.action === 'set_number_webhook' &&
      step.sms_fallback_url !== null &&
      !staysIn(step.number_sid, step.account_sid)
    ) {
      note(step.sms_fallback_url, step.customer_id, [leftFrom(step.number_sid) ?? parentSid]);
    }
  }
  return [...byUrl].map(([url, seen]) => {
    const subaccounts = [...seen.left].filter((sid) => sid !== parentSid);
    const left =
      subaccounts.length === 0
        ? "the parent's"
        : `${seen.left.has(parentSid) ? "the parent's, or " : ''}that of subaccount ${list(subaccounts, 3)}`;
    return {
      code: 'webhook_signature' as const,
      customer_id: null,
      message: `${shownUrl(url)}: after the move Twilio signs its requests with each subaccount's own Auth Token (${list([...seen.customers])}); an app that validates X-Twilio-Signature with the token of the account the numbers left (${left}) will reject every one`,
    };
  });
}
