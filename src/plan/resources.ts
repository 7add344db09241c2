/**
 * The live resources a plan depends on, and their fingerprint. Each resource is named by a
 * key from which its state can be read again out of any observed state, so that `apply` can
 * re-read the account, recompute every key, and name exactly what changed since planning.
 *
 * - `number:PN…`                  owner account, Messaging Service and sms_url of a mapped number
 * - `service:MG…`                 the settings of a service a mapped number leaves (that route
 *                                 it, or that a new service or `sms_fallback_url` copies)
 * - `subaccount:AC…`              name and status of an existing target subaccount
 * - `subaccounts-named:NAME`      the active subaccounts called NAME (matching by name; or
 *                                 none, for a subaccount the plan creates)
 * - `services-named:AC…:NAME`     the services called NAME in an existing target subaccount
 */

import { createHash } from 'node:crypto';

import { COPIED_SETTINGS } from './inbound-plan.js';
import type { ObservedNumber, ObservedService, ObservedState } from './types.js';

export type ResourceKey = string;

export const numberKey = (sid: string) => `number:${sid}`;
export const serviceKey = (sid: string) => `service:${sid}`;
export const subaccountKey = (sid: string) => `subaccount:${sid}`;
export const subaccountsNamedKey = (name: string) => `subaccounts-named:${name}`;
export const servicesNamedKey = (accountSid: string, name: string) =>
  `services-named:${accountSid}:${name}`;

/** What the plan keeps of a number: where it is and where its inbound messages go. */
export const numberState = (number: ObservedNumber) => ({
  account_sid: number.accountSid,
  service_sid: number.serviceSid,
  sms_url: number.smsUrl,
  sms_method: number.smsMethod,
});

/**
 * What the plan keeps of a service its numbers leave: every setting that routes them or that
 * the plan copies (to a new service, or a fallback URL to a number), so that a change to any
 * of them between plan and apply is drift, not a stale copy.
 */
const serviceState = (service: ObservedService) =>
  Object.fromEntries(COPIED_SETTINGS.map((key) => [key, service.settings[key]]));

/** The state of one resource as `state` shows it (null: it is not there). */
export function resourceState(state: ObservedState, key: ResourceKey): unknown {
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  const rest = key.slice(colon + 1);
  switch (kind) {
    case 'number': {
      const number = state.numbers.find((n) => n.sid === rest);
      return number === undefined ? null : numberState(number);
    }
    case 'service': {
      const service = state.services.find((s) => s.sid === rest);
      return service === undefined ? null : serviceState(service);
    }
    case 'subaccount': {
      const account = state.subaccounts.find((a) => a.sid === rest);
      return account === undefined
        ? null
        : { friendly_name: account.friendlyName, status: account.status };
    }
    case 'subaccounts-named':
      return state.subaccounts
        .filter((a) => a.status === 'active' && a.friendlyName === rest)
        .map((a) => a.sid)
        .sort();
    case 'services-named': {
      const accountSid = rest.slice(0, 34);
      const name = rest.slice(35);
      return state.services
        .filter((s) => s.accountSid === accountSid && s.friendlyName === name)
        .map((s) => s.sid)
        .sort();
    }
    default:
      throw new Error(`unknown resource key ${key}`);
  }
}

/** Fast lookups for many keys at once (a 100,000-number plan). */
export function describeResources(
  state: ObservedState,
  keys: Iterable<ResourceKey>,
): Map<ResourceKey, unknown> {
  const numbers = new Map(state.numbers.map((n) => [n.sid, n]));
  const out = new Map<ResourceKey, unknown>();
  for (const key of keys) {
    if (key.startsWith('number:')) {
      const number = numbers.get(key.slice('number:'.length));
      out.set(key, number === undefined ? null : numberState(number));
    } else {
      out.set(key, resourceState(state, key));
    }
  }
  return out;
}

/** sha256 over the resources in key order: the same state always gives the same print. */
export function fingerprint(resources: ReadonlyMap<ResourceKey, unknown>): string {
  const hash = createHash('sha256');
  // Hashed a block at a time: one update per resource made 100,000 calls into the hash.
  let block = '';
  for (const key of [...resources.keys()].sort()) {
    block += `${key}\0${JSON.stringify(resources.get(key))}\n`;
    if (block.length >= 1 << 16) {
      hash.update(block);
      block = '';
    }
  }
  hash.update(block);
  return `sha256:${hash.digest('hex')}`;
}

/** The keys whose state differs between two descriptions: what drifted. */
export function changedResources(
  planned: ReadonlyMap<ResourceKey, unknown>,
  now: ReadonlyMap<ResourceKey, unknown>,
): ResourceKey[] {
  return [...planned.keys()]
    .filter((key) => JSON.stringify(planned.get(key)) !== JSON.stringify(now.get(key)))
    .sort();
}
