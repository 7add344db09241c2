/**
 * Customers and their numbers as the last plan recorded them, and the subaccount each
 * customer went to as apply recorded it.
 */

import type { Db } from './open.js';

export interface CustomerRecord {
  customerId: string;
  customerName: string;
  messagingService: string | null;
}

export interface CustomerNumberRecord {
  numberSid: string;
  phoneNumber: string;
  customerId: string;
  /** Where the number was before it moved (kept once the number has moved). */
  sourceAccountSid: string;
  sourceServiceSid: string | null;
  /** Where its inbound went there (an InboundRoute as JSON); null or absent when not known. */
  sourceRouteJson?: string | null;
  /** True when the number is still where it started (so `source_*` may be refreshed). */
  atSource: boolean;
}

export function recordMapping(
  db: Db,
  mappingSha256: string,
  at: string,
  customers: readonly CustomerRecord[],
  numbers: readonly CustomerNumberRecord[],
): void {
  const customer = db.prepare(
    `INSERT INTO customers (customer_id, customer_name, messaging_service, mapping_sha256, recorded_at)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (customer_id) DO UPDATE SET customer_name = excluded.customer_name,
       messaging_service = excluded.messaging_service, mapping_sha256 = excluded.mapping_sha256,
       recorded_at = excluded.recorded_at`,
  );
  const number = db.prepare(
    `INSERT INTO customer_numbers
       (number_sid, phone_number, customer_id, source_account_sid, source_service_sid,
        source_route_json, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (number_sid) DO UPDATE SET
       phone_number = excluded.phone_number, customer_id = excluded.customer_id,
       recorded_at = excluded.recorded_at,
       source_account_sid = CASE WHEN ? THEN excluded.source_account_sid
                                 ELSE source_account_sid END,
       source_service_sid = CASE WHEN ? THEN excluded.source_service_sid
                                 ELSE source_service_sid END,
       source_route_json = CASE WHEN ? THEN excluded.source_route_json
                                ELSE source_route_json END`,
  );
  const write = db.transaction(() => {
    for (const c of customers) {
      customer.run(c.customerId, c.customerName, c.messagingService, mappingSha256, at);
    }
    for (const n of numbers) {
      // Once for each source column the update may refresh.
      const atSource = n.atSource ? 1 : 0;
      number.run(
        n.numberSid,
        n.phoneNumber,
        n.customerId,
        n.sourceAccountSid,
        n.sourceServiceSid,
        n.sourceRouteJson ?? null,
        at,
        atSource,
        atSource,
        atSource,
      );
    }
  });
  // When every number's customer is in this batch (written first, in the same transaction),
  // the foreign key cannot fail, and checking it row by row was a third of the time 100,000
  // rows took: it is off for this transaction only (SQLite takes the pragma between them).
  const ids = new Set(customers.map((c) => c.customerId));
  const skipCheck =
    db.pragma('foreign_keys', { simple: true }) === 1 &&
    numbers.every((n) => ids.has(n.customerId));
  if (skipCheck) db.pragma('foreign_keys = OFF');
  try {
    write();
  } finally {
    if (skipCheck) db.pragma('foreign_keys = ON');
  }
}

export function listCustomers(db: Db): CustomerRecord[] {
  return db
    .prepare(
      `SELECT customer_id AS customerId, customer_name AS customerName,
              messaging_service AS messagingService
       FROM customers ORDER BY customer_id`,
    )
    .all() as CustomerRecord[];
}

/** Where a number was, and where its inbound went, before any apply touched it. */
export interface NumberOrigin {
  accountSid: string;
  serviceSid: string | null;
  routeJson: string | null;
}

/** The recorded origins of these numbers (those the mapping has). */
export function numberOrigins(db: Db, numberSids: ReadonlySet<string>): Map<string, NumberOrigin> {
  if (numberSids.size === 0) return new Map();
  const rows = db
    .prepare(
      `SELECT number_sid AS numberSid, source_account_sid AS accountSid,
              source_service_sid AS serviceSid, source_route_json AS routeJson
       FROM customer_numbers WHERE number_sid IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify([...numberSids])) as (NumberOrigin & { numberSid: string })[];
  return new Map(rows.map(({ numberSid, ...origin }) => [numberSid, origin]));
}

export function listCustomerNumbers(
  db: Db,
): Omit<CustomerNumberRecord, 'atSource' | 'sourceRouteJson'>[] {
  return db
    .prepare(
      `SELECT number_sid AS numberSid, phone_number AS phoneNumber, customer_id AS customerId,
              source_account_sid AS sourceAccountSid, source_service_sid AS sourceServiceSid
       FROM customer_numbers ORDER BY customer_id, phone_number`,
    )
    .all() as Omit<CustomerNumberRecord, 'atSource' | 'sourceRouteJson'>[];
}

/** The accounts the recorded numbers came from, each with the customers whose numbers did. */
export function sourceAccounts(db: Db): Map<string, Set<string>> {
  const rows = db
    .prepare(
      'SELECT DISTINCT source_account_sid AS account, customer_id AS customer FROM customer_numbers',
    )
    .all() as { account: string; customer: string }[];
  const byAccount = new Map<string, Set<string>>();
  for (const { account, customer } of rows) {
    let customers = byAccount.get(account);
    if (customers === undefined) byAccount.set(account, (customers = new Set()));
    customers.add(customer);
  }
  return byAccount;
}

export function previousSubaccounts(db: Db): Map<string, string> {
  const rows = db
    .prepare('SELECT customer_id AS id, subaccount_sid AS sid FROM customer_subaccounts')
    .all() as { id: string; sid: string }[];
  return new Map(rows.map((row) => [row.id, row.sid]));
}

export function recordCustomerSubaccount(
  db: Db,
  customerId: string,
  subaccountSid: string,
  at: string,
): void {
  db.prepare(
    `INSERT INTO customer_subaccounts (customer_id, subaccount_sid, recorded_at) VALUES (?, ?, ?)
     ON CONFLICT (customer_id) DO UPDATE SET subaccount_sid = excluded.subaccount_sid,
       recorded_at = excluded.recorded_at`,
  ).run(customerId, subaccountSid, at);
}
