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
}

export interface Reply {
  status: number;
  /** A value to serialise, or a Buffer of JSON already serialised. */
  body?: unknown;
}

export type Handler = (request: TwilioRequest, params: readonly string[]) => Reply;

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  handler: Handler;
}

const SID = '([A-Z]{2}[0-9a-fA-F]{32})';

/** `route('GET', '/2010-04-01/Accounts/:sid.json', h)`: `:sid` matches a Twilio SID. */
export function route(method: Route['method'], template: string, handler: Handler): Route {
  const escaped = template
    .split(':sid')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join(SID);
  return { method, pattern: new RegExp(`^${escaped}$`), handler };
}

export function dispatch(routes: readonly Route[], request: TwilioRequest): Reply {
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

export function booleanParam(form: URLSearchParams, name: string): boolean | undefined {
  const value = form.get(name);
  if (value === null) return undefined;
  return value.toLowerCase() === 'true';
}
