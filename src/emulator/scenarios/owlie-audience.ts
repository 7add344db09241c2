/**
 * The people of the Owlie scenario: each customer's numbers as the simulation sees them, its
 * recipients (a few shared with other customers: one town, many shops) and its message bodies.
 */

import type { ServiceRecord } from '../state.js';
import { ROWS, type OwlieCustomer, type Row } from './owlie-customers.js';
import { BODIES_PER_CUSTOMER, FOOTERS, renderBody, TEMPLATES } from './owlie-text.js';

/** Area codes end users live in, besides the customer's own. */
const TOWN_AREAS = ['201', '224', '267', '346', '425', '470', '614', '646', '747', '929'];
const TOWN_SIZE = 300;
/** Share of a customer's recipients that are also other customers' (same people, many shops). */
const TOWN_SHARE = 0.05;

export interface SimNumber {
  phone: string;
  serviceSid: string | null;
  tollFree: boolean;
}

export interface SimCustomer {
  numbers: SimNumber[];
  recipients: string[];
  /** Index into `numbers` of the number each recipient usually talks to. */
  home: Uint8Array;
  bodies: string[];
  /** Recipients who sent an opt-out, then ones who opted back in: who replies what, next. */
  stoppers: number[];
  starters: number[];
}

export function buildSims(
  customers: readonly OwlieCustomer[],
  services: ReadonlyMap<string, ServiceRecord>,
  random: () => number,
  pick: <T>(items: readonly T[]) => T,
  audience: number,
): SimCustomer[] {
  const taken = new Set<string>(customers.flatMap((c) => c.numbers.map((n) => n.phoneNumber)));
  const endUser = (area: string) => {
    for (;;) {
      const exchange = 2 + Math.floor(random() * 8);
      const phone = `+1${area}${exchange}${String(Math.floor(random() * 1e6)).padStart(6, '0')}`;
      if (!taken.has(phone)) {
        taken.add(phone);
        return phone;
      }
    }
  };
  const town = Array.from({ length: Math.round(TOWN_SIZE * audience) }, () =>
    endUser(pick(TOWN_AREAS)),
  );

  return customers.map((c, index) => {
    const r = ROWS[index] as Row;
    const serviceSid =
      c.sharedService === null ? null : (services.get(c.sharedService)?.sid ?? null);
    const numbers = c.numbers.map((n) => ({
      phone: n.phoneNumber,
      serviceSid,
      tollFree: n.type === 'toll-free',
    }));
    // Toll-free lines are the busy ones: they take three times the recipients of a local line.
    const weights = numbers.map((n) => (n.tollFree ? 3 : 1));
    const weightTotal = weights.reduce((a, b) => a + b, 0);

    const size = Math.round((20 + (380 * (r.traffic - 1)) / 9) * audience);
    const recipients: string[] = [];
    const mine = new Set<string>();
    const home = new Uint8Array(size);
    const area = r.block.slice(0, 3);
    while (recipients.length < size) {
      const phone =
        random() < TOWN_SHARE ? pick(town) : endUser(random() < 0.7 ? area : pick(TOWN_AREAS));
      if (mine.has(phone)) continue;
      mine.add(phone);
      let x = random() * weightTotal;
      let n = 0;
      while (n < weights.length - 1 && (x -= weights[n] as number) >= 0) n++;
      home[recipients.length] = n;
      recipients.push(phone);
    }

    const bodies = Array.from({ length: BODIES_PER_CUSTOMER }, () =>
      renderBody(pick(TEMPLATES[r.kind]) + pick(FOOTERS), r.name, random, pick),
    );
    return { numbers, recipients, home, bodies, stoppers: [], starters: [] };
  });
}
