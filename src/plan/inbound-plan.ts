/**
 * Keeping each number's inbound route through the move. Twilio's five-step guide creates the
 * new Messaging Service with only a name, which **drops** inbound SMS for every number added
 * to it. Instead, the new service is given the settings of the service the numbers leave
 * (so it routes as that one did), or defers to the numbers' own webhooks
 * (`use_inbound_webhook_on_number`) when that is where they answered. A number that leaves a
 * service for none gets the service's URL as its own `sms_url`, and the service's fallback
 * URL as its own `sms_fallback_url`; so does a number that a reused service deferring to its
 * numbers' webhooks would otherwise send elsewhere. What one service cannot give a customer's numbers is a
 * problem for the mapping line. Pure.
 */

import type { ServiceSettings } from '../twilio/port.js';
import {
  describeRoute,
  inboundRoute,
  judgeRoute,
  lostRoute,
  sameDestination,
  sameFallback,
  serviceFallback,
  webhookOf,
  type RouteFallback,
  type InboundRoute,
} from './routes.js';
import type { NumberOrigin, ObservedNumber, ObservedService } from './types.js';

/** The settings a new service copies from the one its numbers leave. */
export const COPIED_SETTINGS = [
  'inbound_request_url',
  'inbound_method',
  'fallback_url',
  'fallback_method',
  'status_callback',
  'sticky_sender',
  'smart_encoding',
  'mms_converter',
  'validity_period',
  'usecase',
  'area_code_geomatch',
  'scan_message_content',
  'use_inbound_webhook_on_number',
] as const satisfies readonly (keyof ServiceSettings)[];

export interface RoutedMove {
  number: ObservedNumber;
  /** Where it was when a move still under way began: its route and service are these. */
  origin?: NumberOrigin | null;
  /** Already where the mapping wants it (its route does not change). */
  inPlace: boolean;
}

export interface CustomerRouting {
  /** For a service the plan creates. */
  settings: Partial<ServiceSettings>;
  /** Numbers whose own sms_url the plan sets, to keep the route their service gave them. */
  webhooks: Map<string, OwnWebhook>;
  routes: Map<string, { before: InboundRoute; after: InboundRoute }>;
  /** Why no service can give these numbers their routes; null when one can. */
  problem: string | null;
  /** Numbers a reused service would drop or send elsewhere (a warning). */
  lost: string[];
  /** Numbers whose inbound was dropped before the move (a warning). */
  droppedBefore: string[];
  /** Numbers planned from their origin (an earlier apply began to move them). */
  fromOrigin: Set<string>;
}

/** What a number leaving a service for none is given to answer as the service did. */
export interface OwnWebhook {
  url: string;
  method: string;
  /** The service's fallback for that URL; null when it had none. */
  fallback: { url: string; method: string } | null;
}

const NEW_SERVICE = 'MG(new)';

/** Whether this is the number's own SMS fallback, URL and method. */
export const hasSmsFallback = (number: ObservedNumber, fallback: RouteFallback) =>
  number.smsFallback !== undefined && sameFallback(number.smsFallback, fallback);

function copySettings(from: ServiceSettings): Partial<ServiceSettings> {
  const settings: Partial<ServiceSettings> = {};
  for (const key of COPIED_SETTINGS) {
    const value = from[key];
    if (value !== null) (settings as Record<string, unknown>)[key] = value;
  }
  return settings;
}

