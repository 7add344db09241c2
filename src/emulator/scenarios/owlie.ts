/**
 * The built-in scenario "Owlie Notifications" (`submigrate emulator --scenario owlie`): an ISV
 * with 50 small-business customers, all in the parent account, two shared Messaging Services,
 * and months of message history with every opt-out trap we know of: keywords in odd case and
 * whitespace, near-misses that are not keywords, STOP → START → STOP, YES to toll-free numbers
 * (not an opt-in there), service-wide opt-outs, and sends refused with 21610.
 *
 * The customers are fixed (they do not depend on the seed); the history is a pure function of
 * (seed, messages, now). Opt-out state is never computed here: outbound sends ask the
 * emulator's own opt-out store, and inbound keywords go through `recordMessage`.
 */

import { stringify } from 'csv-stringify/sync';
import { createRandom } from '../random.js';
import type { EmulatorState, ServiceRecord } from '../state.js';

export interface OwlieOptions {
  seed: number;
  /** How many messages of history to generate; 50,000 by default. */
  messages: number;
  /** Milliseconds since the epoch: the emulator clock at load. History ends here. */
  now: number;
}

export interface OwlieCustomer {
  id: string;
  name: string;
  numbers: { phoneNumber: string; type: 'local' | 'toll-free' }[];
  /** Friendly name of the parent's shared service its numbers are in, or null. */
  sharedService: string | null;
  /** The FriendlyName the customer wants for its own service in the mapping, or null. */
  messagingService: string | null;
}

export const OWLIE_DEFAULT_MESSAGES = 50_000;
export const OWLIE_HISTORY_DAYS = 300;

const SHARED = 'Owlie Shared';
const ALERTS = 'Owlie Alerts';
const SHARED_SERVICES = [SHARED, ALERTS] as const;

type Kind =
  'health' | 'beauty' | 'fitness' | 'travel' | 'retail' | 'food' | 'home' | 'pro' | 'pets';

interface Row {
  name: string;
  kind: Kind;
  /** Area code and exchange of the customer's local numbers. */
  block: string;
  local: number;
  tollFree: number;
  shared: typeof SHARED | typeof ALERTS | null;
  ownService: boolean;
  /** Relative message volume, 1–10. */
  traffic: number;
}

