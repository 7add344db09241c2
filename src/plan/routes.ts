/**
 * Where an inbound message to a number goes, as Twilio's Services API describes it: a number
 * in a Messaging Service goes to the service's `inbound_request_url`, or to its own `sms_url`
 * when the service has `use_inbound_webhook_on_number` (the service's URL when the number has
 * none); a service with neither **drops** it — "receiving inbound messages is disabled", not
 * logged, not delivered. A number in no service goes to its `sms_url` (with none, the message
 * is logged but nobody is called). Pure.
 */

import { maskUrlPasswords } from '../errors.js';
import type { ServiceSettings } from '../twilio/port.js';

export type InboundRoute =
  | { via: 'service'; url: string; method: string; service_sid: string }
  | { via: 'number'; url: string; method: string }
  /** Logged, but there is no URL to call. */
  | { via: 'none' }
  /** Neither logged nor delivered: the service drops it. */
  | { via: 'dropped'; service_sid: string };

export interface RoutedNumber {
  smsUrl: string | null;
  smsMethod: string | null;
}

export type RoutingSettings = Pick<
  ServiceSettings,
  'inbound_request_url' | 'inbound_method' | 'use_inbound_webhook_on_number'
>;

/** Every number with nowhere to go shares this one (a plan describes 200,000 routes). */
const NO_URL: InboundRoute = Object.freeze({ via: 'none' });

export function inboundRoute(
  number: RoutedNumber,
  service: { sid: string; settings: RoutingSettings } | null,
): InboundRoute {
  const own: InboundRoute =
    number.smsUrl === null
      ? NO_URL
      : { via: 'number', url: number.smsUrl, method: number.smsMethod ?? 'POST' };
  if (service === null) return own;
  const settings = service.settings;
  if (settings.use_inbound_webhook_on_number === true && own.via === 'number') return own;
  if (settings.inbound_request_url !== null) {
    return {
      via: 'service',
      url: settings.inbound_request_url,
      method: settings.inbound_method ?? 'POST',
      service_sid: service.sid,
    };
  }
  return settings.use_inbound_webhook_on_number === true
    ? NO_URL
    : { via: 'dropped', service_sid: service.sid };
}

/** The URL and method a message reaches, or null when it reaches none. */
export function webhookOf(route: InboundRoute): { url: string; method: string } | null {
  return route.via === 'service' || route.via === 'number'
    ? { url: route.url, method: route.method }
    : null;
}

/** Whether two routes deliver to the same URL with the same method (or both to none). */
export function sameDestination(a: InboundRoute, b: InboundRoute): boolean {
  const x = webhookOf(a);
  const y = webhookOf(b);
  if (x === null || y === null) return x === y && a.via === b.via;
  return x.url === y.url && x.method.toUpperCase() === y.method.toUpperCase();
}

/**
 * A webhook URL as people are shown it: a password in it (Twilio's way of giving a webhook HTTP
 * basic auth credentials, `https://user:password@app.example/sms`) is masked. The plan keeps the
 * URL itself, which apply sets; listings, warnings and reports show this. The password a URL
 * parser finds is masked, then any `maskUrlPasswords` finds: one a parser cannot read (a "#",
 * "?" or "/" in it) and a URL with a password carried in this one's query.
 */
export function shownUrl(url: string): string {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // not a URL a parser reads: maskUrlPasswords alone
  }
  if (parsed === null || parsed.password === '') return maskUrlPasswords(url);
  parsed.password = '***';
  return maskUrlPasswords(parsed.href);
}

/**
 * A value as JSON, as people are shown it (a resource's settings in an error): each string in
 * it shown as `shownUrl` shows a webhook URL, its password masked.
 */
export function shownJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'string' ? shownUrl(item) : item,
  );
}

/** A route as people are shown it (`--json` output): its URL's password masked. */
export function shownRoute(route: InboundRoute): InboundRoute {
  return 'url' in route ? { ...route, url: shownUrl(route.url) } : route;
}

/** `https://app.example/sms (number)`, `dropped (service MG…)`: for listings and CSVs. */
export function describeRoute(route: InboundRoute): string {
  switch (route.via) {
    case 'service':
      return `${route.method} ${shownUrl(route.url)} (service ${route.service_sid})`;
    case 'number':
      return `${route.method} ${shownUrl(route.url)} (number)`;
    case 'none':
      return 'no webhook (logged only)';
    case 'dropped':
      return `dropped (service ${route.service_sid} has no inbound URL)`;
  }
}