export function planRouting(
  moves: readonly RoutedMove[],
  services: ReadonlyMap<string, ObservedService>,
  target: { wantsService: boolean; existing: ObservedService | null },
): CustomerRouting {
  const routing: CustomerRouting = {
    settings: {},
    webhooks: new Map(),
    routes: new Map(),
    problem: null,
    lost: [],
    droppedBefore: [],
    fromOrigin: new Set(moves.filter((m) => (m.origin ?? null) !== null).map((m) => m.number.sid)),
  };
  // The service each number is leaving and the route it had: its origin's, for a number an
  // earlier apply already began to move.
  const origins = new Map(moves.map((m) => [m.number.sid, m.origin ?? null]));
  const serviceOf = (n: ObservedNumber) => {
    const origin = origins.get(n.sid) ?? null;
    const sid = origin === null ? n.serviceSid : origin.serviceSid;
    return sid === null ? null : (services.get(sid) ?? null);
  };
  // A number planned from its origin: the route its origin service gives now (its settings may
  // have changed since), or, with that service gone or none, the route it had then.
  const before = new Map(
    moves.map((m) => {
      const origin = m.origin ?? null;
      const service = serviceOf(m.number);
      const route =
        origin === null || service !== null || origin.route === null
          ? inboundRoute(m.number, service)
          : origin.route;
      return [m.number.sid, route];
    }),
  );
  // Twilio calls the service's fallback when its URL fails: the number, answering on that URL
  // itself, keeps it as its own. Not for a number whose route was its own URL.
  // The fallback of the service a number's inbound went through, which it takes as its own.
  const leftFallback = (n: ObservedNumber) =>
    before.get(n.sid)!.via !== 'service' ? null : serviceFallback(serviceOf(n)?.settings);
  const liveRoute = (n: ObservedNumber) =>
    inboundRoute(n, n.serviceSid === null ? null : (services.get(n.serviceSid) ?? null));
  // In place, and reaching where it did when its move began. A number an apply left in
  // place without its route (killed before its sms_url was set, say) still has a move to make.
  const settled = (m: RoutedMove) =>
    m.inPlace && sameDestination(before.get(m.number.sid)!, liveRoute(m.number));
  const moving = moves.filter((m) => !settled(m));
  for (const m of moves) {
    if (settled(m)) {
      routing.routes.set(m.number.sid, {
        before: before.get(m.number.sid)!,
        after: liveRoute(m.number),
      });
    }
  }
  for (const m of moving) {
    if (before.get(m.number.sid)!.via === 'dropped')
      routing.droppedBefore.push(m.number.phoneNumber);
  }

  let after: (n: ObservedNumber) => InboundRoute;
  if (!target.wantsService) {
    // No service: each number answers on its own sms_url — set to the route it had, with the
    // service's fallback. A number already on the service's URL still needs that fallback as
    // its own SMS fallback (the same URL as its voice fallback, say, is not it).
    for (const m of moving) {
      const was = webhookOf(before.get(m.number.sid)!);
      if (was === null) continue;
      const fallback = leftFallback(m.number);
      if (
        m.number.smsUrl !== was.url ||
        (m.number.smsMethod ?? 'POST') !== was.method ||
        (fallback !== null && !hasSmsFallback(m.number, fallback))
      ) {
        routing.webhooks.set(m.number.sid, { ...was, fallback });
      }
    }
    after = (n) => {
      const set = routing.webhooks.get(n.sid);
      return inboundRoute(set === undefined ? n : { smsUrl: set.url, smsMethod: set.method }, null);
    };
  } else if (target.existing !== null) {
    const existing = target.existing;
    if (existing.settings.use_inbound_webhook_on_number === true) {
      // A service that defers to its numbers' own webhooks (as one a first wave made for
      // numbers that answered on their own sms_url): a number it would send elsewhere answers
      // on its own sms_url, set to the route it had, with its service's fallback. Twilio calls
      // the number's own fallback there too: one already on the URL still needs the fallback
      // of the service it leaves as its own SMS fallback.
      for (const m of moving) {
        const was = before.get(m.number.sid)!;
        const hook = webhookOf(was);
        if (hook === null) continue;
        const fallback = leftFallback(m.number);
        const reaches = sameDestination(was, inboundRoute(m.number, existing));
        if (reaches && (fallback === null || hasSmsFallback(m.number, fallback))) continue;
        routing.webhooks.set(m.number.sid, { ...hook, fallback });
      }
    }
    after = (n) => {
      const set = routing.webhooks.get(n.sid);
      return inboundRoute(
        set === undefined ? n : { smsUrl: set.url, smsMethod: set.method },
        existing,
      );
    };
  } else {
    const chosen = chooseSettings(moving, before, serviceOf);
    if (typeof chosen === 'string') {
      routing.problem = chosen;
      return routing;
    }
    routing.settings = chosen;
    const settings: ServiceSettings = {
      inbound_request_url: null,
      inbound_method: null,
      use_inbound_webhook_on_number: null,
      ...(chosen as Partial<ServiceSettings>),
    } as ServiceSettings;
    after = (n) => inboundRoute(n, { sid: NEW_SERVICE, settings });
  }

  for (const m of moving) {
    const was = before.get(m.number.sid)!;
    const now = after(m.number);
    routing.routes.set(m.number.sid, { before: was, after: now });
    if (lostRoute(judgeRoute(was, now))) routing.lost.push(m.number.phoneNumber);
  }
  if (target.wantsService && target.existing === null && routing.lost.length > 0) {
    routing.problem = `a new Messaging Service cannot keep the inbound routes of ${routing.lost.join(', ')}`;
  }
  return routing;
}

/**
 * Settings that route every moving number where it went before: those of the one service
 * they leave (its settings, and each number's own sms_url, reproduce every route); or, when
 * they answered on their own webhooks, a service that defers to them. A string says why not.
 */
