/**
 * Customers and their numbers as the last plan recorded them, and the subaccount each
 * customer went to as apply recorded it.
 */

import type { Db } from './open.js';
import { numberDepartures } from './reconcile.js';
import { statement } from './statements.js';

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
  /**
   * Where it is now (`{accountSid, serviceSid, route}` as JSON): kept as its origin unless a
   * move of it is under way, whose origin stays. Absent = not recorded.
   */
  originJson?: string | null;
  /**
   * True when the number is still where it started (so `source_*` may be refreshed; never while
   * a move of it is under way, which an apply may have begun since the plan read the account).
   */
  atSource: boolean;
  /** True when it is where the mapping wants it: a move under way is over. */
  settled?: boolean;
}

export function recordMapping(
  db: Db,
  mappingSha256: string,
  at: string,
  customers: readonly CustomerRecord[],
  /** Taken one at a time: 100,000 records need never be held at once. */
  numbers: Iterable<CustomerNumberRecord>,
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
        origin_json, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (number_sid) DO UPDATE SET
       phone_number = excluded.phone_number, customer_id = excluded.customer_id,
       recorded_at = excluded.recorded_at,
       source_account_sid = CASE WHEN ? AND moving = 0 THEN excluded.source_account_sid
                                 ELSE source_account_sid END,
       source_service_sid = CASE WHEN ? AND moving = 0 THEN excluded.source_service_sid
                                 ELSE source_service_sid END,
       origin_json = CASE WHEN moving = 1 THEN origin_json ELSE excluded.origin_json END,
       moving = CASE WHEN ? THEN 0 ELSE moving END`,
  );
  // The foreign key of each number's customer is checked here rather than by SQLite: nearly
  // always the customer is one of this batch (written first, in the same transaction), and
  // SQLite's check row by row was a third of the time 100,000 rows took. The pragma is off for
  // this transaction only (SQLite takes it between transactions).
  const batch = new Set(customers.map((c) => c.customerId));
  const known = db.prepare('SELECT 1 FROM customers WHERE customer_id = ?').pluck();
  const write = db.transaction(() => {
    for (const c of customers) {
      customer.run(c.customerId, c.customerName, c.messagingService, mappingSha256, at);
    }
    for (const n of numbers) {
      if (!batch.has(n.customerId) && known.get(n.customerId) === undefined) {
        throw new Error(
          `FOREIGN KEY constraint failed: number ${n.numberSid} names customer ${n.customerId}, which is not recorded`,
        );
      }
      // Once for each source column the update may refresh.
      const atSource = n.atSource ? 1 : 0;
      number.run(
        n.numberSid,
        n.phoneNumber,
        n.customerId,
        n.sourceAccountSid,
        n.sourceServiceSid,
        n.originJson ?? null,
        at,
        atSource,
        atSource,
        n.settled === true ? 1 : 0,
      );
    }
  });
  const checked = db.pragma('foreign_keys', { simple: true }) === 1;
  if (checked) db.pragma('foreign_keys = OFF');
  try {
    write();
  } finally {
    if (checked) db.pragma('foreign_keys = ON');
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

/**
 * The recorded origins (`origin_json`) of these numbers, whether or not their move is still
 * under way (a move that has ended keeps its origin until a later plan maps the number again).
 */
export function recordedOrigins(db: Db, numberSids: Iterable<string>): Map<string, string> {
  const select = statement(
    db,
    'SELECT origin_json AS originJson FROM customer_numbers WHERE number_sid = ? AND origin_json IS NOT NULL',
  );
  const origins = new Map<string, string>();
  for (const sid of numberSids) {
    const row = select.get(sid) as { originJson: string } | undefined;
    if (row !== undefined) origins.set(sid, row.originJson);
  }
  return origins;
}

/** The recorded origins (`origin_json`) of the numbers a move is under way for. */
export function movingOrigins(db: Db): Map<string, string> {
  const rows = db
    .prepare(
      `SELECT number_sid AS numberSid, origin_json AS originJson FROM customer_numbers
       WHERE moving = 1 AND origin_json IS NOT NULL`,
    )
    .all() as { numberSid: string; originJson: string }[];
  return new Map(rows.map((r) => [r.numberSid, r.originJson]));
}

/** The apply journal's latest event: `numbersBegunSince` names the moves begun after it. */
export function journalMark(db: Db): number {
  return (db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM apply_events').get() as { id: number })
    .id;
}

/**
 * The numbers an apply sent a step of (its intent recorded) after `mark`: their move began
 * then, even if it has ended since (settled, no longer marked moving).
 */
export function numbersBegunSince(db: Db, mark: number): string[] {
  return (
    db
      .prepare(
        `SELECT DISTINCT substr(step_id, instr(step_id, ':') + 1) AS numberSid FROM apply_events
         WHERE id > ? AND kind = 'intent'
           AND substr(step_id, 1, instr(step_id, ':') - 1)
               IN ('detach_number', 'transfer_number', 'attach_number', 'set_number_webhook')`,
      )
      .all(mark) as { numberSid: string }[]
  ).map((r) => r.numberSid);
}

/** The number a number step acts on: `detach_number:PN…` → `PN…`; null for other steps. */
const NUMBER_STEP = /^(?:detach_number|transfer_number|attach_number|set_number_webhook):(PN\w+)$/;

/** Before apply's first request for a number: its move is under way, its origin kept. */
export function markMoving(db: Db, stepId: string): void {
  const match = NUMBER_STEP.exec(stepId);
  if (match === null) return;
  statement(db, 'UPDATE customer_numbers SET moving = 1 WHERE number_sid = ? AND moving = 0').run(
    match[1],
  );
}

/** After a run: the numbers all of whose steps in it are done (or were already) have moved. */
export function settleMovedNumbers(db: Db, runId: number): void {
  db.prepare(
    `UPDATE customer_numbers SET moving = 0 WHERE moving = 1 AND number_sid IN (
       SELECT substr(step_id, instr(step_id, ':') + 1) FROM apply_steps
       WHERE run_id = ?
         AND action IN ('detach_number', 'transfer_number', 'attach_number', 'set_number_webhook')
       GROUP BY substr(step_id, instr(step_id, ':') + 1)
       HAVING SUM(state NOT IN ('done', 'skipped')) = 0)`,
  ).run(runId);
}

export function listCustomerNumbers(
  db: Db,
): Omit<CustomerNumberRecord, 'atSource' | 'originJson' | 'settled'>[] {
  return db
    .prepare(
      `SELECT number_sid AS numberSid, phone_number AS phoneNumber, customer_id AS customerId,
              source_account_sid AS sourceAccountSid, source_service_sid AS sourceServiceSid
       FROM customer_numbers ORDER BY customer_id, phone_number`,
    )
    .all() as Omit<CustomerNumberRecord, 'atSource' | 'originJson' | 'settled'>[];
}

/**
 * Numbers an applied run moved into a customer's subaccount, which a later plan not applied
 * yet records as another customer's: the subaccount still holds them, so their opt-outs stay
 * on the list of the customer of the last run that moved them until a run moves them on.
 */
export function numbersStillHeld(
  db: Db,
): { numberSid: string; phoneNumber: string; customerId: string }[] {
  return db
    .prepare(
      `WITH latest AS (
         SELECT step_id, MAX(run_id) AS run_id FROM apply_steps
         WHERE action = 'transfer_number' AND state IN ('done', 'skipped')
         GROUP BY step_id)
       SELECT n.number_sid AS numberSid, n.phone_number AS phoneNumber, s.customer_id AS customerId
       FROM latest l
       JOIN apply_steps s ON s.run_id = l.run_id AND s.step_id = l.step_id
       JOIN customer_numbers n ON n.number_sid = substr(l.step_id, length('transfer_number:') + 1)
       WHERE s.customer_id <> n.customer_id
       ORDER BY n.number_sid`,
    )
    .all() as { numberSid: string; phoneNumber: string; customerId: string }[];
}

/**
 * The accounts the recorded numbers came from, each with the customers whose numbers did: the
 * source each number's last plan recorded, and every account an apply moved it out of before
 * (a number a later wave gave to another customer left the parent, then the first customer's
 * subaccount, and its list holds what it carried out of both: the parent's history counts
 * for the new customer's list too, though the plan recorded the subaccount as its source).
 */
export function sourceAccounts(db: Db): Map<string, Set<string>> {
  const byAccount = new Map<string, Set<string>>();
  for (const { accountSid, customerId } of sourceStays(db)) {
    let customers = byAccount.get(accountSid);
    if (customers === undefined) byAccount.set(accountSid, (customers = new Set()));
    customers.add(customerId);
  }
  return byAccount;
}

/**
 * `sourceAccounts` number by number: each recorded number, each account it came from, and the
 * customer whose list it is on (the customer the mapping records, and the one still holding it
 * when a later plan not applied gives it on). A customer's list is judged by the time each of
 * its own numbers left each account (`numbersLeft`).
 */
export function sourceStays(
  db: Db,
): { numberSid: string; customerId: string; accountSid: string }[] {
  const stays = db
    .prepare(
      `SELECT number_sid AS numberSid, customer_id AS customerId,
              source_account_sid AS accountSid
       FROM customer_numbers`,
    )
    .all() as { numberSid: string; customerId: string; accountSid: string }[];
  const customerOf = new Map(stays.map((n) => [n.numberSid, n.customerId]));
  // A number a later plan not applied gives on is still its holder's: what it carried out of
  // the accounts it left counts for the holder's list too.
  const holderOf = new Map(numbersStillHeld(db).map((n) => [n.numberSid, n.customerId]));
  for (const d of numberDepartures(db)) {
    for (const customer of [customerOf.get(d.numberSid), holderOf.get(d.numberSid)])
      if (customer !== undefined) {
        stays.push({ numberSid: d.numberSid, customerId: customer, accountSid: d.accountSid });
      }
  }
  return stays;
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
  statement(
    db,
    `INSERT INTO customer_subaccounts (customer_id, subaccount_sid, recorded_at) VALUES (?, ?, ?)
     ON CONFLICT (customer_id) DO UPDATE SET subaccount_sid = excluded.subaccount_sid,
       recorded_at = excluded.recorded_at`,
  ).run(customerId, subaccountSid, at);
}