export type RouteVerdict = 'same' | 'dropped' | 'diverted' | 'was-dropped' | 'gained' | 'none';

/**
 * How a move changed a number's route. A number whose inbound reached a webhook, or at least
 * the log, and now is dropped (or reaches no URL) or reaches another URL has lost its route:
 * `dropped` / `diverted`. One already dropped before is `was-dropped` (a warning, not a
 * failure).
 */
export function judgeRoute(before: InboundRoute, after: InboundRoute): RouteVerdict {
  if (before.via === 'dropped') return after.via === 'dropped' ? 'was-dropped' : 'gained';
  const was = webhookOf(before);
  const now = webhookOf(after);
  // Logged before, with no URL to call; a service that drops it now hides it even from the log.
  if (was === null) return after.via === 'dropped' ? 'dropped' : now === null ? 'none' : 'gained';
  if (now === null) return 'dropped';
  return sameDestination(before, after) ? 'same' : 'diverted';
}

export const lostRoute = (verdict: RouteVerdict) => verdict === 'dropped' || verdict === 'diverted';

/** The URL Twilio calls when a route's URL fails (answers with an error, or not at all). */
export interface RouteFallback {
  url: string;
  method: string;
}

/** A service's fallback (`fallback_url`, its method POST when unset, upper case); null: none. */
export function serviceFallback(
  settings: { fallback_url?: string | null; fallback_method?: string | null } | null | undefined,
): RouteFallback | null {
  const url = settings?.fallback_url ?? null;
  return url === null ? null : { url, method: (settings!.fallback_method ?? 'POST').toUpperCase() };
}

/** Whether two fallbacks are the same URL and method (none and none are the same). */
export const sameFallback = (a: RouteFallback | null, b: RouteFallback | null): boolean =>
  a === null || b === null
    ? a === b
    : a.url === b.url && a.method.toUpperCase() === b.method.toUpperCase();

/**
 * A route's fallback: the service's `fallback_url` for a route through its service's
 * `inbound_request_url`, the number's own `sms_fallback_url` for a route to its own `sms_url`;
 * none for a route with no URL.
 */
export function fallbackOf(
  route: InboundRoute,
  number: { smsFallback?: { url: string; method: string } } | null,
  service: { settings: { fallback_url: string | null; fallback_method: string | null } } | null,
): RouteFallback | null {
  if (route.via === 'service') return serviceFallback(service?.settings);
  if (route.via === 'number' && number?.smsFallback !== undefined) {
    return { url: number.smsFallback.url, method: number.smsFallback.method.toUpperCase() };
  }
  return null;
}

/**
 * How a move changed the fallback of a route that reaches the same URL: `same` (the same URL
 * and method, or none before and now), `lost` (one before, none now), `changed` (another URL
 * or method), `gained` (none before). Beside the route's verdict, never instead of it: a lost
 * fallback is not a lost route (inbound still reaches its URL), so it fails no check.
 */
export type FallbackVerdict = 'same' | 'lost' | 'changed' | 'gained';

export function judgeFallback(
  before: RouteFallback | null,
  after: RouteFallback | null,
): FallbackVerdict {
  if (before === null) return after === null ? 'same' : 'gained';
  if (after === null) return 'lost';
  return sameFallback(before, after) ? 'same' : 'changed';
}

/** A route's fallback before the move and now, and how it changed. */
export interface FallbackCheck {
  before: RouteFallback | null;
  after: RouteFallback | null;
  verdict: FallbackVerdict;
}

/** Whether the fallback a route had is no longer called when its URL fails. */
export const lostFallback = (verdict: FallbackVerdict) =>
  verdict === 'lost' || verdict === 'changed';

/** `fallback POST https://…`, `no fallback`: for listings and CSVs. */
export const describeFallback = (fallback: RouteFallback | null) =>
  fallback === null ? 'no fallback' : `fallback ${fallback.method} ${shownUrl(fallback.url)}`;

/** `fallback lost: was fallback POST https://…, now no fallback`: for listings. */
export const describeFallbackCheck = (check: FallbackCheck) =>
  `fallback ${check.verdict}: was ${describeFallback(check.before)}, now ${describeFallback(check.after)}`;

/** A fallback check as people are shown it (`--json` output): its URLs' passwords masked. */
export const shownFallbackCheck = (check: FallbackCheck | null): FallbackCheck | null =>
  check === null
    ? null
    : {
        ...check,
        before: check.before === null ? null : { ...check.before, url: shownUrl(check.before.url) },
        after: check.after === null ? null : { ...check.after, url: shownUrl(check.after.url) },
      };
