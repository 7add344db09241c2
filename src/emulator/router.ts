/** The small router behind the emulator's Twilio routes. */

import { ApiError, notFound } from './api-error.js';
import type { Principal } from './auth.js';

export interface TwilioRequest {
  method: string;
  /** The decoded path, e.g. `/2010-04-01/Accounts/AC….json`. */
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  principal: Principal;
  /** The Twilio product the request's `Host` names (`api`, `messaging`…); null = any. */
  host: string | null;
}

export interface Reply {
  status: number;
  /** A value to serialise, or a Buffer of JSON already serialised. */
  body?: unknown;
  /** Extra response headers (e.g. `Location` on a redirect). */
  headers?: Record<string, string>;
}

/** Most handlers answer at once; a few (Bulk Export day sizes) need to wait. */
export type Handler = (request: TwilioRequest, params: readonly string[]) => Reply | Promise<Reply>;

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  handler: Handler;
}

/** What each placeholder in a route template matches. */
const PLACEHOLDERS: Record<string, string> = {
  /** A Twilio SID. */
  sid: '([A-Z]{2}[0-9a-fA-F]{32})',
  /** A `YYYY-MM-DD` day. */
  day: '(\\d{4}-\\d{2}-\\d{2})',
  /** One path segment of letters, e.g. a Bulk Export resource type. */
  name: '([A-Za-z]+)',
};

/**
 * `route('GET', '/2010-04-01/Accounts/:sid.json', h)`: `:sid` matches a Twilio SID, `:day` a
 * `YYYY-MM-DD` day, `:name` a word.
 */
export function route(method: Route['method'], template: string, handler: Handler): Route {
  const escaped = template
    .split(/(:sid|:day|:name)/)
    .map((part) =>
      part.startsWith(':')
        ? (PLACEHOLDERS[part.slice(1)] as string)
        : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return { method, pattern: new RegExp(`^${escaped}$`), handler };
}

/**
 * The Twilio host that serves a path: 2010 paths on `api`, Messaging Services on `messaging`,
 * Bulk Export on `bulkexports`, the Consent Management API on `accounts` (reference §1, §2).
 */
export function productOf(path: string): string | null {
  if (path.startsWith('/2010-04-01/')) return 'api';
  if (/^\/v1\/Services(?:\/|$)/.test(path)) return 'messaging';
  if (/^\/v1\/Exports(?:\/|$)/.test(path)) return 'bulkexports';
  if (/^\/v1\/Consents(?:\/|$)/.test(path)) return 'accounts';
  return null;
}

/**
 * The product a request's `Host` names (`messaging.twilio.com`, or with an edge and region,
 * `api.sydney.au1.twilio.com`), or null for any other host (the emulator's own address):
 * those requests are served whatever the path's product, as before.
 */
export function productOfHost(host: string | undefined): string | null {
  const match = /^([a-z0-9-]+)(?:\.[a-z0-9-]+)*\.twilio\.com(?::\d+)?$/i.exec(host ?? '');
  return match === null ? null : (match[1] as string).toLowerCase();
}

export function dispatch(routes: readonly Route[], request: TwilioRequest): Reply | Promise<Reply> {
  // Each Twilio host serves its own product only: `https://api.twilio.com/v1/Services` is a
  // resource real Twilio does not have (404), however well the emulator knows the path.
  if (request.host !== null && request.host !== productOf(request.path)) {
    throw notFound(request.path);
  }
  let pathMatched = false;
  for (const candidate of routes) {
    const match = candidate.pattern.exec(request.path);
    if (match === null) continue;
    pathMatched = true;
    if (candidate.method !== request.method) continue;
    return candidate.handler(request, match.slice(1));
  }
  if (pathMatched) throw new ApiError(405, 20004, 'Method not allowed');
  throw notFound(request.path);
}

/** A required form parameter, or 400 naming it. */
export function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (value === null || value === '') {
    throw new ApiError(400, 20001, `Missing required parameter ${name} in the post body`);
  }
  return value;
}

export function optional(form: URLSearchParams, name: string): string | undefined {
  return form.get(name) ?? undefined;
}

/** The most characters Twilio's FriendlyName holds (accounts, numbers, Messaging Services). */
export const FRIENDLY_NAME_MAX = 64;

/**
 * A FriendlyName from the form, refused with 400 when longer than Twilio takes ("It can be up
 * to 64 characters long", in the API definitions of Accounts, IncomingPhoneNumbers and
 * Messaging Services). Twilio does not say how it counts them: counted in UTF-16 code units,
 * as a Java or JavaScript server counts them and as the mapping does (an emoji is two), so a
 * name Twilio may refuse is refused here too, not passed as if Twilio surely took it.
 */
export function friendlyName<T extends string | undefined>(value: T): T {
  if (value !== undefined && (value as string).length > FRIENDLY_NAME_MAX) {
    throw new ApiError(
      400,
      20001,
      `Invalid FriendlyName: it can be up to ${FRIENDLY_NAME_MAX} characters long`,
    );
  }
  return value;
}
