/**
 * The opt-out ledger's queries: evidence rows (one per keyword message or refused send,
 * keyed by message SID so that reading a message twice changes nothing), the numbers and
 * service memberships last seen, and the current opt-out state derived from the evidence.
 */

import type { Db } from './open.js';
import { statement } from './statements.js';

export type EventKind = 'opt-out' | 'opt-in' | 'help' | 'refused';

export interface LedgerEvent {
  messageSid: string;
  accountSid: string;
  kind: EventKind;
  keyword: string | null;
  twilioNumber: string;
  endUser: string;
  messagingServiceSid: string | null;
  direction: string;
  body: string;
  /** ISO 8601 UTC; null when Twilio gave the message no date at all (kept apart, reported). */
  dateSent: string | null;
  errorCode: number | null;
}

export interface NumberRow {
  accountSid: string;
  numberSid: string;
  phoneNumber: string;
  numberType: string | null;
  messagingServiceSid: string | null;
  serviceName: string | null;
}

/** One currently opted-out (scope, end user) pair, with the message that put it there. */
export interface OptOutRow {
  accountSid: string;
  scope: 'number' | 'service';
  /** The Twilio number that received the opt-out. */
  senderNumber: string;
  messagingServiceSid: string | null;
  recipient: string;
  keyword: string;
  body: string;
  optedOutAt: string;
  stopMessageSid: string;
}

export function insertEvents(db: Db, runId: number, events: readonly LedgerEvent[]): number {
  const insert = statement(
    db,
    `INSERT OR IGNORE INTO ledger_events
       (message_sid, account_sid, kind, keyword, twilio_number, end_user, messaging_service_sid,
        direction, body, date_sent, error_code, run_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertUndated = statement(
    db,
    `INSERT OR IGNORE INTO undated_evidence
       (message_sid, account_sid, kind, keyword, twilio_number, end_user, messaging_service_sid,
        direction, body, error_code, run_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  let added = 0;
  for (const e of events) {
    if (e.dateSent === null) {
      added += insertUndated.run(
        e.messageSid,
        e.accountSid,
        e.kind,
        e.keyword,
        e.twilioNumber,
        e.endUser,
        e.messagingServiceSid,
        e.direction,
        e.body,
        e.errorCode,
        runId,
      ).changes;
      continue;
    }
    added += insert.run(
      e.messageSid,
      e.accountSid,
      e.kind,
      e.keyword,
      e.twilioNumber,
      e.endUser,
      e.messagingServiceSid,
      e.direction,
      e.body,
      e.dateSent,
      e.errorCode,
      runId,
    ).changes;
  }
  return added;
}

/** Replaces what is known of an account's numbers with what was just observed. */
export function replaceNumbers(
  db: Db,
  runId: number,
  accountSid: string,
  observedAt: string,
  numbers: readonly NumberRow[],
): void {
  db.transaction(() => {
    db.prepare('DELETE FROM numbers WHERE account_sid = ?').run(accountSid);
    const insert = db.prepare(`INSERT OR REPLACE INTO numbers
      (account_sid, number_sid, phone_number, number_type, messaging_service_sid, service_name,
       observed_at, run_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const n of numbers) {
      insert.run(
        n.accountSid,
        n.numberSid,
        n.phoneNumber,
        n.numberType,
        n.messagingServiceSid,
        n.serviceName,
        observedAt,
        runId,
      );
    }
  })();
}

/** Phone number → the type Twilio reports for it (toll-free changes what YES means). */
export function numberTypes(db: Db): Map<string, string | null> {
  const rows = db.prepare('SELECT phone_number, number_type FROM numbers').raw().all() as [
    string,
    string | null,
  ][];
  return new Map(rows);
}

export function listNumbers(db: Db): NumberRow[] {
  return db
    .prepare(
      `SELECT account_sid AS accountSid, number_sid AS numberSid, phone_number AS phoneNumber,
              number_type AS numberType, messaging_service_sid AS messagingServiceSid,
              service_name AS serviceName
       FROM numbers ORDER BY account_sid, phone_number`,
    )
    .all() as NumberRow[];
}

/**
 * The state of each (scope, end user) pair is its latest opt-out or opt-in by date_sent. The
 * scope is the Messaging Service the keyword arrived through, else the receiving number.
 * date_sent has whole seconds, so Twilio's own order within a second is unknowable: on a tie
 * the opt-out wins (the safe reading), then the larger SID, so the answer is deterministic.
 */
const LATEST_BY_PAIR = `
  SELECT e.*,
         ROW_NUMBER() OVER (
           PARTITION BY account_sid, COALESCE(messaging_service_sid, twilio_number), end_user
           ORDER BY date_sent DESC, CASE kind WHEN 'opt-out' THEN 0 ELSE 1 END,
                    message_sid DESC) AS rank
  FROM ledger_events e
  WHERE kind IN ('opt-out', 'opt-in')`;

export function currentOptOuts(db: Db): OptOutRow[] {
  return db
    .prepare(
      `WITH latest AS (${LATEST_BY_PAIR})
       SELECT account_sid AS accountSid,
              CASE WHEN messaging_service_sid IS NULL THEN 'number' ELSE 'service' END AS scope,
              twilio_number AS senderNumber,
              messaging_service_sid AS messagingServiceSid,
              end_user AS recipient, keyword, body,
              date_sent AS optedOutAt, message_sid AS stopMessageSid
       FROM latest
       WHERE rank = 1 AND kind = 'opt-out'
       ORDER BY account_sid, COALESCE(messaging_service_sid, twilio_number), end_user`,
    )
    .all() as OptOutRow[];
}

/**
 * Pairs whose latest second holds both an opt-out and an opt-in: the ties resolved as opted
 * out, which every coverage statement counts.
 */
export function countTiesResolvedAsOptOut(db: Db): number {
  const row = db
    .prepare(
      `WITH latest AS (${LATEST_BY_PAIR})
       SELECT COUNT(*) AS n FROM latest l
       WHERE l.rank = 1 AND l.kind = 'opt-out' AND EXISTS (
         SELECT 1 FROM ledger_events o
         WHERE o.kind = 'opt-in' AND o.account_sid = l.account_sid AND o.end_user = l.end_user
           AND COALESCE(o.messaging_service_sid, o.twilio_number)
             = COALESCE(l.messaging_service_sid, l.twilio_number)
           AND o.date_sent = l.date_sent)`,
    )
    .get() as { n: number };
  return row.n;
}

export interface UndatedEvidence {
  messageSid: string;
  accountSid: string;
  kind: EventKind;
  twilioNumber: string;
  endUser: string;
}

/** Keyword messages and refusals that carried no date: never silently dropped. */
export function listUndatedEvidence(db: Db): UndatedEvidence[] {
  return db
    .prepare(
      `SELECT message_sid AS messageSid, account_sid AS accountSid, kind,
              twilio_number AS twilioNumber, end_user AS endUser
       FROM undated_evidence ORDER BY account_sid, message_sid`,
    )
    .all() as UndatedEvidence[];
}

export interface LedgerCounts {
  optOut: number;
  optIn: number;
  help: number;
  refused: number;
}

export function countEvents(db: Db): LedgerCounts {
  const rows = db.prepare('SELECT kind, COUNT(*) AS n FROM ledger_events GROUP BY kind').all() as {
    kind: EventKind;
    n: number;
  }[];
  const count = (kind: EventKind) => rows.find((row) => row.kind === kind)?.n ?? 0;
  return {
    optOut: count('opt-out'),
    optIn: count('opt-in'),
    help: count('help'),
    refused: count('refused'),
  };
}
