/**
 * The opt-out ledger's queries: evidence rows (one per keyword message or refused send,
 * keyed by message SID so that reading a message twice changes nothing), the numbers and
 * service memberships last seen, and the current opt-out state derived from the evidence.
 */

import { CLOCK_SKEW_MS, isoSeconds } from '../clock.js';
import { isPhoneNumber } from '../optouts/channels.js';
import { reportsTollFree } from '../optouts/keywords.js';
import type { Db } from './open.js';
import { statement } from './statements.js';

export type EventKind = 'opt-out' | 'opt-in' | 'help' | 'refused';

export interface LedgerEvent {
  messageSid: string;
  accountSid: string;
  kind: EventKind;
  keyword: string | null;
  /** The E.164 number, for a channel address too (`rcs:+1…`); an agent or sender ID as written. */
  twilioNumber: string;
  /** The E.164 number, for a channel address too; any other address as written. */
  endUser: string;
  /** The channel prefix the message's addresses had (`rcs`, `whatsapp`); null for none. */
  channel: string | null;
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
  /** The channel that message came over (`rcs`, `whatsapp`); null for SMS, MMS or unknown. */
  channel: string | null;
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
        direction, body, date_sent, error_code, run_id, channel)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (message_sid) DO NOTHING`,
  );
  const insertUndated = statement(
    db,
    `INSERT INTO undated_evidence
       (message_sid, account_sid, kind, keyword, twilio_number, end_user, messaging_service_sid,
        direction, body, error_code, run_id, channel)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
        e.channel,
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
      e.channel,
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
  for (const n of numbers) {
    if (n.accountSid !== accountSid) {
      throw new Error(
        `internal error: number ${n.numberSid} of ${n.accountSid} given as ${accountSid}'s`,
      );
    }
  }
  replaceAccountsNumbers(db, runId, observedAt, [{ accountSid, numbers }]);
}

/** The numbers a listing saw in one account. */
export interface AccountNumbers {
  accountSid: string;
  numbers: readonly Omit<NumberRow, 'accountSid'>[];
}

/**
 * `replaceNumbers` for several accounts listed at once (a plan's refresh), in one transaction.
 * Their old rows go by one DELETE, each account's found by the index of \`numbers\` by account
 * (migration 029). Without that index, a DELETE per account read every number listed: 1,000
 * subaccounts of 100 numbers each (planning again after a move, or a snapshot of each) were
 * 1,000 reads of 100,000 rows, some 9 s of CPU. An account given twice: its last list.
 */
