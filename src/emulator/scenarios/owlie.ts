/**
 * The built-in scenario "Owlie Notifications" (`submigrate emulator --scenario owlie`): an ISV
 * with 50 small-business customers, all in the parent account, two shared Messaging Services,
 * and months (with `historyDays`, years) of message history with every opt-out trap we know
 * of: keywords in odd case and whitespace, near-misses that are not keywords, STOP → START →
 * STOP, YES to toll-free numbers (not an opt-in there), service-wide opt-outs, and sends
 * refused with 21610 — over three years, also STOPs older than the Messages API's 400 days
 * whose only trace there is a later refusal.
 *
 * The customers are fixed (they do not depend on the seed); the history is a pure function of
 * (seed, messages, historyDays, now). Opt-out state is never computed here: outbound sends ask
 * the emulator's own opt-out store, and inbound keywords go through `recordMessage`.
 */

import { createRandom } from '../random.js';
import type { EmulatorState, ServiceRecord } from '../state.js';
import { buildSims, type SimCustomer, type SimNumber } from './owlie-audience.js';
import { owlieCustomers, ROWS, SHARED_SERVICES } from './owlie-customers.js';
import { HELP, NEAR_MISS, OPT_IN, OPT_OUT, ORDINARY, YES } from './owlie-text.js';

export { NEAR_MISS } from './owlie-text.js';
export { owlieCustomers, owlieMapping, type OwlieCustomer } from './owlie-customers.js';

export interface OwlieOptions {
  seed: number;
  /** How many messages of history to generate; 50,000 by default. */
  messages: number;
  /** Milliseconds since the epoch: the emulator clock at load. History ends here. */
  now: number;
  /**
   * How many days of history back from `now`; 300 by default. Longer than the Messages API's
   * 400-day window (e.g. 1095, three years), part of the history is only in Bulk Export.
   */
  historyDays?: number;
  /**
   * Where Owlie's apps listen: the shared services' `inbound_request_url` is
   * `${base}/owlie/inbound` (and `status_callback` `${base}/owlie/status`), every number's
   * `sms_url` `${base}/customers/<customer id>/sms`. Point it at a local HTTP server to receive
   * real webhooks; `https://hooks.owlie.example` by default (recorded, never called).
   */
  webhookBaseUrl?: string;
}

export const OWLIE_DEFAULT_MESSAGES = 50_000;
export const OWLIE_HISTORY_DAYS = 300;
export const OWLIE_WEBHOOK_BASE_URL = 'https://hooks.owlie.example';
/** Owlie opened its account (and set up its numbers and services) this long before its history. */
const SETUP_LEAD_DAYS = 30;
const DAY_MS = 86_400_000;

// ── message history ────────────────────────────────────────────────────────────────────────