function chooseSettings(
  moving: readonly RoutedMove[],
  before: ReadonlyMap<string, InboundRoute>,
  serviceOf: (n: ObservedNumber) => ObservedService | null,
): Partial<ServiceSettings> | string {
  const routed = moving.filter((m) => webhookOf(before.get(m.number.sid)!) !== null);
  const viaService = routed.filter((m) => before.get(m.number.sid)!.via === 'service');
  if (viaService.length === 0) {
    // They answered on their own URLs (or nowhere): defer to them, with the other settings of
    // the services they leave (their inbound and fallback URLs routed none of them: a service
    // that defers to its numbers calls their URLs and fallbacks, never its own). Services that
    // differ in those other settings are a problem, as below: one new service can copy only one.
    const copies = new Map<string, Partial<ServiceSettings>>();
    const left: ObservedService[] = [];
    for (const service of new Set(moving.map((m) => serviceOf(m.number)))) {
      if (service === null) continue;
      const settings = copySettings(service.settings);
      delete settings.inbound_request_url;
      delete settings.inbound_method;
      delete settings.fallback_url;
      delete settings.fallback_method;
      settings.use_inbound_webhook_on_number = true;
      const key = JSON.stringify(COPIED_SETTINGS.map((k) => settings[k] ?? null));
      if (!copies.has(key)) copies.set(key, settings);
      left.push(service);
    }
    if (copies.size > 1) {
      return `its numbers leave ${copies.size} Messaging Services whose settings differ (${differing(copies)}), and one new service can copy only one (${left
        .slice(0, 4)
        .map((s) => `${s.friendlyName} ${s.sid}`)
        .join('; ')}): ${DIFFER_ADVICE}`;
    }
    return [...copies.values()][0] ?? { use_inbound_webhook_on_number: true };
  }
  // The services they leave, by the settings a copy would take: services set up alike (the
  // pools a customer's numbers were split over by the 400-number limit) are one source.
  const sources = new Map<string, Partial<ServiceSettings>>();
  for (const m of viaService) {
    const service = serviceOf(m.number);
    const route = before.get(m.number.sid)! as Extract<InboundRoute, { via: 'service' }>;
    const settings =
      service === null
        ? { inbound_request_url: route.url, inbound_method: route.method }
        : copySettings(service.settings);
    const key = JSON.stringify(COPIED_SETTINGS.map((k) => settings[k] ?? null));
    if (!sources.has(key)) sources.set(key, settings);
  }
  if (sources.size > 1) {
    const routes = routed
      .map((m) => `${m.number.phoneNumber} → ${describeRoute(before.get(m.number.sid)!)}`)
      .slice(0, 4);
    return `its numbers leave ${sources.size} Messaging Services whose settings differ (${differing(sources)}), and one new service can copy only one (${routes.join('; ')}): ${DIFFER_ADVICE}`;
  }
  const settings = [...sources.values()][0]!;
  const serviceRoute: InboundRoute = {
    via: 'service',
    url: settings.inbound_request_url!,
    method: settings.inbound_method ?? 'POST',
    service_sid: NEW_SERVICE,
  };
  // Numbers that answered on their own URL: the new service must defer to them, unless their
  // URL is the service's own.
  const others = routed.filter(
    (m) =>
      before.get(m.number.sid)!.via === 'number' &&
      !sameDestination(before.get(m.number.sid)!, serviceRoute),
  );
  if (others.length > 0 && settings.use_inbound_webhook_on_number !== true) {
    const conflict = [viaService[0]!, ...others].slice(0, 4);
    return `one Messaging Service cannot give its numbers both routes: ${conflict
      .map((m) => `${m.number.phoneNumber} → ${describeRoute(before.get(m.number.sid)!)}`)
      .join('; ')}: ${ROUTES_ADVICE}`;
  }
  return settings;
}

/** What to do about numbers one service cannot route alike, said with the problem. */
const ROUTES_ADVICE =
  "leave its messaging_service empty in the mapping and plan again (each number then answers on its own sms_url, given the route it had), or, if they should all reach the service's URL, set that as the sms_url of those that answer on their own and plan again";

/** What to do about services whose settings differ, said with the problem. */
const DIFFER_ADVICE =
  'make those settings alike in the services it leaves and plan again, or leave its messaging_service empty in the mapping (each number then answers on its own sms_url, given the route it had)';

/** The copied settings in which these copies differ, comma-separated. */
function differing(copies: ReadonlyMap<string, Partial<ServiceSettings>>): string {
  return COPIED_SETTINGS.filter(
    (k) => new Set([...copies.values()].map((v) => JSON.stringify(v[k] ?? null))).size > 1,
  ).join(', ');
}