const S = SHARED;
const A = ALERTS;
// prettier-ignore
const ROWS: readonly Row[] = [
  row('Falcon Flights', 'travel', '415874', 4, 1, S, true, 10),
  row('Bramble & Co Dental', 'health', '503224', 2, 0, S, true, 6),
  row('Harbor Yoga', 'fitness', '206432', 2, 0, null, true, 3),
  row('Café Lumière', 'food', '212736', 2, 0, A, true, 4),
  row("Rosie's Bakery", 'retail', '617391', 1, 0, null, false, 2),
  row('Smith, Ortega & Associates', 'pro', '312448', 3, 0, null, true, 2),
  row('Northwind Plumbing', 'home', '612379', 3, 0, S, true, 5),
  row('Pinecrest Veterinary Clinic', 'pets', '303861', 3, 0, S, true, 6),
  row('Blue Door Barbers', 'beauty', '404523', 3, 0, null, false, 3),
  row('Summit Climbing Gym', 'fitness', '801467', 3, 0, A, true, 4),
  row('Tidewater Shuttle', 'travel', '843725', 3, 1, S, true, 7),
  row('Maple Street Books', 'retail', '802253', 1, 0, null, false, 1),
  row('Golden Spoon Catering', 'food', '702318', 3, 0, null, true, 3),
  row('Bright Smile Orthodontics', 'health', '619294', 4, 1, S, true, 7),
  row('Evergreen Landscaping', 'home', '503617', 2, 0, null, true, 2),
  row('Lucky Paws Grooming', 'pets', '512436', 2, 0, A, false, 3),
  row('Copper Kettle Diner', 'food', '615782', 1, 0, null, false, 2),
  row('Oakridge Physical Therapy', 'health', '919357', 3, 0, S, true, 5),
  row('Metro Movers', 'home', '213649', 3, 1, null, true, 4),
  row('Silver Lining Salon', 'beauty', '305271', 2, 0, S, false, 4),
  row('Redwood Tutoring', 'pro', '510882', 2, 0, null, true, 2),
  row('Sunrise Pediatrics', 'health', '602914', 4, 1, S, true, 9),
  row('Quickfix Auto Repair', 'home', '314526', 3, 0, null, true, 3),
  row('Lakeside Realty', 'pro', '414738', 3, 0, null, false, 2),
  row('Prairie Wind Charters', 'travel', '316264', 1, 1, A, true, 3),
  row('Juniper Spa & Wellness', 'beauty', '480395', 3, 0, S, true, 5),
  row('Ironclad Fitness', 'fitness', '713841', 4, 1, null, true, 6),
  row('Bluebird Florist', 'retail', '207619', 1, 0, null, false, 2),
  row('Cedar & Sage Apothecary', 'retail', '541283', 2, 0, A, true, 3),
  row('Westgate Optometry', 'health', '916457', 2, 0, S, true, 4),
  row('Harborview Marina', 'travel', '360236', 3, 0, null, false, 2),
  row('Sparkle Home Cleaning', 'home', '720384', 3, 1, S, true, 6),
  row('Tortoise & Hare Running Co', 'fitness', '971562', 2, 0, null, true, 2),
  row('Mesa Verde Dental Group', 'health', '505847', 4, 0, A, true, 5),
  row('Little Sprouts Daycare', 'pro', '608238', 3, 0, null, true, 3),
  row('Riverbend Pizza', 'food', '502491', 3, 1, S, true, 7),
  row('Keystone Accounting', 'pro', '717665', 1, 0, null, false, 1),
  row('Nova Skin Clinic', 'beauty', '702936', 3, 0, A, true, 3),
  row('@Home Pet Sitters', 'pets', '919274', 1, 0, null, false, 2),
  row('Granite State HVAC', 'home', '603418', 2, 1, null, true, 3),
  row('Velvet Fern Tattoo', 'beauty', '504329', 1, 0, null, false, 1),
  row('Coastal Car Rentals', 'travel', '808573', 4, 1, S, true, 8),
  row('Moonlight Laundry Service', 'home', '718843', 2, 0, null, false, 2),
  row('Wildflower Midwifery', 'health', '406728', 1, 0, A, true, 2),
  row('Pacific Kayak Tours', 'travel', '831462', 3, 0, null, true, 3),
  row('Hilltop Music Academy', 'pro', '865531', 3, 0, S, true, 4),
  row('Saffron House Indian Kitchen', 'food', '408687', 3, 0, null, false, 3),
  row('Polar Bear Ice Rink', 'fitness', '907345', 1, 0, null, true, 2),
  row('Zenith Chiropractic', 'health', '385219', 3, 0, null, true, 4),
  row('Anchor Point Storage', 'home', '410754', 2, 1, null, false, 2),
];

function row(
  name: string,
  kind: Kind,
  block: string,
  local: number,
  tollFree: number,
  shared: Row['shared'],
  ownService: boolean,
  traffic: number,
): Row {
  return { name, kind, block, local, tollFree, shared, ownService, traffic };
}

const SERVICE_SUFFIX: Record<Kind, string> = {
  health: 'Reminders',
  beauty: 'Reminders',
  fitness: 'Notifications',
  travel: 'Notifications',
  retail: 'Orders',
  food: 'Orders',
  home: 'Notifications',
  pro: 'Notifications',
  pets: 'Reminders',
};

