/**
 * The opt-out ledger's queries: evidence rows (one per keyword message or refused send,
 * keyed by message SID so that reading a message twice changes nothing), the numbers and
 * service memberships last seen, and the current opt-out state derived from the evidence.
 */

import { reportsTollFree } from '../optouts/keywords.js';
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

/**
 * One currently opted-out (scope, end user) pair, with the message that shows it: the STOP
 * that put it there, or — when no STOP since the pair's last opt-in was read — the first send
 * Twilio refused with 21610 since then.
 */
export interface OptOutRow {
  accountSid: string;
  scope: 'number' | 'service';
  /** The Twilio number that received the STOP, or that the refused send went from. */
  senderNumber: string;
  messagingServiceSid: string | null;
  recipient: string;
  evidence: 'keyword' | 'refusal';
  /** The STOP's keyword and body; null for a pair known from refusals only. */
  keyword: string | null;
  body: string | null;
  /** The STOP's date_sent, or the first refusal's: opted out no later than then. */
  optedOutAt: string;
  /** The STOP; null for a pair known from refusals only. */
  stopMessageSid: string | null;
  /** The STOP, or the refused send. */
  evidenceMessageSid: string;
}

/**
 * A message read twice is one row. Only that conflict is passed over: `OR IGNORE` would also
 * skip, without a word, a row that breaks a NOT NULL, and with it an opt-out.
 */
