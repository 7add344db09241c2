/**
 * The customers of the "Owlie Notifications" scenario: 50 small businesses, their numbers and
 * Messaging Services. Fixed: they never depend on the scenario's seed, and the mapping
 * shipped as `plans/owlie-customers.csv` is `owlieMapping()` byte for byte.
 */

import { stringify } from 'csv-stringify/sync';

import { createRandom } from '../random.js';

export interface OwlieCustomer {
  id: string;
  name: string;
  numbers: { phoneNumber: string; type: 'local' | 'toll-free' }[];
  /** Friendly name of the parent's shared service its numbers are in, or null. */
  sharedService: string | null;
  /** The FriendlyName the customer wants for its own service in the mapping, or null. */
  messagingService: string | null;
}

const SHARED = 'Owlie Shared';
const ALERTS = 'Owlie Alerts';
export const SHARED_SERVICES = [SHARED, ALERTS] as const;

export type Kind =
  'health' | 'beauty' | 'fitness' | 'travel' | 'retail' | 'food' | 'home' | 'pro' | 'pets';

export interface Row {
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
export const ROWS: readonly Row[] = [
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

/** The scenario's mapping CSV (the input of `plan`): one row per number, LF line endings. */
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
