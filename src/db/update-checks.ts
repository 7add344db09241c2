/**
 * What reconcile found when it read the family's messages for a moved number Twilio says
 * changed in its subaccount (`number-updated`): a span vouched for (no account held a message
 * the number sent or heard in it), one with such a message elsewhere, or one it could not vouch
 * for without one (an account unreadable, the span beyond the Messages window). Migrations 031
 * and 032.
 */

import { CLOCK_SKEW_MS } from '../clock.js';
import type { Db } from './open.js';

export interface NumberUpdateCheck {
  numberSid: string;
  subaccountSid: string;
  /** ISO 8601 UTC, to the second: the span read, to Twilio's `date_updated` then. */
  spanStart: string;
  dateUpdated: string;
  /**
   * `unvouched`: said not checked with no message found (unreadable, retention); kept, so later
   * passes name it once the number is no longer listed as changed, until one vouches for it.
   */
  outcome: 'vouched' | 'found' | 'unvouched';
  /** How many accounts were read, and the requests that took. */
  accountsRead: number;
  requests: number;
  /** `found`: the first such message, and the account it is in. */
  found: { accountSid: string; messageSid: string; sentAt: string } | null;
  checkedAt: string;
}

/** Every check kept, oldest span first. */
export function numberUpdateChecks(db: Db): NumberUpdateCheck[] {
  const rows = db
    .prepare(
      `SELECT number_sid AS numberSid, subaccount_sid AS subaccountSid, span_start AS spanStart,
              date_updated AS dateUpdated, outcome, accounts_read AS accountsRead, requests,
              found_account_sid AS foundAccountSid, found_message_sid AS foundMessageSid,
              found_sent_at AS foundSentAt, checked_at AS checkedAt
       FROM number_update_checks
       ORDER BY date_updated, number_sid`,
    )
    .all() as (Omit<NumberUpdateCheck, 'found'> & {
    foundAccountSid: string | null;
    foundMessageSid: string | null;
    foundSentAt: string | null;
  })[];
  return rows.map(({ foundAccountSid, foundMessageSid, foundSentAt, ...row }) => ({
    ...row,
    found:
      foundAccountSid === null || foundMessageSid === null || foundSentAt === null
        ? null
        : { accountSid: foundAccountSid, messageSid: foundMessageSid, sentAt: foundSentAt },
  }));
}

/**
 * The number of each check kept not vouched for, by `${numberSid} ${subaccountSid}`: its
 * phone number, and the customer whose subaccount that is (else the one the number is mapped
 * to), as the mapping recorded them. A number no moved number or number found in place holds
 * any more (a later plan gave it to another customer, say) is still named by them.
 */
export function uncoveredCheckNumbers(
  db: Db,
): Map<string, { phoneNumber: string; customerId: string }> {
  const rows = db
    .prepare(
      `SELECT k.number_sid AS numberSid, k.subaccount_sid AS subaccountSid,
              n.phone_number AS phoneNumber,
              COALESCE((SELECT MIN(c.customer_id) FROM customer_subaccounts c
                        WHERE c.subaccount_sid = k.subaccount_sid), n.customer_id) AS customerId
       FROM (SELECT DISTINCT number_sid, subaccount_sid FROM number_update_checks
             WHERE outcome <> 'vouched') k
       JOIN customer_numbers n ON n.number_sid = k.number_sid`,
    )
    .all() as {
    numberSid: string;
    subaccountSid: string;
    phoneNumber: string;
    customerId: string;
  }[];
  return new Map(
    rows.map((r) => [
      `${r.numberSid} ${r.subaccountSid}`,
      { phoneNumber: r.phoneNumber, customerId: r.customerId },
    ]),
  );
}

/**
 * Every subaccount the database knows of: one a customer was mapped to, and any a listing saw a
 * number in (the parent among them, for the caller to leave out). Sorted.
 */
export function knownSubaccounts(db: Db): string[] {
  const rows = db
    .prepare(
      `SELECT subaccount_sid AS sid FROM customer_subaccounts
       UNION SELECT account_sid FROM number_accounts_seen
       ORDER BY sid`,
    )
    .all() as { sid: string }[];
  return rows.map((r) => r.sid);
}