export function insertEvents(db: Db, runId: number, events: readonly LedgerEvent[]): number {
  const insert = statement(
    db,
    `INSERT INTO ledger_events
       (message_sid, account_sid, kind, keyword, twilio_number, end_user, messaging_service_sid,
        direction, body, date_sent, error_code, run_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (message_sid) DO NOTHING`,
  );
  const insertUndated = statement(
    db,
    `INSERT INTO undated_evidence
       (message_sid, account_sid, kind, keyword, twilio_number, end_user, messaging_service_sid,
        direction, body, error_code, run_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (message_sid) DO NOTHING`,
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

/**
 * Phone number → the type Twilio reports for it, for the numbers it reports as toll-free
 * (toll-free changes what YES means). Any other number's area code decides (`isTollFree`),
 * whatever its type, so a plan of 100,000 local numbers reads none of them back.
 */
export function tollFreeTypes(db: Db): Map<string, string> {
  const rows = db
    .prepare(`SELECT phone_number, number_type FROM numbers WHERE number_type LIKE '%toll%free%'`)
    .raw()
    .all() as [string, string][];
  return new Map(rows.filter(([, type]) => reportsTollFree(type)));
}

/**
 * Twilio number → the Messaging Services its own evidence came through (a STOP it received in
 * a service, a send of it a service's opt-out refused): services the number was in, whatever
 * it is in now or was when a snapshot listed it.
 */
export function servicesSeenByNumber(db: Db): Map<string, string[]> {
  return new Map(
    [...serviceEvidenceByNumber(db)].map(([number, seen]) => [
      number,
      [...new Set(seen.map((s) => s.service))],
    ]),
  );
}

/**
 * Each Messaging Service a number's own evidence came through (`servicesSeenByNumber`), with
 * the account it is in and the date of the first such evidence: a number's list as of a moment
 * carries the services it had been seen in by then.
 */
export function serviceEvidenceByNumber(
  db: Db,
): Map<string, { accountSid: string; service: string; firstSeen: string }[]> {
  const rows = statement(
    db,
    `SELECT twilio_number AS number, account_sid AS accountSid, messaging_service_sid AS service,
            MIN(date_sent) AS firstSeen
     FROM ledger_events WHERE messaging_service_sid IS NOT NULL
     GROUP BY twilio_number, account_sid, messaging_service_sid
     ORDER BY twilio_number, messaging_service_sid`,
  ).all() as { number: string; accountSid: string; service: string; firstSeen: string }[];
  const seen = new Map<string, { accountSid: string; service: string; firstSeen: string }[]>();
  for (const { number, ...service } of rows) {
    const list = seen.get(number);
    if (list === undefined) seen.set(number, [service]);
    else list.push(service);
  }
  return seen;
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
 * The state of each (scope, end user) pair is its latest observation by date_sent: an opt-out
 * keyword, an opt-in keyword, or a send Twilio refused with 21610 (its own verdict that the
 * recipient was opted out of that sender then). The scope is the Messaging Service the keyword
 * arrived through (or the refused send went through), else the Twilio number. date_sent has
 * whole seconds, so Twilio's own order within a second is unknowable: on a tie the opt-out side
 * wins (the safe reading).
 *
 * So a pair is opted out exactly when it has an opt-out or a refusal at or after its last
 * opt-in, or no opt-in at all. Its evidence is the latest such STOP; failing one (the STOP lies
 * outside what was read, say), the first such refusal: the pair was opted out no later than
 * then. Within one second, the larger SID for a STOP and the smaller for a refusal, so the
 * answer is deterministic.
 *
 * One sort of the evidence, newest first and the opt-out side before an opt-in of its second:
 * the rows before the pair's first opt-in in that order are those at or after its last opt-in.
 * Among them the STOP is the first opt-out, and a refusal-only pair's evidence is the last row
 * (the next is an opt-in, or none). No subquery per row: a ledger holds hundreds of thousands
 * of events.
 */
const PAIR = 'account_sid, COALESCE(messaging_service_sid, twilio_number), end_user';

export function currentOptOuts(db: Db): OptOutRow[] {
  return db.prepare(optOutsQuery(false)).all() as OptOutRow[];
}

/** A scope of one account as it stood at a moment: its pairs then, by `optOutsAsOf`. */
export interface ScopeAsOf {
  accountSid: string;
  /** A Twilio number (number scope) or a Messaging Service SID (service scope). */
  scope: string;
  /** ISO 8601 UTC: evidence dated later is left out. */
  asOf: string;
}

/**
 * The opted-out pairs of each scope as they stood at its moment (evidence dated up to it), by
 * the same rule as `currentOptOuts`; each row says which of `scopes` it answers.
 */
export function optOutsAsOf(
  db: Db,
  scopes: readonly ScopeAsOf[],
): (OptOutRow & { scopeIndex: number })[] {
  if (scopes.length === 0) return [];
  return db.prepare(optOutsQuery(true)).all(JSON.stringify(scopes)) as (OptOutRow & {
    scopeIndex: number;
  })[];
}

/** The query of the opt-out rule: over the whole ledger, or per scope up to its moment. */
function optOutsQuery(asOf: boolean): string {
  const source = asOf
    ? `ledger_events e JOIN json_each(?) s
         ON e.account_sid = s.value ->> '$.accountSid'
        AND COALESCE(e.messaging_service_sid, e.twilio_number) = s.value ->> '$.scope'
        AND e.date_sent <= s.value ->> '$.asOf'`
    : 'ledger_events e';
  return `WITH ordered AS (
         SELECT e.*, ${asOf ? 's.key' : 'NULL'} AS scope_index,
                SUM(kind = 'opt-in') OVER newest_first AS opt_ins_since,
                SUM(kind = 'opt-out') OVER newest_first AS opt_outs_since,
                LEAD(kind) OVER newest_first AS older_kind
         FROM ${source}
         WHERE kind IN ('opt-out', 'opt-in', 'refused')
         WINDOW newest_first AS (
           PARTITION BY ${asOf ? 's.key, ' : ''}${PAIR}
           ORDER BY date_sent DESC, kind = 'opt-in', message_sid DESC
           ROWS UNBOUNDED PRECEDING)
       )
       SELECT account_sid AS accountSid,
              CASE WHEN messaging_service_sid IS NULL THEN 'number' ELSE 'service' END AS scope,
              twilio_number AS senderNumber,
              messaging_service_sid AS messagingServiceSid,
              end_user AS recipient,
              CASE kind WHEN 'opt-out' THEN 'keyword' ELSE 'refusal' END AS evidence,
              CASE kind WHEN 'opt-out' THEN keyword END AS keyword,
              CASE kind WHEN 'opt-out' THEN body END AS body,
              date_sent AS optedOutAt,
              CASE kind WHEN 'opt-out' THEN message_sid END AS stopMessageSid,
              message_sid AS evidenceMessageSid${asOf ? ', scope_index AS scopeIndex' : ''}
       FROM ordered
       WHERE opt_ins_since = 0
         AND ((kind = 'opt-out' AND opt_outs_since = 1)
           OR (kind = 'refused' AND opt_outs_since = 0
               AND (older_kind IS NULL OR older_kind = 'opt-in')))
       ORDER BY ${asOf ? 'scope_index, ' : ''}account_sid, COALESCE(messaging_service_sid, twilio_number), end_user`;
}

/**
 * Pairs whose latest second holds both an opt-in and an opt-out or refusal: the ties resolved
 * as opted out, which every coverage statement counts.
 */
export function countTiesResolvedAsOptOut(db: Db): number {
  const row = db
    .prepare(
      `SELECT COUNT(*) AS n FROM (
         SELECT 1 FROM ledger_events
         WHERE kind IN ('opt-out', 'opt-in', 'refused')
         GROUP BY ${PAIR}
         HAVING MAX(CASE kind WHEN 'opt-in' THEN date_sent END)
              = MAX(CASE kind WHEN 'opt-in' THEN NULL ELSE date_sent END))`,
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