export function loadOwlie(
  state: EmulatorState,
  options: OwlieOptions,
): { customers: number; numbers: number; services: number; messages: number } {
  const customers = owlieCustomers();
  const parent = state.parentSid;
  const base = (options.webhookBaseUrl ?? OWLIE_WEBHOOK_BASE_URL).replace(/\/+$/, '');
  const historyStart = options.now - (options.historyDays ?? OWLIE_HISTORY_DAYS) * DAY_MS;

  const byPhone = new Map<string, string>();
  let numberCount = 0;
  for (const c of customers) {
    for (const n of c.numbers) {
      const number = state.addNumber({
        phoneNumber: n.phoneNumber,
        type: n.type,
        // A customer in no shared service answers on its own number's URL.
        settings: { sms_url: `${base}/customers/${c.id}/sms` },
      });
      byPhone.set(n.phoneNumber, number.sid);
      numberCount++;
    }
  }
  const services = new Map<string, ServiceRecord>();
  for (const name of SHARED_SERVICES) {
    const settings = {
      inbound_request_url: `${base}/owlie/inbound`,
      status_callback: `${base}/owlie/status`,
    };
    services.set(name, state.createService(parent, { friendlyName: name, settings }));
  }
  for (const c of customers) {
    const service = c.sharedService === null ? undefined : services.get(c.sharedService);
    if (service === undefined) continue;
    for (const n of c.numbers) state.joinService(service, byPhone.get(n.phoneNumber)!);
  }
  backdateSetup(
    state,
    [...byPhone.values()],
    [...services.values()],
    Math.floor((historyStart - SETUP_LEAD_DAYS * DAY_MS) / 1000) * 1000,
  );

  const random = createRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  // A longer history means more people, not the same people texted more: recipients grow
  // with the history so that the share who ever say STOP stays realistic at any size.
  const audience = Math.max(1, options.messages / OWLIE_DEFAULT_MESSAGES);
  const sims = buildSims(customers, services, random, pick, audience);

  const cumulative = new Float64Array(ROWS.length);
  let total = 0;
  ROWS.forEach((r, i) => (cumulative[i] = total += r.traffic));
  const pickCustomer = (): SimCustomer => {
    const x = random() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return sims[lo] as SimCustomer;
  };

  // Timestamps are the ascending order statistics of N uniform draws, produced one at a time
  // (descending maxima U^(1/i), mirrored), so nothing is sorted and nothing is buffered.
  const count = Math.max(0, Math.floor(options.messages));
  const endSec = Math.floor(options.now / 1000);
  const startSec = Math.ceil(historyStart / 1000);
  const range = endSec - startSec;
  let max = 1;
  let second = -1;
  const keywordsThisSecond = new Set<string>();

  for (let i = count; i >= 1; i--) {
    max *= Math.pow(1 - random(), 1 / i);
    const sec = Math.min(endSec, startSec + Math.floor((1 - max) * (range + 1)));
    if (sec !== second) {
      second = sec;
      keywordsThisSecond.clear();
    }
    const dateSent = sec * 1000;
    const c = pickCustomer();

    if (random() < 0.9) {
      const r = Math.floor(random() * c.recipients.length);
      const n =
        c.numbers.length > 1 && random() < 0.1
          ? (c.numbers[Math.floor(random() * c.numbers.length)] as SimNumber)
          : (c.numbers[c.home[r] as number] as SimNumber);
      const to = c.recipients[r] as string;
      let status = 'delivered';
      let errorCode: number | null = null;
      if (state.optOuts.blocking(parent, n.phone, n.serviceSid, to) !== undefined) {
        status = 'failed';
        errorCode = 21610;
      } else {
        const roll = random();
        if (roll < 0.02) [status, errorCode] = ['undelivered', 30003];
        else if (roll < 0.03) [status, errorCode] = ['undelivered', 30005];
      }
      state.recordMessage({
        accountSid: parent,
        from: n.phone,
        to,
        body: pick(c.bodies),
        direction: 'outbound-api',
        status,
        errorCode,
        dateSent,
        messagingServiceSid: n.serviceSid,
      });
      continue;
    }

    const roll = random();
    let r = Math.floor(random() * c.recipients.length);
    let body: string;
    let keyword: 'opt-out' | 'opt-in' | 'help' | null = null;
    if (roll < 0.55) {
      body = pick(ORDINARY);
    } else if (roll < 0.75) {
      keyword = 'opt-out';
      if (c.starters.length > 0 && random() < 0.35) r = takeRandom(c.starters, random);
      body = pick(OPT_OUT);
    } else if (roll < 0.83) {
      keyword = 'opt-in';
      if (c.stoppers.length > 0 && random() < 0.85) r = takeRandom(c.stoppers, random);
      // "Reply YES to confirm" lines get YES back; on a toll-free number it opts nobody in.
      const home = c.numbers[c.home[r] as number] as SimNumber;
      body = home.tollFree && random() < 0.5 ? pick(YES) : pick(OPT_IN);
    } else if (roll < 0.88) {
      keyword = 'help';
      body = pick(HELP);
    } else {
      body = pick(NEAR_MISS);
    }
    const n = c.numbers[c.home[r] as number] as SimNumber;
    const from = c.recipients[r] as string;
    if (keyword !== null) {
      const pair = `${n.serviceSid ?? n.phone}|${from}`;
      if (keywordsThisSecond.has(pair)) {
        // Two keywords from one person to one scope in one second have no defined order.
        body = pick(ORDINARY);
        keyword = null;
      } else {
        keywordsThisSecond.add(pair);
      }
    }
    if (keyword === 'opt-out') c.stoppers.push(r);
    else if (keyword === 'opt-in') c.starters.push(r);
    state.recordMessage({
      accountSid: parent,
      from,
      to: n.phone,
      body,
      direction: 'inbound',
      status: 'received',
      dateSent,
      messagingServiceSid: n.serviceSid,
    });
  }

  return {
    customers: customers.length,
    numbers: numberCount,
    services: services.size,
    messages: count,
  };
}

/**
 * The account, its numbers and services existed before the first message: created (and the
 * numbers in their services) at `at`, not at load time.
 */
function backdateSetup(
  state: EmulatorState,
  numberSids: readonly string[],
  services: readonly ServiceRecord[],
  at: number,
): void {
  const parent = state.account(state.parentSid)!;
  parent.dateCreated = parent.dateUpdated = at;
  for (const sid of numberSids) {
    const number = state.numbers.get(sid)!;
    number.dateCreated = number.dateUpdated = at;
    if (number.serviceSid !== null) number.serviceJoinedAt = at;
  }
  for (const service of services) service.dateCreated = service.dateUpdated = at;
}

/** Removes and returns a random element (order is not kept). */
function takeRandom(items: number[], random: () => number): number {
  const i = Math.floor(random() * items.length);
  const taken = items[i] as number;
  items[i] = items[items.length - 1] as number;
  items.pop();
  return taken;
}