/**
 * Keeps each check (the same span checked again keeps the first answer, but for `unvouched`:
 * a later answer for that span, vouched or found, takes its place; and for one vouched for by
 * a pass that read within the clocks' allowance of the change, which does not stand for it
 * (`vouchHolds`, src/reconcile/updated-check.ts): any later answer takes its place).
 */
export function recordNumberUpdateChecks(db: Db, checks: readonly NumberUpdateCheck[]): void {
  if (checks.length === 0) return;
  const insert = db.prepare(
    `INSERT INTO number_update_checks
       (number_sid, subaccount_sid, span_start, date_updated, outcome, accounts_read, requests,
        found_account_sid, found_message_sid, found_sent_at, checked_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (number_sid, subaccount_sid, span_start, date_updated) DO UPDATE SET
       outcome = excluded.outcome, accounts_read = excluded.accounts_read,
       requests = excluded.requests, found_account_sid = excluded.found_account_sid,
       found_message_sid = excluded.found_message_sid, found_sent_at = excluded.found_sent_at,
       checked_at = excluded.checked_at
     WHERE (number_update_checks.outcome = 'unvouched' AND excluded.outcome <> 'unvouched')
        OR (number_update_checks.outcome = 'vouched'
            AND CAST(strftime('%s', number_update_checks.checked_at) AS INTEGER)
                  - CAST(strftime('%s', number_update_checks.date_updated) AS INTEGER) <= ?)`,
  );
  db.transaction(() => {
    for (const c of checks) {
      insert.run(
        c.numberSid,
        c.subaccountSid,
        c.spanStart,
        c.dateUpdated,
        c.outcome,
        c.accountsRead,
        c.requests,
        c.found?.accountSid ?? null,
        c.found?.messageSid ?? null,
        c.found?.sentAt ?? null,
        c.checkedAt,
        CLOCK_SKEW_MS / 1000,
      );
    }
  })();
}

/**
 * A number whose transfer failed, found in a subaccount the passes read, that a pass judged
 * there: the family's messages read from when the run that was to move it began (`runBegan`,
 * ISO 8601 UTC to the second) up to when the pass read (`readUpTo`, this machine's clock) held
 * none of it anywhere else (not-moved.ts, `withoutStopOver`), while Twilio's `date_updated` on
 * it there was `dateUpdated` and that run's transfer of it was refused at `refusedAt`. Only a
 * vouch is kept (migration 035).
 */
export interface TransferFailedRead {
  numberSid: string;
  /** The subaccount it was found in. */
  accountSid: string;
  runBegan: string;
  dateUpdated: string;
  refusedAt: string;
  readUpTo: string;
  /** How many accounts the last reading read, and the requests that took. */
  accountsRead: number;
  requests: number;
}

/** Every such reading kept. */
export function transferFailedReads(db: Db): TransferFailedRead[] {
  return db
    .prepare(
      `SELECT number_sid AS numberSid, account_sid AS accountSid, run_began AS runBegan,
              date_updated AS dateUpdated, refused_at AS refusedAt, read_up_to AS readUpTo,
              accounts_read AS accountsRead, requests
       FROM transfer_failed_reads
       ORDER BY number_sid, account_sid, run_began`,
    )
    .all() as TransferFailedRead[];
}

/**
 * Keeps each reading vouched for: one of the same number, subaccount, run, `date_updated` and
 * refusal takes the new one's place (read on from the old one's end).
 */
export function recordTransferFailedReads(db: Db, reads: readonly TransferFailedRead[]): void {
  if (reads.length === 0) return;
  const insert = db.prepare(
    `INSERT INTO transfer_failed_reads
       (number_sid, account_sid, run_began, date_updated, refused_at, read_up_to, accounts_read,
        requests)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (number_sid, account_sid, run_began, date_updated, refused_at) DO UPDATE SET
       read_up_to = excluded.read_up_to, accounts_read = excluded.accounts_read,
       requests = excluded.requests`,
  );
  db.transaction(() => {
    for (const r of reads) {
      insert.run(
        r.numberSid,
        r.accountSid,
        r.runBegan,
        r.dateUpdated,
        r.refusedAt,
        r.readUpTo,
        r.accountsRead,
        r.requests,
      );
    }
  })();
}