export function replaceAccountsNumbers(
  db: Db,
  runId: number,
  observedAt: string,
  lists: readonly AccountNumbers[],
): void {
  const byAccount = new Map(lists.map((list) => [list.accountSid, list.numbers]));
  if (byAccount.size === 0) return;
  const accounts = JSON.stringify([...byAccount.keys()]);
  const given = 'account_sid IN (SELECT value FROM json_each(?))';
  // A row of the same number SID (listed in another account before) goes first, then the new
  // row goes in, as INSERT OR REPLACE would do it. Not INSERT OR REPLACE itself: with the index
  // by account (migration 029) SQLite keeps a statement journal for each row it writes, and past
  // ~20,000 rows in one listing spills it to a temporary file, writing each row's pages there
  // again (100,000 numbers in one listing: some 0.4 s more CPU, twice the system time).
  const remove = statement(db, 'DELETE FROM numbers WHERE number_sid = ?');
  const insert = statement(
    db,
    `INSERT INTO numbers
       (account_sid, number_sid, phone_number, number_type, messaging_service_sid, service_name,
        observed_at, run_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // What the rows just written of one account say, kept for good, each table filled from them
  // by one statement rather than one per number (100,000 upserts were a fifth of a plan's
  // writes). The account's rows are all this call's (the DELETE took the others), each at or
  // above the lowest rowid written for it: only those are read (by the index of the account's
  // rows, from that rowid on), not every account's numbers.
  // Per account, right after its rows are written: a later account's row of the same number
  // SID (listed in both as it moved) replaces it, and read once at the end it was never kept.
  const written = `FROM numbers WHERE rowid >= ? AND account_sid = ?`;
  // The services are kept for good: the rows above go at the next listing of the account.
  // With the first and last listing that saw the number in each; one that comes back after a
  // listing showed it out (`left_seen`) is no longer out since then.
  // (`AND true`: SQLite's parser needs a WHERE before an upsert's ON CONFLICT in INSERT … SELECT.)
  const members = statement(
    db,
    `INSERT INTO number_services_seen
       (phone_number, account_sid, messaging_service_sid, first_seen, last_seen)
     SELECT phone_number, account_sid, messaging_service_sid, observed_at, observed_at
     ${written} AND messaging_service_sid IS NOT NULL AND true
     ON CONFLICT (phone_number, account_sid, messaging_service_sid) DO UPDATE SET
       first_seen = MIN(first_seen, excluded.first_seen),
       last_seen = MAX(last_seen, excluded.last_seen),
       left_seen = CASE WHEN left_seen <= excluded.last_seen THEN NULL ELSE left_seen END`,
  );
  // So are the accounts, with when each was first and last seen holding the number: a number
  // the next listing finds in another account (moved by hand) left this one after then.
  const stays = statement(
    db,
    `INSERT INTO number_accounts_seen
       (number_sid, account_sid, phone_number, messaging_service_sid, first_seen, last_seen)
     SELECT number_sid, account_sid, phone_number, messaging_service_sid, observed_at,
            observed_at
     ${written} AND true
     ON CONFLICT (number_sid, account_sid) DO UPDATE SET
       phone_number = excluded.phone_number,
       messaging_service_sid = CASE WHEN excluded.last_seen >= last_seen
                                    THEN excluded.messaging_service_sid
                                    ELSE messaging_service_sid END,
       first_seen = MIN(first_seen, excluded.first_seen),
       last_seen = MAX(last_seen, excluded.last_seen)`,
  );
  // A service this listing shows a number out of (`number_services_seen`, migration 028): it
  // stayed there until the last listing that saw it there, at least the first time it left
  // (`stayed_until`, kept when it comes back), and had left by this listing (`left_seen`, the
  // first since it was last seen there). A listing older than that last one (out of order)
  // shows only that it left some time before: the first listing stands for the end of its
  // first stay. Rows this listing already counts as left are not touched.
  const left = `UPDATE number_services_seen SET
      stayed_until = CASE WHEN stayed_until < :at THEN stayed_until
                          WHEN last_seen <= :at THEN last_seen ELSE first_seen END,
      left_seen = CASE WHEN last_seen > :at THEN left_seen
                       WHEN left_seen > last_seen AND left_seen < :at THEN left_seen
                       ELSE :at END`;
  // A listing dated to the same second as one that saw it there (listings are dated to the
  // second: another run's in that second, or this run's as the number moved while it listed
  // the accounts) may have come after it: it left then, which holds more (an opt-in through the
  // service after that second is not taken for its own). Waiting for the next listing to tell
  // lost the leaving when that one saw it back in the service.
  const notYetLeft = `first_seen <= :at
      AND (stayed_until IS NULL OR left_seen IS NULL OR left_seen <= last_seen
           OR left_seen > :at)`;
  // One statement each per account, over its listing's numbers as JSON (each looked up by its
  // key).
  const leftHere = statement(
    db,
    `${left} WHERE account_sid = :account AND ${notYetLeft}
       AND phone_number || ' ' || messaging_service_sid NOT IN (
         SELECT (value ->> '$[0]') || ' ' || (value ->> '$[1]') FROM json_each(:listed))`,
  );
  // In this account now, so out of every service of any other account.
  const leftElsewhere = statement(
    db,
    `${left} WHERE account_sid <> :account AND ${notYetLeft}
       AND phone_number IN (SELECT value ->> '$[0]' FROM json_each(:listed))`,
  );
  db.transaction(() => {
    // The accounts' old rows, all at once: no account's listing reads them.
    statement(db, `DELETE FROM numbers WHERE ${given}`).run(accounts);
    // Then each account as \`replaceNumbers\` alone would: the services it shows each number
    // out of, then its rows and what they say. An account's marks come after the rows an
    // earlier one of the batch wrote, as one after another: a number listed in two of them
    // (moved while they were listed) is not shown out of the first's service.
    for (const [accountSid, numbers] of byAccount) {
      const listed = JSON.stringify(
        numbers.map((n) => [n.phoneNumber, n.messagingServiceSid ?? '']),
      );
      leftHere.run({ at: observedAt, account: accountSid, listed });
      leftElsewhere.run({ at: observedAt, account: accountSid, listed });
      let lowest = Infinity;
      for (const n of numbers) {
        remove.run(n.numberSid);
        const { lastInsertRowid } = insert.run(
          accountSid,
          n.numberSid,
          n.phoneNumber,
          n.numberType,
          n.messagingServiceSid,
          n.serviceName,
          observedAt,
          runId,
        );
        lowest = Math.min(lowest, Number(lastInsertRowid));
      }
      if (lowest === Infinity) continue;
      members.run(lowest, accountSid);
      stays.run(lowest, accountSid);
    }
  })();
}

/**
 * Records Messaging Services seen in an account (listed, or a number's service): from then on
 * an opt-in through one of them lifts the service's opt-outs (`optOutsQuery`). A SID once seen
 * stays: Twilio does not give a service's SID to anything else.
 */
export function recordServices(
  db: Db,
  accountSid: string,
  observedAt: string,
  serviceSids: Iterable<string>,
): void {
  const insert = statement(
    db,
    `INSERT INTO messaging_services (account_sid, service_sid, first_seen_at) VALUES (?, ?, ?)
     ON CONFLICT (account_sid, service_sid) DO NOTHING`,
  );
  db.transaction(() => {
    for (const sid of new Set(serviceSids)) insert.run(accountSid, sid, observedAt);
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
 * a service, a send of it a service's opt-out refused), those any other message of its own a
 * snapshot read came through (`number_service_messages`), those a snapshot listed it in, and those
 * an apply put it in, in a subaccount it is no longer recorded as going to: services the number
 * was in, whatever it is in now.
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
 * carries the services it had been seen in by then. `outsideServices`: also each account the
 * number's evidence came through outside any service, `service` null (one it was in, moved out
 * of by hand or not).
 */
export function serviceEvidenceByNumber(
  db: Db,
  outsideServices?: false,
): Map<string, { accountSid: string; service: string; firstSeen: string }[]>;
export function serviceEvidenceByNumber(
  db: Db,
  outsideServices: true,
): Map<string, { accountSid: string; service: string | null; firstSeen: string }[]>;
export function serviceEvidenceByNumber(
  db: Db,
  outsideServices = false,
): Map<string, { accountSid: string; service: string | null; firstSeen: string }[]> {
  const rows = statement(
    db,
    `SELECT twilio_number AS number, account_sid AS accountSid, messaging_service_sid AS service,
            MIN(date_sent) AS firstSeen
     FROM ledger_events${outsideServices ? '' : ' WHERE messaging_service_sid IS NOT NULL'}
     GROUP BY twilio_number, account_sid, messaging_service_sid
     UNION ALL
     -- A service a snapshot saw the number in: its other numbers' STOPs covered it there, even
     -- where it has since left the service (moved out by hand) and the listing no longer shows it.
     SELECT phone_number, account_sid, messaging_service_sid, first_seen
     FROM number_services_seen
     UNION ALL
     -- A service a message of the number's came through, sent or received (migration 034): it
     -- was in it then, though no listing saw it there (moved out by hand before the first). A
     -- SID counts only once known as a service of the account (\`KNOWN_SERVICE\`): Twilio may
     -- write one default SID on every message sent without one.
     SELECT e.phone_number, e.account_sid, e.messaging_service_sid, e.first_sent
     FROM number_service_messages e WHERE ${KNOWN_SERVICE}
     UNION ALL
     -- A service an apply put the number in, in the subaccount of a customer it is no longer
     -- recorded as going to: moved out of it by hand (no departure of apply's names it), or
     -- planned on. It took that service's STOPs while there, which Twilio forgot as it left.
     SELECT n.phone_number, was.subaccount_sid, s.result_json ->> '$.service_sid',
            MIN(COALESCE(s.finished_at, s.started_at))
     FROM apply_steps s
     JOIN customer_numbers n ON s.step_id = 'attach_number:' || n.number_sid
     JOIN customer_subaccounts was ON was.customer_id = s.customer_id
     LEFT JOIN customer_subaccounts now ON now.customer_id = n.customer_id
     WHERE s.action = 'attach_number' AND s.state IN ('done', 'skipped')
       AND s.result_json ->> '$.service_sid' IS NOT NULL
       AND now.subaccount_sid IS NOT was.subaccount_sid
     GROUP BY n.phone_number, was.subaccount_sid, s.result_json ->> '$.service_sid'
     ORDER BY number, service`,
  ).all() as { number: string; accountSid: string; service: string | null; firstSeen: string }[];
  const seen = new Map<
    string,
    { accountSid: string; service: string | null; firstSeen: string }[]
  >();
  for (const { number, ...service } of rows) {
    const list = seen.get(number);
    if (list === undefined) seen.set(number, [service]);
    else list.push(service);
  }
  return seen;
}

/**
 * Each Messaging Service a number has left, by number and service, with the time before which
 * an opt-in through the service may have lifted the opt-outs it carried out of it: a START said
 * to a service after the number left it is not the number's (docs/opt-out-rules.md). When it
 * left is known only between the last listing that showed it in the service and the first that
 * did not, so the earlier end is taken (the safe reading): an opt-in dated from then on counts
 * as after it left. The services a listing saw it in are kept (`number_services_seen`) with the
 * last listing that did, and, once a listing showed it out, the last one before that
 * (`stayed_until`: a number that left and came back is taken as gone from the end of its first
 * stay, since an opt-in while it was away was not its own). Left: the latest listing of the
 * account no longer shows the number in the service, or a move of apply's (`left`: each
 * finished transfer out of an account) came after that listing.
 */
export function servicesLeftByNumber(
  db: Db,
  left: readonly { phoneNumber: string; accountSid: string; leftAt: string }[],
): Map<string, Map<string, string>> {
  const rows = statement(
    db,
    `SELECT phone_number AS number, account_sid AS accountSid,
            messaging_service_sid AS service, COALESCE(stayed_until, last_seen) AS lastIn
     FROM number_services_seen`,
  ).all() as { number: string; accountSid: string; service: string; lastIn: string }[];
  // When each account's latest listing showed the number in the service, looked up here: as a
  // join, SQLite had no index of `numbers` by phone number to use, and built one over every
  // number listed (100,000) at each plan, to find the few in a service.
  const listings = statement(
    db,
    `SELECT account_sid, phone_number, messaging_service_sid, observed_at FROM numbers
     WHERE messaging_service_sid IS NOT NULL`,
  )
    .raw()
    .all() as [string, string, string, string][];
  const listedIn = new Map<string, string>();
  for (const [account, phone, service, at] of listings) {
    listedIn.set(`${account}|${phone}|${service}`, at);
  }
  const lastLeft = new Map<string, string>();
  for (const d of left) {
    const key = `${d.phoneNumber}|${d.accountSid}`;
    const before = lastLeft.get(key);
    if (before === undefined || d.leftAt > before) lastLeft.set(key, d.leftAt);
  }
  const byNumber = new Map<string, Map<string, string>>();
  const bound = (number: string, service: string, before: string) => {
    let services = byNumber.get(number);
    if (services === undefined) byNumber.set(number, (services = new Map()));
    const known = services.get(service);
    if (known === undefined || before < known) services.set(service, before);
  };
  // A service only the number's own messages show it in (migration 034; no listing saw it
  // there): it left after the last of them, when no one knows. An opt-in through it dated from
  // then on may have come after it left (Twilio's clock, as the message's: no allowance).
  for (const { number, service, lastIn } of servicesOnlyMessagedIn(db))
    bound(number, service, lastIn);
  for (const { number, accountSid, service, lastIn } of rows) {
    const listedAt = listedIn.get(`${accountSid}|${number}|${service}`) ?? null;
    const movedAt = lastLeft.get(`${number}|${accountSid}`);
    const stillIn = listedAt !== null && (movedAt === undefined || movedAt < listedAt);
    if (stillIn) continue;
    // Twilio's clock may run behind this machine's: an opt-in said after the listing may carry
    // an earlier date.
    bound(number, service, isoSecondsOf(Date.parse(lastIn) - CLOCK_SKEW_MS, lastIn));
  }
  return byNumber;
}

/**
 * Each number, account and known service its own messages came through (sent or received,
 * `number_service_messages`) where no listing ever saw it (`number_services_seen`), with the
 * last such message: that one, or a later keyword or refused send of its own through the
 * service in the ledger. Few: a number a listing never saw in a service it sent through was
 * moved out of it by hand before any listing.
 */
function servicesOnlyMessagedIn(
  db: Db,
): { number: string; accountSid: string; service: string; lastIn: string }[] {
  const rows = statement(
    db,
    `SELECT e.phone_number AS number, e.account_sid AS accountSid,
            e.messaging_service_sid AS service, e.last_sent AS lastIn
     FROM number_service_messages e
     WHERE ${KNOWN_SERVICE}
       AND NOT EXISTS (SELECT 1 FROM number_services_seen s
                       WHERE s.phone_number = e.phone_number AND s.account_sid = e.account_sid
                         AND s.messaging_service_sid = e.messaging_service_sid)`,
  ).all() as { number: string; accountSid: string; service: string; lastIn: string }[];
  if (rows.length === 0) return rows;
  const own = statement(
    db,
    `SELECT twilio_number AS number, account_sid AS accountSid,
            messaging_service_sid AS service, MAX(date_sent) AS lastIn
     FROM ledger_events
     WHERE twilio_number IN (SELECT value FROM json_each(?)) AND messaging_service_sid IS NOT NULL
     GROUP BY twilio_number, account_sid, messaging_service_sid`,
  ).all(JSON.stringify([...new Set(rows.map((r) => r.number))])) as typeof rows;
  const later = new Map(own.map((r) => [`${r.number} ${r.accountSid} ${r.service}`, r.lastIn]));
  for (const row of rows) {
    const evidence = later.get(`${row.number} ${row.accountSid} ${row.service}`);
    if (evidence !== undefined && evidence > row.lastIn) row.lastIn = evidence;
  }
  return rows;
}

/** `ms` as ISO 8601 UTC whole seconds; `fallback` when it is no time. */
function isoSecondsOf(ms: number, fallback: string): string {
  return Number.isNaN(ms) ? fallback : isoSeconds(new Date(ms));
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

/** An account a listing saw a number in, with the service it was in there the last time. */
export interface NumberListed {
  accountSid: string;
  messagingServiceSid: string | null;
  /** The first and the last listing that saw it there (ISO 8601 UTC, this machine's clock). */
  firstSeen: string;
  lastSeen: string;
}

/**
 * Number SID → every account any snapshot or plan's refresh listed it in (migration 027), the
 * latest listing first: what `numbers` no longer shows once a later listing saw the number
 * elsewhere (moved by hand between two snapshots).
 */
export function accountsListedByNumber(db: Db): Map<string, NumberListed[]> {
  const rows = db
    .prepare(
      `SELECT number_sid AS numberSid, account_sid AS accountSid,
              messaging_service_sid AS messagingServiceSid, first_seen AS firstSeen,
              last_seen AS lastSeen
       FROM number_accounts_seen ORDER BY number_sid, last_seen DESC, account_sid`,
    )
    .all() as (NumberListed & { numberSid: string })[];
  const listed = new Map<string, NumberListed[]>();
  for (const { numberSid, ...row } of rows) {
    const accounts = listed.get(numberSid);
    if (accounts === undefined) listed.set(numberSid, [row]);
    else accounts.push(row);
  }
  return listed;
}

/**
 * SQL: the Messaging Service SID of `ledger_events e` is one a snapshot or plan saw as a
 * service of its account (`recordServices`), or an apply created there (the journal records
 * it). Reconcile's opt-ins use it too.
 */
export const KNOWN_SERVICE = `EXISTS (SELECT 1 FROM messaging_services k
  WHERE k.account_sid = e.account_sid AND k.service_sid = e.messaging_service_sid)`;

/**
 * The partition an event of `ledger_events e` is judged in: its Messaging Service, else its
 * Twilio number. Except a SID no snapshot or plan saw as a service of the account: Twilio
 * writes a default value where no service was used ("A unique default value is assigned if a
 * Messaging Service is not used"), which may be one SID for every number in no service, and
 * then a START to one of them must not lift a STOP to another. Such evidence is judged per
 * (SID, Twilio number): an opt-in lifts only what the same number received or sent under that
 * SID, which is lifted under either reading (a real service's START lifts the whole service;
 * a default value's, its number). Its opt-outs and refusals still count for the whole SID (a
 * real service's STOP covers every number in it): `optOutsQuery` lists the pair once.
 */
const SCOPE = `CASE WHEN e.messaging_service_sid IS NOT NULL AND NOT ${KNOWN_SERVICE}
    THEN e.messaging_service_sid || ' ' || e.twilio_number
  ELSE COALESCE(e.messaging_service_sid, e.twilio_number) END`;

const PAIR = 'account_sid, scope_key, end_user';

/**
 * The state of each (scope, end user) pair is its latest observation by date_sent: an opt-out
 * keyword, an opt-in keyword, or a send Twilio refused with 21610 (its own verdict that the
 * recipient was opted out of that sender then). The scope is the Messaging Service the keyword
 * arrived through (or the refused send went through), else the Twilio number; a SID not seen
 * as a service of the account lifts only per number (`SCOPE`). date_sent has
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
 * (the next is an opt-in, or none). No subquery per row but `KNOWN_SERVICE`'s lookup by primary
 * key: a ledger holds hundreds of thousands of events.
 */
export function currentOptOuts(db: Db): OptOutRow[] {
  return db.prepare(optOutsQuery(false)).all() as OptOutRow[];
}

/**
 * Which customers a currently opted-out pair binds (`eachListedOptOut`): a number-scope pair,
 * those claiming its number (`number`); a service-scope pair, those claiming its service
 * (`service`) and the customer whose subaccount it is in (`account`). Each `[kind, key,
 * customer_id]`. A service claimed for a number that has left it (`servicesLeftByNumber`)
 * carries a fourth value, the time from which an opt-in through the service no longer lifts
 * the customer's pair: the pairs opted out as the service stood before then stay on its list
 * though a START through the service lifted them since.
 */
export type ListClaim =
  ['number' | 'service' | 'account', string, string] | ['service', string, string, string];

/**
 * `currentOptOuts` once per customer each pair binds (`claims`), or once with no customer
 * (`customerId` null) when none does, a row at a time in the suppression list's order
 * (docs/file-formats.md): by customer, the rows with none last, then recipient, then evidence
 * (text in SQLite's order, which `compareText` follows). SQLite sorts them, spilling to its
 * temporary files: the caller need not hold a list of millions of rows to put it in order.
 * With `customerId`, only that customer's rows. The connection runs no other statement until
 * the rows are all read.
 */
export function eachListedOptOut(
  db: Db,
  claims: readonly ListClaim[],
  customerId?: string,
): IterableIterator<OptOutRow & { customerId: string | null }> {
  return db
    .prepare(listedOptOutsQuery(customerId !== undefined))
    .iterate(
      JSON.stringify(claims),
      ...(customerId === undefined ? [] : [customerId]),
    ) as IterableIterator<OptOutRow & { customerId: string | null }>;
}

/** A row of `eachListedOptOut`, column by column. */
const LISTED_COLUMNS = `accountSid, scope, senderNumber, messagingServiceSid, recipient, evidence,
  keyword, body, optedOutAt, stopMessageSid, evidenceMessageSid, channel, customerId`;

/** The temporary table each connection keeps its list in (`keepListedOptOuts`), by name. */
const keptLists = new WeakMap<Db, string>();
let keptListCount = 0;

/** A row of a list kept by `keepListedOptOuts`, with its place in the list (1, 2, …). */
export type KeptOptOut = OptOutRow & { customerId: string | null; position: number };

/**
 * `eachListedOptOut`'s rows, worked out and sorted once into a temporary table of the
 * connection (on disk: SQLite's temporary files), to be read again in the list's order as often
 * as needed: whole, or the places `first` to `last` (a customer's rows are one run of them).
 * The list a connection kept before is dropped: its readers must be done.
 */
export function keepListedOptOuts(
  db: Db,
  claims: readonly ListClaim[],
): (first?: number, last?: number) => IterableIterator<KeptOptOut> {
  const previous = keptLists.get(db);
  if (previous !== undefined) db.exec(`DROP TABLE IF EXISTS temp.${previous}`);
  const name = `listed_optouts_${++keptListCount}`;
  keptLists.set(db, name);
  // Rows are numbered as inserted, in the statement's order: `position` (the rowid) is the place.
  db.exec(`CREATE TEMP TABLE ${name} (position INTEGER PRIMARY KEY, ${LISTED_COLUMNS})`);
  db.prepare(`INSERT INTO temp.${name} (${LISTED_COLUMNS}) ${listedOptOutsQuery(false)}`).run(
    JSON.stringify(claims),
  );
  const read = db.prepare(
    `SELECT * FROM temp.${name} WHERE position BETWEEN ? AND ? ORDER BY position`,
  );
  return (first = 1, last = Number.MAX_SAFE_INTEGER) =>
    read.iterate(first, last) as IterableIterator<KeptOptOut>;
}

/**
 * `eachListedOptOut`'s statement. The claims are read out of their JSON once, into a table
 * SQLite indexes for the joins (as `optOutsQuery`'s scopes are); the pairs are worked out once
 * (MATERIALIZED), then joined to each kind of claim. A customer claiming a service-scope pair
 * both by its service and by its subaccount gets it once.
 */
function listedOptOutsQuery(oneCustomer: boolean): string {
  const claimed = (kind: string, key: string, scope: string) =>
    `c.kind = '${kind}' AND c.key = o.${key} AND o.scope = '${scope}'`;
  const byService = claimed('service', 'messagingServiceSid', 'service');
  const byAccount = claimed('account', 'accountSid', 'service');
  const byNumber = claimed('number', 'senderNumber', 'number');
  const none = [byService, byAccount, byNumber]
    .map((on) => `NOT EXISTS (SELECT 1 FROM claims c WHERE ${on})`)
    .join(' AND ');
  return `WITH given AS MATERIALIZED (
         SELECT value ->> '$[0]' AS kind, value ->> '$[1]' AS key, value ->> '$[2]' AS customer,
                value ->> '$[3]' AS opt_ins_before
         FROM json_each(?)
       ),
       claims AS MATERIALIZED (SELECT DISTINCT kind, key, customer FROM given),
       pairs AS MATERIALIZED (${optOutsQuery(false, false)}),
       ${LIFTED_AFTER_LEAVING},
       listed AS (
         SELECT o.*, c.customer AS customerId FROM pairs o JOIN claims c ON ${byService}
         UNION ALL
         SELECT o.*, c.customer FROM pairs o JOIN claims c ON ${byAccount}
          AND NOT EXISTS (SELECT 1 FROM claims s
                          WHERE s.kind = 'service' AND s.key = o.messagingServiceSid
                            AND s.customer = c.customer)
         UNION ALL
         SELECT o.*, c.customer FROM pairs o JOIN claims c ON ${byNumber}
         UNION ALL
         SELECT o.*, NULL FROM pairs o WHERE ${none}
         UNION ALL
         SELECT ${OPT_OUT_COLUMNS}, customer FROM lifted
       )
       SELECT ${LISTED_COLUMNS} FROM listed
       ${oneCustomer ? 'WHERE customerId = ?' : ''}
       ORDER BY customerId IS NULL, customerId, COALESCE(recipient, ''),
                COALESCE(evidenceMessageSid, '')`;
}

/** The columns of an `OptOutRow`, in `optOutsQuery`'s order. */
const OPT_OUT_COLUMNS = `accountSid, scope, senderNumber, messagingServiceSid, recipient, evidence,
  keyword, body, optedOutAt, stopMessageSid, evidenceMessageSid, channel`;

/**
 * SQL, the CTEs `left_claims` … `lifted` after `given`: the service-scope pairs
 * a customer keeps on its list because a number of it left the service before an opt-in
 * through the service lifted them (a `service` claim's fourth value: opt-ins dated from then
 * on do not count). A customer's pair is on its list if it is on a number's, and a pair opted
 * out with fewer opt-ins counted stays so, so each customer's earliest such time per service
 * decides. Only a pair with an opt-in from then on can differ from its state now (`pairs`),
 * so only those are judged again, by the rule of `optOutsQuery` without the later opt-ins:
 * opted out when an opt-out or refusal is dated at or after its last opt-in before then (or it
 * has none), its evidence the latest such STOP, else the first such refusal. Those opted out
 * now are listed as they stand (`optOutsQuery`), and left out here: the pairs opted out now
 * are not looked up. The service is one a listing saw the number in, so known in the
 * account (`KNOWN_SERVICE`): its opt-ins lift the whole service.
 */
const LIFTED_AFTER_LEAVING = `left_claims AS MATERIALIZED (
         SELECT key AS service, customer, MIN(opt_ins_before) AS opt_ins_before
         FROM given WHERE kind = 'service' AND opt_ins_before IS NOT NULL
         GROUP BY key, customer
       ),
       left_scopes AS MATERIALIZED (SELECT DISTINCT service, opt_ins_before FROM left_claims),
       candidates AS MATERIALIZED (
         SELECT DISTINCT l.service, l.opt_ins_before, e.account_sid, e.end_user
         FROM left_scopes l JOIN ledger_events e ON e.messaging_service_sid = l.service
         WHERE e.kind = 'opt-in' AND e.date_sent >= l.opt_ins_before AND ${KNOWN_SERVICE}
       ),
       candidate_events AS MATERIALIZED (
         SELECT c.service, c.opt_ins_before, e.*
         FROM candidates c JOIN ledger_events e
           ON e.account_sid = c.account_sid AND e.messaging_service_sid = c.service
          AND e.end_user = c.end_user
         WHERE e.kind IN ('opt-out', 'refused', 'opt-in')
       ),
       last_in AS MATERIALIZED (
         SELECT service, opt_ins_before, account_sid, end_user,
                MAX(CASE WHEN kind = 'opt-in' AND date_sent < opt_ins_before THEN date_sent END)
                  AS last_in
         FROM candidate_events GROUP BY service, opt_ins_before, account_sid, end_user
         -- Opted out now (an opt-out or refusal at or after its last opt-in, a tie the opt-out's):
         -- listed already as it stands.
         HAVING MAX(CASE kind WHEN 'opt-in' THEN date_sent END)
              > COALESCE(MAX(CASE kind WHEN 'opt-in' THEN NULL ELSE date_sent END), '')
       ),
       held AS (
         SELECT e.*, ROW_NUMBER() OVER (
                  PARTITION BY e.service, e.opt_ins_before, e.account_sid, e.end_user
                  ORDER BY e.kind = 'opt-out' DESC,
                           CASE e.kind WHEN 'opt-out' THEN e.date_sent END DESC,
                           CASE e.kind WHEN 'opt-out' THEN e.message_sid END DESC,
                           e.date_sent, e.message_sid) AS rank
         FROM candidate_events e
         JOIN last_in i
           ON i.service = e.service AND i.opt_ins_before = e.opt_ins_before
          AND i.account_sid = e.account_sid AND i.end_user = e.end_user
         WHERE e.kind <> 'opt-in' AND (i.last_in IS NULL OR e.date_sent >= i.last_in)
       ),
       lifted AS (
         SELECT h.account_sid AS accountSid, 'service' AS scope, h.twilio_number AS senderNumber,
                h.messaging_service_sid AS messagingServiceSid, h.end_user AS recipient,
                CASE h.kind WHEN 'opt-out' THEN 'keyword' ELSE 'refusal' END AS evidence,
                CASE h.kind WHEN 'opt-out' THEN h.keyword END AS keyword,
                CASE h.kind WHEN 'opt-out' THEN h.body END AS body,
                h.date_sent AS optedOutAt,
                CASE h.kind WHEN 'opt-out' THEN h.message_sid END AS stopMessageSid,
                h.message_sid AS evidenceMessageSid, h.channel, l.customer
         FROM held h
         JOIN left_claims l ON l.service = h.service AND l.opt_ins_before = h.opt_ins_before
         WHERE h.rank = 1
       )`;

/**
 * The pairs a number keeps on its list of a Messaging Service it has left though an opt-in
 * through the service lifted them since (`servicesLeftByNumber`: opt-ins dated from
 * `optInsBefore` on do not count), as a number-scope pair of the number, with only what a
 * list's lookup needs (`eachOptOutDate`): the same rule as `eachListedOptOut`'s. A pair opted
 * out now is not among them (`eachOptOutDate` gives it). The connection runs no other statement until the rows are
 * all read.
 */
export function eachOptOutKeptAfterLeaving(
  db: Db,
  left: readonly { phoneNumber: string; service: string; optInsBefore: string }[],
): IterableIterator<OptOutDate> {
  if (left.length === 0) return [][Symbol.iterator]();
  return db
    .prepare(
      `WITH given AS MATERIALIZED (
         SELECT 'service' AS kind, value ->> '$[0]' AS key, value ->> '$[1]' AS customer,
                value ->> '$[2]' AS opt_ins_before
         FROM json_each(?)
       ),
       ${LIFTED_AFTER_LEAVING}
       SELECT 'number' AS scope, customer AS senderNumber, NULL AS messagingServiceSid,
              recipient, optedOutAt
       FROM lifted`,
    )
    .iterate(
      JSON.stringify(left.map((l) => [l.service, l.phoneNumber, l.optInsBefore])),
    ) as IterableIterator<OptOutDate>;
}

/** How many pairs `currentOptOuts` lists, counted by SQLite rather than read into memory. */
export function countCurrentOptOuts(db: Db): number {
  const row = db.prepare(`SELECT COUNT(*) AS n FROM (${optOutsQuery(false)})`).get() as {
    n: number;
  };
  return row.n;
}

/** What a suppression list's lookup needs of a `currentOptOuts` pair (`carryIndex`). */
export type OptOutDate = Pick<
  OptOutRow,
  'scope' | 'senderNumber' | 'messagingServiceSid' | 'recipient' | 'optedOutAt'
>;

/**
 * `currentOptOuts`' pairs a row at a time with only those five values: a caller that keeps
 * some of them (plan's and apply's index of the lists) does not get twelve strings a pair.
 * The connection runs no other statement until the rows are all read.
 */
export function eachOptOutDate(db: Db): IterableIterator<OptOutDate> {
  return db
    .prepare(
      `SELECT scope, senderNumber, messagingServiceSid, recipient, optedOutAt
       FROM (${optOutsQuery(false)})`,
    )
    .iterate() as IterableIterator<OptOutDate>;
}

/** A scope of one account as it stood at a moment: its pairs then, by `optOutsAsOf`. */
export interface ScopeAsOf {
  accountSid: string;
  /** A Twilio number (number scope) or a Messaging Service SID (service scope). */
  scope: string;
  /** ISO 8601 UTC: evidence dated later is left out. */
  asOf: string;
  /**
   * The number whose list this is, and (ISO 8601 UTC) up to when evidence said to or sent from
   * that number itself counts instead of `asOf`: a later date, when `asOf` is the moment it left
   * the account by this machine's clock and Twilio's dates may run ahead of it (nothing can be
   * said to the number in an account it has left, so such evidence came before).
   */
  own?: { number: string; asOf: string };
  /**
   * (ISO 8601 UTC) A Messaging Service the number left before `asOf` as far as anyone can
   * tell (`servicesLeftByNumber`): an opt-in through it dated from then on is not counted, as
   * the export does not count it. Its opt-outs up to `asOf` still count.
   */
  optInsBefore?: string;
}

/** What a moved number's suppression list keeps of a pair (`eachOptOutAsOf`). */
export type OptOutAsOf = Pick<OptOutRow, 'recipient' | 'stopMessageSid' | 'optedOutAt'> & {
  /** Which of the scopes it answers. */
  scopeIndex: number;
  /**
   * Since when the pair has stood: its first opt-out or refusal since its last opt-in (of any
   * number of a SID no one saw as a service). `optedOutAt` is its latest STOP: a recipient who
   * said STOP twice was opted out from the first.
   */
  standsSince: string;
  /**
   * The STOP it took before `optedOutAt` since its last opt-in (null: none): a send between the
   * two was made while the pair stood by this one (or, none, by the refusal it stood since),
   * and an opt-in in the subaccount after it lifted it for that send.
   */
  priorOptOutAt: string | null;
};

/**
 * The opted-out pairs of each scope as they stood at its moment (evidence dated up to it), by
 * the same rule as `currentOptOuts`, a row at a time with only what a list keeps of each, in
 * the order of `scopes`, then by account, scope and recipient. A service's pairs are on the
 * list of every number of it, so a caller may be handed millions of rows: it keeps each once.
 * The connection runs no other statement until the rows are all read.
 */
export function eachOptOutAsOf(db: Db, scopes: readonly ScopeAsOf[]): IterableIterator<OptOutAsOf> {
  if (scopes.length === 0) return [][Symbol.iterator]();
  return db
    .prepare(
      `SELECT scopeIndex, recipient, stopMessageSid, optedOutAt, standsSince, priorOptOutAt
       FROM (${optOutsQuery(true, false)})
       ORDER BY scopeIndex, accountSid, COALESCE(messagingServiceSid, senderNumber), recipient`,
    )
    .iterate(JSON.stringify(scopes)) as IterableIterator<OptOutAsOf>;
}

/** The query of the opt-out rule: over the whole ledger, or per scope up to its moment. */
function optOutsQuery(asOf: boolean, ordered = true): string {
  // The scopes are read out of their JSON once, into a table SQLite indexes for the join: joined
  // on json_each itself, every event scanned the whole array (3,000 numbers' scopes against
  // 60,000 events: minutes).
  const source = asOf
    ? `scoped e JOIN scopes s
         ON e.account_sid = s.scope_account
        AND COALESCE(e.messaging_service_sid, e.twilio_number) = s.scope_sid
        AND e.date_sent <= CASE WHEN e.twilio_number = s.own_number
                                THEN s.own_as_of ELSE s.as_of END
        AND (e.kind <> 'opt-in' OR s.opt_ins_before IS NULL OR e.date_sent < s.opt_ins_before)`
    : 'scoped e';
  const scopes = asOf
    ? `scopes AS MATERIALIZED (
         SELECT key, value ->> '$.accountSid' AS scope_account, value ->> '$.scope' AS scope_sid,
                value ->> '$.asOf' AS as_of, value ->> '$.own.number' AS own_number,
                value ->> '$.own.asOf' AS own_as_of, value ->> '$.optInsBefore' AS opt_ins_before
         FROM json_each(?)
       ),
       `
    : '';
  return `WITH ${scopes}scoped AS (
         SELECT e.*, ${SCOPE} AS scope_key
         FROM ledger_events e
         WHERE e.kind IN ('opt-out', 'opt-in', 'refused')
       ),
       ordered AS (
         SELECT e.*, ${asOf ? 's.key' : 'NULL'} AS scope_index,
                SUM(kind = 'opt-in') OVER newest_first AS opt_ins_since,
                SUM(kind = 'opt-out') OVER newest_first AS opt_outs_since,
                LEAD(kind) OVER newest_first AS older_kind${
                  asOf
                    ? `,
                -- The earliest opt-out or refusal from the newest row to this one: at the
                -- oldest row since the last opt-in, since when the pair has stood.
                MIN(CASE WHEN kind <> 'opt-in' THEN date_sent END) OVER newest_first
                  AS stands_since`
                    : ''
                }
         FROM ${source}
         WINDOW newest_first AS (
           PARTITION BY ${asOf ? 's.key, ' : ''}${PAIR}
           ORDER BY date_sent DESC, kind = 'opt-in', message_sid DESC
           ROWS UNBOUNDED PRECEDING)
       )
       , listed AS (
         SELECT account_sid, scope_index, twilio_number, messaging_service_sid, end_user, kind,
                keyword, body, date_sent, message_sid, channel,${
                  asOf
                    ? `
                MIN(CASE WHEN older_kind IS NULL OR older_kind = 'opt-in' THEN stands_since END)
                  OVER (by_scope_sid ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                  AS stands_since,
                -- The STOP ranked next to the one chosen: the one before it.
                LEAD(CASE kind WHEN 'opt-out' THEN date_sent END) OVER by_scope_sid
                  AS prior_opt_out_at,`
                    : ''
                }
                -- The pairs of one SID no one saw as a service, each number's apart, are one
                -- service-scope pair: opted out while any is, its evidence the latest STOP, else
                -- the first refusal.
                ROW_NUMBER() OVER by_scope_sid AS rank
         FROM ordered
         WHERE opt_ins_since = 0
           AND ((kind = 'opt-out' AND opt_outs_since = 1)
             OR (kind = 'refused' AND opt_outs_since = 0
                 AND (older_kind IS NULL OR older_kind = 'opt-in'))${
                   asOf
                     ? `
             -- and the oldest row since the last opt-in, for when it has stood: ranked
             -- below the row chosen (an older opt-out, or the first refusal it is)
             OR older_kind IS NULL OR older_kind = 'opt-in'
             -- and its STOP before the latest, for the sends made between the two
             OR (kind = 'opt-out' AND opt_outs_since = 2)`
                     : ''
                 })
         WINDOW by_scope_sid AS (
           PARTITION BY scope_index, account_sid,
                        COALESCE(messaging_service_sid, twilio_number), end_user
           ORDER BY kind = 'opt-out' DESC,
                    CASE kind WHEN 'opt-out' THEN date_sent END DESC,
                    CASE kind WHEN 'opt-out' THEN message_sid END DESC,
                    date_sent, message_sid)
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
              message_sid AS evidenceMessageSid,
              channel${
                asOf
                  ? `, scope_index AS scopeIndex, stands_since AS standsSince,
              prior_opt_out_at AS priorOptOutAt`
                  : ''
              }
       FROM listed
       WHERE rank = 1${
         ordered
           ? `
       ORDER BY ${asOf ? 'scope_index, ' : ''}account_sid, COALESCE(messaging_service_sid, twilio_number), end_user`
           : ''
       }`;
}

/**
 * Of refused sends (`messageSids`, each in the ledger), those a refusal-only pair stands from:
 * the oldest of its pair's (`PAIR`) opt-outs and refusals since its last opt-in, in the opt-out
 * rule's order (a tie is an opt-out) — the refusal `optOutsQuery` lists as the pair's evidence.
 * A refusal after a STOP of its pair, or after an earlier refusal, leaves the pair standing
 * from that one: it is no pair's evidence. Read from the pair's own events, account and
 * recipient first.
 */
export function refusalsPairsStandFrom(db: Db, messageSids: readonly string[]): string[] {
  const older = db.prepare(
    `WITH t AS (
       SELECT e.message_sid, e.account_sid, e.end_user, e.date_sent, ${SCOPE} AS scope_key
       FROM ledger_events e WHERE e.message_sid = ?
     ),
     pair AS (
       SELECT e.message_sid, e.kind, e.date_sent, ${SCOPE} AS scope_key
       FROM ledger_events e JOIN t ON e.account_sid = t.account_sid AND e.end_user = t.end_user
       WHERE e.kind IN ('opt-out', 'opt-in', 'refused') AND e.date_sent <= t.date_sent
     )
     -- The event just before the refusal in the rule's order, oldest first: by date, an opt-in
     -- before the rest of its second, then by SID.
     SELECT p.kind FROM pair p JOIN t ON p.scope_key = t.scope_key
     WHERE p.message_sid <> t.message_sid
       AND (p.date_sent < t.date_sent OR p.kind = 'opt-in' OR p.message_sid < t.message_sid)
     ORDER BY p.date_sent DESC, p.kind = 'opt-in', p.message_sid DESC
     LIMIT 1`,
  );
  return messageSids.filter((sid) => {
    const before = older.get(sid) as { kind: string } | undefined;
    return before === undefined || before.kind === 'opt-in';
  });
}

/**
 * A number's own evidence: a keyword it received (through a service or not) or a send from it
 * Twilio refused, in the account that held it then (`numberEvidenceSince`).
 */
export interface NumberEvidence {
  phoneNumber: string;
  accountSid: string;
  /** The partition it is judged in (`SCOPE`): its Messaging Service, else its number. */
  scopeKey: string;
  /** The channel it came over (`rcs`, `whatsapp`); null for SMS, MMS or unknown. */
  channel?: string | null;
  recipient: string;
  kind: 'opt-out' | 'opt-in' | 'refused';
  dateSent: string;
  messageSid: string;
}

/**
 * Each number's own evidence (`twilio_number` is the number: Twilio routed the keyword to the
 * account that held the number, and only that account sent from it) dated at or after its
 * `since`, in every account, in the order the opt-out rule reads it: by number, account,
 * partition and recipient, then by date, the opt-out side first within a second (a tie is an
 * opt-out), then by SID. One scan of the ledger, the numbers looked up in a list SQLite builds
 * once (joined on a table of them instead, it scanned the table for every event, or built an
 * index on the whole ledger: minutes for 3,000 numbers against 300,000 events under load), from
 * the earliest `since`; each number's own is then applied here.
 */
export function numberEvidenceSince(
  db: Db,
  numbers: readonly { phoneNumber: string; since: string }[],
): NumberEvidence[] {
  if (numbers.length === 0) return [];
  const since = new Map<string, string>();
  for (const { phoneNumber, since: from } of numbers) {
    const before = since.get(phoneNumber);
    if (before === undefined || from < before) since.set(phoneNumber, from);
  }
  const earliest = [...since.values()].reduce((a, b) => (b < a ? b : a));
  const rows = db
    .prepare(
      `SELECT e.twilio_number AS phoneNumber, e.account_sid AS accountSid, ${SCOPE} AS scopeKey,
              e.channel, e.end_user AS recipient, e.kind, e.date_sent AS dateSent,
              e.message_sid AS messageSid
       FROM ledger_events e
       WHERE e.kind IN ('opt-out', 'opt-in', 'refused') AND e.date_sent >= ?
         AND e.twilio_number IN (SELECT value FROM json_each(?))
       ORDER BY phoneNumber, accountSid, scopeKey, recipient, dateSent, e.kind = 'opt-in',
                messageSid`,
    )
    .all(earliest, JSON.stringify([...since.keys()])) as NumberEvidence[];
  return rows.filter((row) => row.dateSent >= since.get(row.phoneNumber)!);
}

/**
 * Whether the ledger holds the message as an opt-out (a snapshot or apply's read after the moves
 * took it): one said to a number in an account it left is on its list as said before it left,
 * up to two minutes after the journal's time of that (src/reconcile/suppression-lists.ts).
 */
export function ledgerHoldsOptOut(db: Db, messageSid: string): boolean {
  return (
    statement(db, `SELECT 1 FROM ledger_events WHERE message_sid = ? AND kind = 'opt-out'`).get(
      messageSid,
    ) !== undefined
  );
}

/**
 * Pairs whose latest second holds both an opt-in and an opt-out or refusal: the ties resolved
 * as opted out, which every coverage statement counts.
 */
export function countTiesResolvedAsOptOut(db: Db): number {
  const row = db
    .prepare(
      `SELECT COUNT(*) AS n FROM (
         SELECT 1 FROM (SELECT e.*, ${SCOPE} AS scope_key FROM ledger_events e)
         WHERE kind IN ('opt-out', 'opt-in', 'refused')
         GROUP BY ${PAIR}
         HAVING MAX(CASE kind WHEN 'opt-in' THEN date_sent END)
              = MAX(CASE kind WHEN 'opt-in' THEN NULL ELSE date_sent END))`,
    )
    .get() as { n: number };
  return row.n;
}

/**
 * The SIDs opt-ins came through that no snapshot or plan saw as a Messaging Service of their
 * account, with how many: each of those opt-ins lifts only what its own number took (`SCOPE`),
 * which every coverage statement says.
 */
export function optInsUnderUnknownServices(
  db: Db,
): { accountSid: string; messagingServiceSid: string; optIns: number }[] {
  return db
    .prepare(
      `SELECT e.account_sid AS accountSid, e.messaging_service_sid AS messagingServiceSid,
              COUNT(*) AS optIns
       FROM ledger_events e
       WHERE e.kind = 'opt-in' AND e.messaging_service_sid IS NOT NULL AND NOT ${KNOWN_SERVICE}
       GROUP BY e.account_sid, e.messaging_service_sid
       ORDER BY e.account_sid, e.messaging_service_sid`,
    )
    .all() as { accountSid: string; messagingServiceSid: string; optIns: number }[];
}

/**
 * Opted-out pairs no number's suppression list carries: their sender is no E.164 number (an
 * RCS agent `rcs:brand_agent`, a short code, an alphanumeric sender ID) and their evidence came
 * through no Messaging Service known in the account (`KNOWN_SERVICE`). A pair of a known
 * service is on the list of every number in it; these are said instead, never dropped.
 */
export function optOutsNotPlaced(db: Db): OptOutRow[] {
  // One look through the evidence first: most ledgers hold none, and the opt-out rule's query
  // over the whole ledger is not run again for them.
  const any = statement(
    db,
    `SELECT 1 FROM ledger_events e
     WHERE e.kind IN ('opt-out', 'refused')
       AND NOT (e.twilio_number GLOB '+[1-9]*' AND substr(e.twilio_number, 2) NOT GLOB '*[^0-9]*')
       AND (e.messaging_service_sid IS NULL OR NOT ${KNOWN_SERVICE})
     LIMIT 1`,
  ).get();
  if (any === undefined) return [];
  const known = statement(
    db,
    `SELECT 1 FROM messaging_services WHERE account_sid = ? AND service_sid = ?`,
  );
  return currentOptOuts(db).filter(
    (row) =>
      !isPhoneNumber(row.senderNumber) &&
      (row.messagingServiceSid === null ||
        known.get(row.accountSid, row.messagingServiceSid) === undefined),
  );
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
