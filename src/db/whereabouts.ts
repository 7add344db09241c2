/**
 * Where the ledger has seen numbers, and when: what reconcile bounds an opt-out said to a moved
 * number in another account by (src/reconcile/whereabouts.ts), and the evidence of a Messaging
 * Service the number was in there.
 */

import { KNOWN_SERVICE, type NumberEvidence } from './ledger.js';
import type { Db } from './open.js';

/**
 * A moment the number was known to be in an account: a message of its own there (Twilio's
 * date), or a listing (this machine's clock, which Twilio's may differ from by two minutes).
 */
export interface NumberSighting {
  accountSid: string;
  /**
   * The Messaging Service it was in there then: a keyword it received carries its service's SID
   * (null: in none), a send from it refused through a known service that service. Not given: not
   * known (a refused send through no service, or a listing that did not record it).
   */
  service?: string | null;
  at: string;
  /** `at` is a listing's, this machine's clock. */
  listed: boolean;
  /**
   * A listing that showed it out of this service of `accountSid` (migration 028's `left_seen`),
   * in that account or in another one: not a sighting in `accountSid`.
   */
  outOfService?: string;
}

/**
 * Each of `phones`' sightings in the ledger, by phone number: its own messages (the first and the
 * last of each account and service: a keyword it received, any channel, or a send from it
 * refused), every account a listing saw it in (the first and last listing, migration 027), and
 * the services one saw it in (the first and last, and the first that showed it out: 026, 028).
 * One scan of the ledger, as `numberEvidenceSince`.
 */
export function numberSightings(db: Db, phones: readonly string[]): Map<string, NumberSighting[]> {
  const byPhone = new Map<string, NumberSighting[]>(phones.map((p) => [p, []]));
  if (phones.length === 0) return byPhone;
  const list = JSON.stringify([...new Set(phones)]);
  const own = db
    .prepare(
      `SELECT e.twilio_number AS phone, e.account_sid AS accountSid,
              CASE WHEN e.direction = 'inbound' THEN COALESCE(e.messaging_service_sid, '')
                   WHEN e.messaging_service_sid IS NOT NULL AND ${KNOWN_SERVICE}
                   THEN e.messaging_service_sid END AS service,
              MIN(e.date_sent) AS first, MAX(e.date_sent) AS last
       FROM ledger_events e
       WHERE e.twilio_number IN (SELECT value FROM json_each(?))
       GROUP BY phone, accountSid, service`,
    )
    .all(list) as {
    phone: string;
    accountSid: string;
    service: string | null;
    first: string;
    last: string;
  }[];
  for (const row of own) {
    const service = row.service === null ? undefined : row.service === '' ? null : row.service;
    for (const at of new Set([row.first, row.last])) {
      byPhone.get(row.phone)?.push({ accountSid: row.accountSid, service, at, listed: false });
    }
  }
  const listings = db
    .prepare(
      `SELECT phone_number AS phone, account_sid AS accountSid, first_seen AS first,
              last_seen AS last, messaging_service_sid AS service
       FROM number_accounts_seen WHERE phone_number IN (SELECT value FROM json_each(?))`,
    )
    .all(list) as {
    phone: string;
    accountSid: string;
    first: string;
    last: string;
    service: string | null;
  }[];
  for (const row of listings) {
    const seen = byPhone.get(row.phone);
    seen?.push({ accountSid: row.accountSid, at: row.first, listed: true });
    seen?.push({ accountSid: row.accountSid, service: row.service, at: row.last, listed: true });
  }
  const services = db
    .prepare(
      `SELECT phone_number AS phone, account_sid AS accountSid,
              messaging_service_sid AS service, first_seen AS first, last_seen AS last,
              left_seen AS "left"
       FROM number_services_seen WHERE phone_number IN (SELECT value FROM json_each(?))`,
    )
    .all(list) as {
    phone: string;
    accountSid: string;
    service: string;
    first: string;
    last: string;
    left: string | null;
  }[];
  for (const { phone, accountSid, service, first, last, left } of services) {
    const seen = byPhone.get(phone);
    for (const at of new Set([first, last])) seen?.push({ accountSid, service, at, listed: true });
    if (left !== null) seen?.push({ accountSid, at: left, listed: true, outOfService: service });
  }
  // The journal's: a transfer that put it in an account (when it finished), and the service an
  // attach step put it in there. The journal is read once, each step's number found by its SID:
  // apply_steps has no index by step, and each number's steps looked up in it scanned the whole
  // journal (20,000 numbers and 22,000 steps: 43 s).
  const steps = db
    .prepare(
      `SELECT n.phone_number AS phone, s.action,
              COALESCE(s.result_json ->> '$.to_account_sid', c.subaccount_sid) AS accountSid,
              s.result_json ->> '$.service_sid' AS service, s.finished_at AS at
       FROM apply_steps s
       CROSS JOIN customer_numbers n ON n.number_sid = substr(s.step_id, instr(s.step_id, ':') + 1)
         AND s.step_id IN ('transfer_number:' || n.number_sid, 'attach_number:' || n.number_sid)
       LEFT JOIN customer_subaccounts c ON c.customer_id = s.customer_id
       WHERE n.phone_number IN (SELECT value FROM json_each(?))
         AND s.state IN ('done', 'skipped') AND s.finished_at IS NOT NULL`,
    )
    .all(list) as {
    phone: string;
    action: string;
    accountSid: string | null;
    service: string | null;
    at: string;
  }[];
  for (const { phone, action, accountSid, service, at } of steps) {
    if (accountSid === null) continue;
    if (action === 'attach_number' && service === null) continue;
    byPhone
      .get(phone)
      ?.push({ accountSid, at, listed: true, ...(action === 'attach_number' ? { service } : {}) });
  }
  return byPhone;
}

/**
 * The evidence Messaging Services (`account` and `service`, known as services there) took since
 * `since`: every opt-out, opt-in and refused send through them, of any number (a refused send
 * with no sender too), in `numberEvidenceSince`'s shape with the sender as `phoneNumber`, and
 * its order but for the sender (by account, service, recipient, date, the opt-out side first
 * within a second, SID).
 */
export function serviceEvidenceSince(
  db: Db,
  services: readonly { accountSid: string; service: string }[],
  since: string,
): NumberEvidence[] {
  if (services.length === 0) return [];
  return db
    .prepare(
      `SELECT e.twilio_number AS phoneNumber, e.account_sid AS accountSid,
              e.messaging_service_sid AS scopeKey, e.channel, e.end_user AS recipient, e.kind,
              e.date_sent AS dateSent, e.message_sid AS messageSid
       FROM ledger_events e
       WHERE e.kind IN ('opt-out', 'opt-in', 'refused') AND e.date_sent >= ?
         AND e.account_sid || ' ' || e.messaging_service_sid IN (SELECT value FROM json_each(?))
         AND ${KNOWN_SERVICE}
       ORDER BY e.account_sid, e.messaging_service_sid, e.end_user, e.date_sent,
                e.kind = 'opt-in', e.message_sid`,
    )
    .all(
      since,
      JSON.stringify(services.map((s) => `${s.accountSid} ${s.service}`)),
    ) as NumberEvidence[];
}