/** Words of a name folded to ASCII letters and digits ("Café Lumière" → cafe, lumiere). */
function words(name: string): string[] {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/'/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

const slug = (name: string) => words(name).join('-');
const camel = (name: string) =>
  words(name)
    .map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('');

const TOLL_FREE_PREFIXES = ['833', '844', '855'] as const;
/** Fixed: the customers and their numbers never depend on the scenario seed. */
const CUSTOMER_SEED = 0x0571e;

export function owlieCustomers(): OwlieCustomer[] {
  const random = createRandom(CUSTOMER_SEED);
  const digits = (n: number) => String(Math.floor(random() * 10 ** n)).padStart(n, '0');
  const taken = new Set<string>();
  const unique = (make: () => string) => {
    for (;;) {
      const phone = make();
      if (!taken.has(phone)) {
        taken.add(phone);
        return phone;
      }
    }
  };
  let tollFreeCount = 0;
  return ROWS.map((r) => {
    const numbers: OwlieCustomer['numbers'] = [];
    for (let i = 0; i < r.local; i++) {
      numbers.push({ phoneNumber: unique(() => `+1${r.block}${digits(4)}`), type: 'local' });
    }
    for (let i = 0; i < r.tollFree; i++) {
      const prefix = TOLL_FREE_PREFIXES[tollFreeCount++ % TOLL_FREE_PREFIXES.length];
      const exchange = 2 + Math.floor(random() * 8);
      numbers.push({
        phoneNumber: unique(() => `+1${prefix}${exchange}${digits(6)}`),
        type: 'toll-free',
      });
    }
    return {
      id: slug(r.name),
      name: r.name,
      numbers,
      sharedService: r.shared,
      messagingService: r.ownService ? camel(r.name) + SERVICE_SUFFIX[r.kind] : null,
    };
  });
}

/** The mapping CSV for the scenario (docs/file-formats.md): one row per number, LF line endings. */
export function owlieMapping(): string {
  const rows = owlieCustomers().flatMap((c) =>
    c.numbers.map((n) => [c.id, c.name, n.phoneNumber, c.messagingService ?? '', '']),
  );
  return stringify(rows, {
    header: true,
    columns: [
      'customer_id',
      'customer_name',
      'phone_number',
      'messaging_service',
      'subaccount_sid',
    ],
    record_delimiter: 'unix',
  });
}

// ── message history ────────────────────────────────────────────────────────────────────────

const TEMPLATES: Record<Kind, readonly string[]> = {
  health: [
    '{biz}: reminder of your appointment on {day} at {time}. Reply C to confirm.',
    '{biz}: your cleaning is booked for {day} at {time}. Call us to reschedule.',
    '{biz}: Dr. {person} is running about 15 minutes behind today. Thanks for your patience.',
    '{biz}: your results are ready. Log in to the patient portal: {link}',
    "{biz}: it's time for your 6-month checkup! Book online: {link}",
  ],
  beauty: [
    '{biz}: see you {day} at {time} with {person}!',
    '{biz}: we have an opening tomorrow at {time}. Reply to grab it!',
    'Thanks for visiting {biz}! Tell us how we did: {link}',
    '{biz}: your appointment with {person} is confirmed for {day} at {time}.',
  ],
  fitness: [
    '{biz}: your {class} class starts {day} at {time}. Bring water!',
    "{biz}: today's {time} {class} is cancelled. Sorry! Rebook: {link}",
    '{biz}: your membership renews on {date}.',
    '{biz}: you are off the waitlist for {class} on {day} at {time}.',
  ],
  travel: [
    '{biz}: trip {code} departs {day} at {time}. Check in: {link}',
    '{biz}: your pickup is confirmed for {day} at {time}.',
    '{biz}: trip {code} is delayed. New departure {time}.',
    '{biz}: boarding for {code} starts at {time}, dock/gate {gate}.',
    '{biz}: your reservation {code} on {date} is confirmed.',
  ],
  retail: [
    '{biz}: your order #{order} has shipped! Track it: {link}',
    '{biz}: order #{order} is ready for pickup.',
    '{biz}: 20% off everything this weekend only. Reply STOP to opt out.',
    '{biz}: your order #{order} was delivered. Enjoy!',
  ],
  food: [
    '{biz}: your table for {party} is ready!',
    '{biz}: order #{order} is ready for pickup.',
    '{biz}: your delivery is on its way, ETA {eta} min.',
    '{biz}: thanks for your order #{order}! Rate it: {link}',
  ],
  home: [
    '{biz}: {person} is on the way, ETA {eta} minutes.',
    '{biz}: your visit is scheduled for {day} between {time} and noon.',
    '{biz}: invoice #{order} is due {date}. Pay online: {link}',
    '{biz}: reminder, we will be there {day} at {time}. Reply C to confirm.',
  ],
  pro: [
    '{biz}: reminder of your meeting on {day} at {time}.',
    '{biz}: documents are ready for your signature: {link}',
    '{biz}: your invoice #{order} is due {date}.',
    '{biz}: your session with {person} is {day} at {time}.',
  ],
  pets: [
    '{biz}: {pet} is due for vaccines. Book: {link}',
    '{biz}: {pet} is all done and ready for pickup!',
    "{biz}: reminder, {pet}'s appointment is {day} at {time}.",
    '{biz}: {pet} had a great day with {person} today!',
  ],
};
const FOOTERS = [
  '',
  '',
  '',
  ' Reply STOP to opt out.',
  ' Msg&data rates may apply. Reply STOP to end.',
];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'tomorrow', 'today'];
const TIMES = ['8:30am', '9:00am', '10:15am', '11:45am', '1:00pm', '2:30pm', '4:00pm', '6:15pm'];
const PEOPLE = ['Alvarez', 'Kim', 'Sam', 'Priya', 'Jordan', 'Nguyen', 'Morgan', 'Okafor'];
const CLASSES = ['Vinyasa', 'Spin', 'Bouldering 101', 'HIIT', 'Pilates', 'Yin'];
const PETS = ['Biscuit', 'Luna', 'Milo', 'Pepper', 'Mochi', 'Rex'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov'];
const BODIES_PER_CUSTOMER = 32;

const ORDINARY = [
  'Thanks!',
  'ok',
  'Ok thanks',
  'See you then',
  'Can I reschedule?',
  'C',
  'c',
  '👍',
  'Who is this?',
  'Running 10 min late',
  'What time again?',
  'Perfect, thank you',
  'Is this still on for tomorrow?',
  'Can you call me?',
];
const OPT_OUT = [
  'STOP',
  'STOP',
  'stop',
  'Stop',
  ' STOP ',
  'STOP\n',
  'Unsubscribe',
  'cancel',
  'End',
  'QUIT',
  'STOPALL',
  'REVOKE',
  'optout',
];
const OPT_IN = ['START', 'start', 'Yes', 'YES', 'UNSTOP'];
const YES = ['YES', 'Yes', 'yes'];
const HELP = ['HELP', 'help', 'info', 'INFO'];
/** Bodies that look like an opt-out but are not one; the scenario's test checks they occur. */
export const NEAR_MISS = [
  'STOP PLEASE',
  'stop.',
  'Stop!',
  'OPT OUT',
  'please stop texting me',
  'Stop it',
  'PLEASE CANCEL',
  'stahp',
  'UN SUBSCRIBE',
];

/** Area codes end users live in, besides the customer's own. */
const TOWN_AREAS = ['201', '224', '267', '346', '425', '470', '614', '646', '747', '929'];
const TOWN_SIZE = 300;
/** Share of a customer's recipients that are also other customers' (same people, many shops). */
const TOWN_SHARE = 0.05;

interface SimNumber {
  phone: string;
  serviceSid: string | null;
  tollFree: boolean;
}

interface SimCustomer {
  numbers: SimNumber[];
  recipients: string[];
  /** Index into `numbers` of the number each recipient usually talks to. */
  home: Uint8Array;
  bodies: string[];
  /** Recipients who sent an opt-out, then ones who opted back in: who replies what, next. */
  stoppers: number[];
  starters: number[];
}

export function loadOwlie(
  state: EmulatorState,
  options: OwlieOptions,
): { customers: number; numbers: number; services: number; messages: number } {
  const customers = owlieCustomers();
  const parent = state.parentSid;

  const byPhone = new Map<string, string>();
  let numberCount = 0;
  for (const c of customers) {
    for (const n of c.numbers) {
      byPhone.set(n.phoneNumber, state.addNumber({ phoneNumber: n.phoneNumber, type: n.type }).sid);
      numberCount++;
    }
  }
  const services = new Map<string, ServiceRecord>();
  for (const name of SHARED_SERVICES) {
    services.set(name, state.createService(parent, { friendlyName: name }));
  }
  for (const c of customers) {
    const service = c.sharedService === null ? undefined : services.get(c.sharedService);
    if (service === undefined) continue;
    for (const n of c.numbers) state.joinService(service, byPhone.get(n.phoneNumber)!);
  }

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
  const startSec = Math.ceil((options.now - OWLIE_HISTORY_DAYS * 86_400_000) / 1000);
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

/** Removes and returns a random element (order is not kept). */
function takeRandom(items: number[], random: () => number): number {
  const i = Math.floor(random() * items.length);
  const taken = items[i] as number;
  items[i] = items[items.length - 1] as number;
  items.pop();
  return taken;
}

function buildSims(
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

function renderBody(
  template: string,
  biz: string,
  random: () => number,
  pick: <T>(items: readonly T[]) => T,
): string {
  const digits = (n: number) => String(Math.floor(random() * 10 ** n)).padStart(n, '0');
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    switch (name) {
      case 'biz':
        return biz;
      case 'day':
        return pick(DAYS);
      case 'time':
        return pick(TIMES);
      case 'date':
        return `${pick(MONTHS)} ${1 + Math.floor(random() * 28)}`;
      case 'person':
        return pick(PEOPLE);
      case 'class':
        return pick(CLASSES);
      case 'pet':
        return pick(PETS);
      case 'link':
        return `https://owlie.example/r/${digits(6)}`;
      case 'order':
        return digits(5);
      case 'code':
        return `${String.fromCharCode(65 + Math.floor(random() * 26))}${digits(3)}`;
      case 'gate':
        return String(1 + Math.floor(random() * 12));
      case 'party':
        return String(2 + Math.floor(random() * 6));
      case 'eta':
        return String(5 + Math.floor(random() * 40));
      default:
        return name;
    }
  });
}
