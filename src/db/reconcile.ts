/**
 * What reconcile reads and keeps: the numbers apply moved (and when, and to which customer's
 * subaccount), the evidence the subaccounts hold since, the passes, and the violations found.
 */

import type { Statement } from 'better-sqlite3';

import { CLOCK_SKEW_MS } from '../clock.js';
import { KNOWN_SERVICE, refusalsPairsStandFrom, serviceEvidenceByNumber } from './ledger.js';
import { writesSince, type Db } from './open.js';

export interface MovedNumber {
  numberSid: string;
  phoneNumber: string;
  customerId: string;
  subaccountSid: string;
  /** The account it came from, and the Messaging Service whose service-wide opt-outs it carries. */
  sourceAccountSid: string;
  sourceServiceSid: string | null;
  /** When its transfer finished (ISO 8601 UTC): the list it carries is the list as of then. */
  movedAt: string;
  /**
   * When its transfer was first sent (ISO 8601 UTC): Twilio may have moved it from then on,
   * though the journal knows it only at `movedAt` (a transfer in flight when apply was killed is
   * recorded when a later apply resumes it, hours or days later).
   */
  moveBegan: string;
  /**
   * Its transfer's answer was recorded more than the clocks' allowance after it was sent: one
   * in flight when apply was killed (or whose answer was lost), settled from Twilio's state by a
   * later apply, hours or days on. `movedAt` is then when that apply settled it, not when Twilio
   * made it (any time from `moveBegan`), and the number may have been moved by hand away and
   * back in between, its `date_updated` then no later than apply's later steps on it. Set too
   * when a transfer of it was left in flight before `movedAt` by a run given up for a plan made
   * again (`moveBegan` then no later than when that one was sent): Twilio may have made it, and
   * the plan made again found the number in its subaccount (arrived with no transfer, `movedAt`
   * when that plan saw it) or elsewhere (moved again); and, for one that arrived with no
   * transfer, when Twilio refused a transfer of it before (`moveBegan` then no later than when
   * that one was sent: the number was in a third account then). Absent for a transfer answered
   * in time, and for a number that arrived with no transfer none left in flight or refused. Of
   * its first transfer only: a later wave's that moved it on is its stay's
   * (`NumberStay.settledLate`).
   */
  settledLate?: true;
  /**
   * When an apply began to create this subaccount; null when it existed before (whatever
   * other subaccount an apply may once have created for the customer).
   */
  subaccountCreatedAt: string | null;
  /**
   * Of a number whose transfer failed or was not run (`numbersNotMoved`): the account that
   * transfer was to take it out of, where its plan found it. Not `sourceAccountSid` when it was
   * moved by hand between a listing that saw it there and the plan (its list carries what it
   * left there). Absent for the others.
   */
  transferFromSid?: string;
}

/**
 * Every number a finished transfer step put in a customer's subaccount, as the customer of the
 * latest run that moved it: a plan made since and not applied (which records the number as
 * another customer's) has not moved it, and its sends are still that customer's.
 *
 * And every mapped number that reached its customer's subaccount with no transfer step (moved
 * by hand between a plan and the next, or before any plan, or found there by a plan made again
 * after a run that failed, or moved on by hand out of the subaccount a transfer had put it in):
 * Twilio forgot the opt-outs it took elsewhere as it moved, as for any move. One an applied plan saw in its customer's subaccount, whose recorded source is
 * another account, whose evidence the ledger holds in another account, or that a snapshot or
 * plan's refresh listed in another account (any listing, migration 027), is held to its list
 * as a moved number is: the list it carried out of that account (the recorded source, else the
 * account it was last known in elsewhere) as of when an applied plan first saw it there (after
 * the run that last moved it, if one did), its sends read from the later of the start of the
 * subaccount's history as a snapshot recorded it and the last it was known elsewhere (its latest
 * evidence in another account, the last listing that saw it in one less the clocks' allowance
 * (or the first that saw it in a service of one, migration 026's: an older version's plan made
 * with no refresh left some numbers in no listing migration 027 could fill from),
 * the transfer that last put it in another customer's subaccount): the earliest it may have come,
 * no one recorded when it came, every send from it there came after, and one before a plan saw
 * it there went out with its opt-outs forgotten. Neither known, from when that plan saw it there
 * (`moveBegan`; `movedAt` stays then): it is that customer's
 * moved number now, not the one's a transfer last put it with. The applied plans are read only while such a number may be there
 * (json_each over a plan of 100,000 numbers takes a second or more): a migration whose numbers
 * all moved by transfer reads none.
 */
export function movedNumbers(db: Db): MovedNumber[] {
  const rows = db
    .prepare(
      `WITH latest AS (
         -- (finished_at: that run's row's, SQLite's bare column beside MAX)
         SELECT step_id, MAX(run_id) AS run_id, finished_at FROM apply_steps
         WHERE action = 'transfer_number' AND state IN ('done', 'skipped')
         GROUP BY step_id),
       holder AS (
         SELECT l.step_id, k.customer_id FROM latest l
         JOIN apply_steps k ON k.run_id = l.run_id AND k.step_id = l.step_id),
       -- When an apply began to create each subaccount, read once: asked for each moved number
       -- in a subquery, the whole journal was scanned for each (3,000 numbers: 13 s).
       created AS MATERIALIZED (
         SELECT step_id, json_extract(result_json, '$.subaccount_sid') AS subaccount_sid,
                MIN(started_at) AS started_at
         FROM apply_steps WHERE action = 'create_subaccount' AND state = 'done'
         GROUP BY step_id, subaccount_sid),
       -- Mapped numbers no transfer step has moved into their customer's recorded subaccount:
       -- none moved them, or the last one put them in another customer's (moved on by hand),
       -- with the run of that last one.
       unmoved AS MATERIALIZED (
         SELECT n.number_sid, n.phone_number, n.customer_id, c.subaccount_sid,
                n.source_account_sid, n.source_service_sid, COALESCE(l.run_id, 0) AS after_run,
                l.finished_at AS moved_before
         FROM customer_numbers n
         JOIN customer_subaccounts c ON c.customer_id = n.customer_id
         LEFT JOIN latest l ON l.step_id = 'transfer_number:' || n.number_sid
         LEFT JOIN holder h ON h.step_id = l.step_id
         LEFT JOIN customer_subaccounts hc ON hc.customer_id = h.customer_id
         WHERE l.step_id IS NULL OR hc.subaccount_sid IS NOT c.subaccount_sid),
       -- When an applied plan first saw each in its subaccount, after the run that last moved
       -- it. Each plan's date is read once: read beside each of its numbers, the plan was
       -- parsed again for each (3,000: 2.7 s).
       plans AS MATERIALIZED (
         SELECT id, plan_json, plan_json ->> '$.created_at' AS created_at FROM apply_runs
         WHERE EXISTS (SELECT 1 FROM unmoved)),
       seen AS MATERIALIZED (
         SELECT u.number_sid, MIN(p.created_at) AS first_seen
         FROM plans p, json_each(p.plan_json, '$.observed') o
         JOIN unmoved u ON o.key = 'number:' || u.number_sid
           AND o.value ->> '$.account_sid' = u.subaccount_sid AND p.id > u.after_run
         GROUP BY u.number_sid),
       -- For each, the other account it was last known in, and when: its latest evidence in
       -- the ledger there, or the last listing (a snapshot's or plan's refresh) that saw it
       -- there (migration 027), less the room Twilio's clock may differ from this machine's by
       -- (a listing's time is this machine's, a send's Twilio's): it came after that.
       known_elsewhere AS MATERIALIZED (
             SELECT u.phone_number, e.account_sid, e.date_sent
             FROM unmoved u JOIN ledger_events e ON e.twilio_number = u.phone_number
             WHERE EXISTS (SELECT 1 FROM unmoved) AND e.account_sid <> u.subaccount_sid
             UNION ALL
             SELECT u.phone_number, l.account_sid,
                    strftime('%Y-%m-%dT%H:%M:%SZ', l.last_seen, '-${CLOCK_SKEW_MS / 1000} seconds')
             FROM unmoved u JOIN number_accounts_seen l ON l.number_sid = u.number_sid
             WHERE l.account_sid <> u.subaccount_sid
             UNION ALL
             -- The first listing that saw it in a service of another account (migration
             -- 026): an older version kept no more of a listing a later one replaced, and
             -- migration 027 found no SID for a number no account's latest listing showed.
             SELECT u.phone_number, s.account_sid,
                    strftime('%Y-%m-%dT%H:%M:%SZ', s.first_seen, '-${CLOCK_SKEW_MS / 1000} seconds')
             FROM unmoved u JOIN number_services_seen s ON s.phone_number = u.phone_number
             WHERE s.account_sid <> u.subaccount_sid),
       elsewhere AS MATERIALIZED (
         SELECT phone_number, account_sid, date_sent FROM (
           SELECT phone_number, account_sid, date_sent,
                  ROW_NUMBER() OVER (PARTITION BY phone_number
                                     ORDER BY date_sent DESC, account_sid) AS nth
           FROM known_elsewhere)
         WHERE nth = 1),
       -- A number a listing saw in the subaccount before it was known elsewhere for the last
       -- time (moved out by hand and back again): its sends there during that earlier stay
       -- went out with the opt-outs it had carried in forgotten too. They are judged from the
       -- last it was known elsewhere before the first listing that saw it in the subaccount.
       here AS MATERIALIZED (
         SELECT u.phone_number, MIN(l.first_seen) AS first_here
         FROM unmoved u JOIN number_accounts_seen l
           ON l.number_sid = u.number_sid AND l.account_sid = u.subaccount_sid
         GROUP BY u.phone_number),
       elsewhere_before AS MATERIALIZED (
         SELECT k.phone_number, MAX(k.date_sent) AS date_sent
         FROM known_elsewhere k JOIN here h ON h.phone_number = k.phone_number
         WHERE k.date_sent < h.first_here
         GROUP BY k.phone_number),
       -- When each number's earliest transfer still in flight was sent: one an apply killed left
       -- so whose run was given up for a plan made again, which no apply settles (or one of a
       -- stopped run not continued yet). Whether Twilio made it is not known.
       unsettled AS MATERIALIZED (
         SELECT step_id, MIN(started_at) AS sent FROM apply_steps
         WHERE action = 'transfer_number' AND state = 'in_flight' AND started_at IS NOT NULL
         GROUP BY step_id),
       -- And when each number's earliest transfer Twilio refused was sent: the number was moved
       -- by hand out of where that run found it by then, into neither that account nor its
       -- subaccount (apply would have taken a move there for done), before it came there (or
       -- its subaccount was suspended: it had not moved, and the family's messages say so).
       refused AS MATERIALIZED (
         SELECT step_id, MIN(started_at) AS sent FROM apply_steps
         WHERE action = 'transfer_number' AND state = 'failed' AND started_at IS NOT NULL
         GROUP BY step_id),
       -- Those held as moved by hand, with where they came from.
       arrived AS MATERIALIZED (
         SELECT u.number_sid, u.phone_number, u.customer_id, u.subaccount_sid,
                CASE WHEN u.source_account_sid <> u.subaccount_sid THEN u.source_account_sid
                     ELSE w.account_sid END AS source_account_sid,
                CASE WHEN u.source_account_sid <> u.subaccount_sid THEN u.source_service_sid
                END AS source_service_sid,
                v.first_seen, a.started_at, w.date_sent AS last_known_elsewhere,
                -- The last it is known elsewhere: its latest evidence in another account, or
                -- the transfer that last put it in another customer's subaccount.
                -- (Before a listing first saw it in the subaccount, when one did; when nothing
                -- known of it elsewhere came before that listing, none: it was there before
                -- anything was known of it elsewhere, and its sends there count from the
                -- subaccount's history start.)
                MAX(COALESCE(b.date_sent, CASE WHEN hs.first_here IS NULL THEN w.date_sent END, ''),
                    COALESCE(u.moved_before, ''))
                  AS last_elsewhere
         FROM unmoved u
         JOIN seen v ON v.number_sid = u.number_sid
         LEFT JOIN elsewhere w ON w.phone_number = u.phone_number
         LEFT JOIN elsewhere_before b ON b.phone_number = u.phone_number
         LEFT JOIN here hs ON hs.phone_number = u.phone_number
         LEFT JOIN created a ON a.step_id = 'create_subaccount:' || u.customer_id
           AND a.subaccount_sid = u.subaccount_sid
         WHERE u.source_account_sid <> u.subaccount_sid OR w.account_sid IS NOT NULL)
       SELECT n.number_sid AS numberSid, n.phone_number AS phoneNumber, h.customer_id AS customerId,
              c.subaccount_sid AS subaccountSid, n.source_account_sid AS sourceAccountSid,
              n.source_service_sid AS sourceServiceSid,
              MIN(s.finished_at) AS movedAt,
              COALESCE(MIN(s.started_at), MIN(s.finished_at)) AS moveBegan,
              MIN(a.started_at) AS subaccountCreatedAt,
              CASE WHEN unixepoch(MIN(s.finished_at))
                        - unixepoch(COALESCE(MIN(s.started_at), MIN(s.finished_at)))
                        > ${CLOCK_SKEW_MS / 1000} THEN 1 END AS settledLate,
              MIN(us.sent) AS unsettledSent
       FROM apply_steps s
       JOIN customer_numbers n ON n.number_sid = substr(s.step_id, length('transfer_number:') + 1)
         AND s.step_id = 'transfer_number:' || n.number_sid
       JOIN holder h ON h.step_id = s.step_id
       JOIN customer_subaccounts c ON c.customer_id = h.customer_id
       LEFT JOIN created a ON a.step_id = 'create_subaccount:' || c.customer_id
         AND a.subaccount_sid = c.subaccount_sid
       LEFT JOIN unsettled us ON us.step_id = s.step_id
       WHERE s.action = 'transfer_number' AND s.state IN ('done', 'skipped')
         AND n.number_sid NOT IN (SELECT number_sid FROM arrived)
       GROUP BY n.number_sid
       UNION ALL
       SELECT r.number_sid, r.phone_number, r.customer_id, r.subaccount_sid,
              r.source_account_sid, r.source_service_sid, r.first_seen,
              -- Its sends there count from when it may have come: after the subaccount's
              -- history began and after it was last known elsewhere; none known, from then.
              -- (One there before anything was known of it elsewhere, in a subaccount whose
              -- history start no snapshot recorded: from the last it was known elsewhere, as
              -- before, never later.)
              MIN(r.first_seen,
                  COALESCE(NULLIF(MAX(COALESCE(h.history_start, ''), r.last_elsewhere), ''),
                           r.last_known_elsewhere, r.first_seen)),
              r.started_at, NULL, MIN(COALESCE(us.sent, rf.sent), COALESCE(rf.sent, us.sent))
       FROM arrived r LEFT JOIN account_history h ON h.account_sid = r.subaccount_sid
       LEFT JOIN unsettled us ON us.step_id = 'transfer_number:' || r.number_sid
       LEFT JOIN refused rf ON rf.step_id = 'transfer_number:' || r.number_sid
       ORDER BY customerId, phoneNumber`,
    )
    .all() as (Omit<MovedNumber, 'settledLate'> & {
    settledLate: 1 | null;
    unsettledSent: string | null;
  })[];
  return rows.map(({ settledLate, unsettledSent: sent, ...m }) => {
    // A transfer of it sent before it was known moved, left in flight by a run given up for a
    // plan made again (no apply settles it): Twilio may have made it then, and the number
    // been moved by hand away and back (or away, for that plan to move it again) since.
    if (sent !== null && Date.parse(sent) < Date.parse(m.movedAt)) {
      const moveBegan = Date.parse(sent) < Date.parse(m.moveBegan) ? sent : m.moveBegan;
      return { ...m, moveBegan, settledLate: true as const };
    }
    return settledLate === null ? m : { ...m, settledLate: true as const };
  });
}

/**
 * The Messaging Service an apply last put each number in (its attach step's), by number SID: a
 * send a service refused before it chose a sender names the service only.
 */
export function attachedServices(db: Db): Map<string, string> {
  const rows = db
    .prepare(
      `SELECT substr(step_id, length('attach_number:') + 1) AS numberSid,
              json_extract(result_json, '$.service_sid') AS serviceSid
       FROM apply_steps
       WHERE action = 'attach_number' AND state IN ('done', 'skipped')
         AND json_extract(result_json, '$.service_sid') IS NOT NULL
       ORDER BY run_id`,
    )
    .all() as { numberSid: string; serviceSid: string }[];
  return new Map(rows.map((row) => [row.numberSid, row.serviceSid]));
}

/**
 * Each subaccount a finished transfer step put a number in, and the span it was there: from
 * when that transfer was first sent until a later transfer of the number (a later wave moving
 * it on) finished; `left` is null while no later transfer has, as far as the journal knows.
 */
export interface NumberStay {
  numberSid: string;
  accountSid: string;
  /** ISO 8601 UTC. */
  began: string;
  left: string | null;
  /**
   * The transfer that began it finished more than the clocks' allowance after `began` (as
   * `MovedNumber.settledLate`, of any wave's transfer, not only the first): in flight when
   * apply was killed and settled by a later apply, or begun by one a run given up for a plan
   * made again left in flight. Twilio may have made it any time from `began`, and the number
   * been moved by hand away and back before the settling. Absent for one answered in time.
   */
  settledLate?: true;
  /**
   * Of a stay no later transfer ended, its number held now in another subaccount: when the
   * first plan applied since, made after its transfer finished, saw the number in the
   * subaccount it is held in now (ISO 8601 UTC). It had left by then: a plan is dated after it
   * lists the family. (Not one that saw it anywhere else: it may have come back after that
   * plan, and sent from there, before it went where it is held now.)
   */
  seenWhereHeld?: string;
}

export function numberStays(db: Db, current?: ReadonlyMap<string, string>): NumberStay[] {
  const stays = oneStayPerArrival(transferStays(db));
  // A stay no later transfer ended of a number held now in another subaccount (`current`):
  // when the first plan applied after its transfer's run, made after that transfer finished,
  // saw the number in that subaccount (one made while it was in flight saw it where it was;
  // one that saw it in the parent, its transfer refused, did not see it come back by hand).
  // The plans are read only for those (json_each over a plan of 100,000 numbers takes a tenth
  // of a second or more).
  const open = stays.filter(
    (s) => s.left === null && current !== undefined && current.get(s.numberSid) !== s.accountSid,
  );
  if (open.length === 0) return stays;
  const seen = db
    .prepare(
      `WITH open AS MATERIALIZED (
         SELECT value ->> '$.numberSid' AS number_sid, value ->> '$.nowSid' AS now_sid
         FROM json_each(?)),
       -- The journal and each plan are read once for all of them, not once for each: joined
       -- number by number, 30 open stays over a plan of 100,000 numbers took 2 s, 100 took 7 s.
       last AS MATERIALIZED (
         SELECT u.number_sid, u.now_sid, s.run_id, s.finished
         FROM (SELECT step_id, MAX(run_id) AS run_id, MAX(finished_at) AS finished
               FROM apply_steps
               WHERE action = 'transfer_number' AND state IN ('done', 'skipped')
                 AND step_id IN (SELECT 'transfer_number:' || number_sid FROM open)
               GROUP BY step_id) s
         JOIN open u ON s.step_id = 'transfer_number:' || u.number_sid),
       observed AS MATERIALIZED (
         SELECT r.id, o.key, o.value ->> '$.account_sid' AS account_sid
         FROM apply_runs r, json_each(r.plan_json, '$.observed') o
         WHERE r.id > (SELECT MIN(run_id) FROM last)
           AND o.key IN (SELECT 'number:' || number_sid FROM last)),
       -- (Each plan's date read once: beside each of its entries, the plan was parsed again.)
       plans AS MATERIALIZED (
         SELECT id, plan_json ->> '$.created_at' AS created_at FROM apply_runs
         WHERE id IN (SELECT id FROM observed))
       SELECT l.number_sid AS numberSid, MIN(p.created_at) AS seen
       FROM observed o JOIN plans p ON p.id = o.id
       JOIN last l ON o.key = 'number:' || l.number_sid AND o.id > l.run_id
         AND p.created_at > l.finished AND o.account_sid = l.now_sid
       GROUP BY l.number_sid`,
    )
    .all(
      JSON.stringify(
        open.map((s) => ({ numberSid: s.numberSid, nowSid: current?.get(s.numberSid) ?? null })),
      ),
    ) as { numberSid: string; seen: string }[];
  const bySid = new Map(seen.map((r) => [r.numberSid, r.seen]));
  for (const stay of open) {
    const at = bySid.get(stay.numberSid);
    if (at !== undefined) stay.seenWhereHeld = at;
  }
  return stays;
}

/**
 * Each finished transfer step's stay, as `numberStays` before one stay is made of each arrival.
 * One a run given up for a plan made again left in flight before it (no apply settles it;
 * `movedNumbers`, `unsettled`) may have moved the number when it was sent: the stay begins then.
 * A stay whose transfer finished more than the clocks' allowance after it began is
 * `settledLate`.
 */
function transferStays(db: Db): NumberStay[] {
  const rows = db
    .prepare(
      `WITH unsettled AS MATERIALIZED (
         SELECT step_id, run_id, started_at FROM apply_steps
         WHERE action = 'transfer_number' AND state = 'in_flight' AND started_at IS NOT NULL)
       SELECT numberSid, accountSid, began, "left",
              CASE WHEN unixepoch(finished) - unixepoch(began) > ${CLOCK_SKEW_MS / 1000}
                   THEN 1 END AS settledLate
       FROM (
         SELECT numberSid, accountSid, t.finished,
                -- (Left in flight after the finished transfer before it, if any: one before
                -- that is that transfer's.)
                COALESCE((SELECT MIN(u.started_at) FROM unsettled u
                          WHERE u.step_id = t.step_id AND u.run_id < t.run_id
                            AND u.run_id > COALESCE(t.prev_run, 0)),
                         t.began) AS began,
                t."left"
         FROM (
           SELECT s.step_id, s.run_id,
                  substr(s.step_id, length('transfer_number:') + 1) AS numberSid,
                  json_extract(s.result_json, '$.to_account_sid') AS accountSid,
                  COALESCE(s.started_at, s.finished_at) AS began, s.finished_at AS finished,
                  LAG(s.run_id) OVER w AS prev_run,
                  LEAD(s.finished_at) OVER w AS "left"
           FROM apply_steps s
           WHERE s.action = 'transfer_number' AND s.state IN ('done', 'skipped')
           WINDOW w AS (
             PARTITION BY s.step_id ORDER BY COALESCE(s.started_at, s.finished_at), s.run_id)) t
         WHERE accountSid IS NOT NULL)
       ORDER BY began, numberSid`,
    )
    .all() as (Omit<NumberStay, 'settledLate'> & { settledLate: 1 | null })[];
  return rows.map(({ settledLate, ...stay }) =>
    settledLate === null ? stay : { ...stay, settledLate: true as const },
  );
}

/**
 * A subaccount a number reached with no transfer (moved there by hand) and a later transfer of
 * apply's took it out of: an applied plan found it there (in place), and the plan of a later
 * run moved it on from there, no transfer having put it there since the one before, if any.
 * Before that transfer it was the moved number of that subaccount's customer, its sends there
 * held to its list (movedNumbers' `arrived`); after it, the journal has it only where the
 * transfer put it (`transferStays`), and no pass held those sends to anything
 * (src/reconcile/whereabouts.ts `arrivalStays`).
 */
export interface ArrivalMovedOn {
  numberSid: string;
  accountSid: string;
  /** The customer whose subaccount it is (null: none the database knows). */
  customerId: string | null;
  /** When the first such plan saw it there (its date, ISO 8601 UTC). */
  firstSeen: string;
  /**
   * When the transfer that moved it on finished, or, left in flight by a killed apply, was sent
   * (ISO 8601 UTC).
   */
  left: string;
}

export function arrivalsMovedOn(db: Db): ArrivalMovedOn[] {
  // The transfers out of an account other than the parent a number was planned from are
  // `numberDepartures`' (only the plans of the runs that made them are read); of those, the
  // ones out of a customer's subaccount no transfer had put the number in. The applied plans'
  // observed numbers are read only for those: a migration whose numbers each left the
  // subaccount a transfer had put them in (or the parent) reads none.
  const out = [...numberDepartures(db), ...departuresInFlight(db)];
  if (out.length === 0) return [];
  return db
    .prepare(
      `WITH departures AS MATERIALIZED (
         SELECT value ->> '$.numberSid' AS number_sid, value ->> '$.runId' AS run_id,
                value ->> '$.accountSid' AS from_sid, value ->> '$.leftAt' AS left_at
         FROM json_each(?)
         WHERE value ->> '$.accountSid' IN (SELECT subaccount_sid FROM customer_subaccounts)),
       -- Each finished transfer with the one before it, the journal read once.
       moves AS MATERIALIZED (
         SELECT s.run_id, substr(s.step_id, length('transfer_number:') + 1) AS number_sid,
                LAG(s.run_id) OVER w AS prev_run,
                LAG(s.result_json ->> '$.to_account_sid') OVER w AS prev_to
         FROM apply_steps s
         WHERE s.action = 'transfer_number' AND s.state IN ('done', 'skipped')
           AND EXISTS (SELECT 1 FROM departures)
         WINDOW w AS (
           PARTITION BY s.step_id ORDER BY COALESCE(s.started_at, s.finished_at), s.run_id)
         UNION ALL
         -- A transfer left in flight, with the finished one before it (none in the window
         -- above: the finished one after it keeps its own).
         SELECT u.run_id, substr(u.step_id, length('transfer_number:') + 1),
                p.run_id, p.result_json ->> '$.to_account_sid'
         FROM apply_steps u
         LEFT JOIN apply_steps p ON p.run_id = (
           SELECT MAX(q.run_id) FROM apply_steps q
           WHERE q.step_id = u.step_id AND q.run_id < u.run_id AND q.state IN ('done', 'skipped'))
           AND p.step_id = u.step_id
         WHERE u.action = 'transfer_number' AND u.state = 'in_flight' AND u.started_at IS NOT NULL
           AND EXISTS (SELECT 1 FROM departures)),
       outs AS MATERIALIZED (
         SELECT d.number_sid, d.run_id, m.prev_run, d.left_at, d.from_sid,
                (SELECT MIN(c.customer_id) FROM customer_subaccounts c
                 WHERE c.subaccount_sid = d.from_sid) AS customer_id
         FROM departures d
         JOIN moves m ON m.number_sid = d.number_sid AND m.run_id = d.run_id
         WHERE d.from_sid IS NOT m.prev_to),
       observed AS MATERIALIZED (
         SELECT r.id, substr(o.key, length('number:') + 1) AS number_sid,
                o.value ->> '$.account_sid' AS account_sid
         FROM apply_runs r, json_each(r.plan_json, '$.observed') o
         WHERE EXISTS (SELECT 1 FROM outs)
           AND o.key IN (SELECT 'number:' || number_sid FROM outs)),
       -- (Each plan's date read once.)
       plans AS MATERIALIZED (
         SELECT id, plan_json ->> '$.created_at' AS created_at FROM apply_runs
         WHERE id IN (SELECT id FROM observed))
       SELECT o.number_sid AS numberSid, o.from_sid AS accountSid, o.customer_id AS customerId,
              MIN(p.created_at) AS firstSeen, o.left_at AS "left"
       FROM outs o
       JOIN observed v ON v.number_sid = o.number_sid AND v.account_sid = o.from_sid
         AND v.id < o.run_id AND v.id > COALESCE(o.prev_run, 0)
       JOIN plans p ON p.id = v.id
       GROUP BY o.number_sid, o.run_id
       ORDER BY o.left_at, o.number_sid`,
    )
    .all(
      JSON.stringify(
        out.map((d) => ({
          numberSid: d.numberSid,
          runId: d.runId,
          accountSid: d.accountSid,
          leftAt: d.leftAt,
        })),
      ),
    ) as ArrivalMovedOn[];
}

/**
 * Each transfer an apply left in flight (killed, its run given up or not continued yet) out of
 * the account its plan found the number in, and when it was sent: Twilio may have made it then
 * (`arrivalsMovedOn`: a number found in place, moved on by it). Only the plans of runs that
 * left one are read.
 */
function departuresInFlight(
  db: Db,
): { numberSid: string; runId: number; accountSid: string; leftAt: string }[] {
  return db
    .prepare(
      `WITH unsettled AS MATERIALIZED (
         SELECT run_id, step_id, started_at FROM apply_steps
         WHERE action = 'transfer_number' AND state = 'in_flight' AND started_at IS NOT NULL),
       -- Each such run's plan walked once, whatever the number of its steps left in flight.
       planned AS MATERIALIZED (
         SELECT r.id AS run_id, t.value ->> '$.id' AS step_id,
                t.value ->> '$.number_sid' AS number_sid,
                t.value ->> '$.from_account_sid' AS from_sid
         FROM apply_runs r, json_each(r.plan_json, '$.steps') t
         WHERE r.id IN (SELECT run_id FROM unsettled)
           AND t.value ->> '$.id' IN (SELECT step_id FROM unsettled))
       SELECT u.run_id AS runId, p.number_sid AS numberSid, p.from_sid AS accountSid,
              u.started_at AS leftAt
       FROM unsettled u
       JOIN planned p ON p.run_id = u.run_id AND p.step_id = u.step_id
       WHERE p.from_sid IS NOT NULL`,
    )
    .all() as { numberSid: string; runId: number; accountSid: string; leftAt: string }[];
}

/**
 * The spans a number moved by apply was in another account than the one a transfer put it in,
 * with no step of apply's, as the journal shows them: a later transfer took it out of an
 * account (`from_account_sid`, where that plan found it: the parent it was moved back into by
 * hand, say) other than the one the transfer before put it in. From that transfer's start to
 * the later one's finish, its sends there were held to no list, even where no pass ran while it
 * was there. `subaccountSid`: where the earlier transfer had put it.
 */
export function awayBetweenTransfers(db: Db): Omit<NumberAway, 'phoneNumber' | 'customerId'>[] {
  const departures = departuresByNumber(db);
  if (departures.size === 0) return [];
  return transferStays(db).flatMap((stay) => {
    if (stay.left === null) return [];
    const out = departures
      .get(stay.numberSid)
      ?.find((d) => d.leftAt === stay.left && d.accountSid !== stay.accountSid);
    return out === undefined
      ? []
      : [
          {
            numberSid: stay.numberSid,
            subaccountSid: stay.accountSid,
            accountSid: out.accountSid,
            start: stay.began,
            end: out.leftAt,
          },
        ];
  });
}

/**
 * A number's stays with each transfer into the account it was in already taken as part of the
 * stay before (moved out by hand, back into the parent, and into the same subaccount again by a
 * later apply): to the journal it never left, and a pass held its sends there to its list all
 * along. Split, the first stay ended at the later transfer, and what a pass read up to then
 * counted as read before it left only in part: a span no pass missed was named `numbers-left`
 * for good. Pure.
 */
export function oneStayPerArrival(stays: readonly NumberStay[]): NumberStay[] {
  const last = new Map<string, NumberStay>();
  const kept: NumberStay[] = [];
  for (const stay of stays) {
    const before = last.get(stay.numberSid);
    if (before !== undefined && before.accountSid === stay.accountSid) {
      before.left = stay.left;
      continue;
    }
    const copy = { ...stay };
    last.set(stay.numberSid, copy);
    kept.push(copy);
  }
  return kept;
}

/**
 * Each customer's subaccounts its numbers were moved into by a finished transfer step, the one
 * it has now and any it had before (a later plan gave it another).
 */
export function subaccountsMovedInto(db: Db): Map<string, Set<string>> {
  const rows = db
    .prepare(
      `SELECT DISTINCT customer_id AS customerId,
              json_extract(result_json, '$.to_account_sid') AS accountSid
       FROM apply_steps
       WHERE action = 'transfer_number' AND state IN ('done', 'skipped')
         AND json_extract(result_json, '$.to_account_sid') IS NOT NULL`,
    )
    .all() as { customerId: string; accountSid: string }[];
  const into = new Map<string, Set<string>>();
  for (const { customerId, accountSid } of rows) {
    let set = into.get(customerId);
    if (set === undefined) into.set(customerId, (set = new Set()));
    set.add(accountSid);
  }
  return into;
}

/**
 * An account a number an apply moved more than once left (a later wave moved it on: it left
 * the parent, then the first customer's subaccount, and its list carries what it carried out
 * of both, where `customer_numbers` keeps only the latest source): a finished transfer step's
 * `from_account_sid` and the service its detach step (of the same run) took it out of, as the
 * plan that run applied names them, and when the transfer finished. A number moved once out
 * of the parent, with the parent still its recorded source, left the one account that source
 * names: its plan is not read for it, unless the request apply journaled for its transfer names
 * another account (found in place by an earlier wave, moved on by a later one). One whose recorded source a later plan has set to where
 * it is now (planned for another customer, not applied yet) is read: the plan it was moved by
 * still names the parent it left.
 */
export interface NumberDeparture {
  numberSid: string;
  /** The apply run that moved it out. */
  runId: number;
  accountSid: string;
  serviceSid: string | null;
  /** ISO 8601 UTC. */
  leftAt: string;
  /** When that transfer was first sent (ISO 8601 UTC): the stay it began in the next account. */
  began?: string;
}

/** `numberDepartures`' last answer for each connection, and what had been written then. */
const departuresRead = new WeakMap<
  Db,
  { writes: string; departures: readonly NumberDeparture[] }
>();

export function numberDepartures(db: Db): readonly NumberDeparture[] {
  // A pass asks for them a dozen times (coverage, stays, spans, lists), and at a second wave of
  // 100,000 numbers each read takes seconds: read again only once something was written.
  const writes = writesSince(db);
  const read = departuresRead.get(db);
  if (read?.writes === writes) return read.departures;
  const departures = readDepartures(db);
  departuresRead.set(db, { writes, departures });
  return departures;
}

function readDepartures(db: Db): NumberDeparture[] {
  // Only the plans of runs that moved such a number are read (json_each over a plan of
  // 100,000 numbers takes a second or more), each once, then matched to the journal by the
  // step's key: never a walk of the plan per step. A migration in one wave reads none.
  return db
    .prepare(
      `WITH again AS MATERIALIZED (
         SELECT step_id FROM apply_steps
         WHERE action = 'transfer_number' AND state IN ('done', 'skipped')
         GROUP BY step_id HAVING COUNT(*) > 1
         UNION
         -- A number moved once out of the parent whose recorded source a later plan (not
         -- applied yet, or its mapping planned again) has since set to where it is now.
         SELECT s.step_id FROM apply_steps s
         JOIN apply_runs r ON r.id = s.run_id
         JOIN customer_numbers n ON n.number_sid = substr(s.step_id, length('transfer_number:') + 1)
           AND s.step_id = 'transfer_number:' || n.number_sid
         WHERE s.action = 'transfer_number' AND s.state IN ('done', 'skipped')
           AND n.source_account_sid <> r.parent_account_sid
         UNION
         -- A number moved once out of another account than the parent (a plan found it in place
         -- in a customer's subaccount, where it had come by hand, and a later wave moved it on),
         -- its recorded source still the parent it was known in before: the request apply
         -- journaled says whose it was. Only a later run can move on a number an earlier one
         -- found in place: a database of one run reads no request, and a later run's only its
         -- transfers' (a range of the journal's index, each run by its own).
         SELECT s.step_id FROM apply_runs r
         CROSS JOIN apply_events e
         JOIN apply_steps s ON s.run_id = e.run_id AND s.step_id = e.step_id
         WHERE r.id > (SELECT MIN(id) FROM apply_runs)
           AND e.run_id = r.id
           AND e.step_id >= 'transfer_number:' AND e.step_id < 'transfer_number;'
           AND e.kind = 'intent'
           AND instr(e.detail_json, '/Accounts/' || r.parent_account_sid || '/IncomingPhoneNumbers/') = 0
           AND s.state IN ('done', 'skipped')),
       planned AS MATERIALIZED (
         SELECT r.id AS runId, t.value ->> '$.id' AS stepId, t.value ->> '$.action' AS action,
                t.value ->> '$.number_sid' AS numberSid,
                t.value ->> '$.from_account_sid' AS fromAccount,
                t.value ->> '$.service_sid' AS serviceSid
         FROM apply_runs r, json_each(r.plan_json, '$.steps') t
         WHERE r.id IN (SELECT s.run_id FROM apply_steps s JOIN again a ON a.step_id = s.step_id)
           AND t.value ->> '$.action' IN ('transfer_number', 'detach_number')
           AND 'transfer_number:' || (t.value ->> '$.number_sid') IN (SELECT step_id FROM again))
       SELECT p.numberSid, p.runId, p.fromAccount AS accountSid, d.serviceSid,
              COALESCE(s.finished_at, s.started_at) AS leftAt,
              COALESCE(s.started_at, s.finished_at) AS began
       FROM planned p
       JOIN apply_steps s ON s.run_id = p.runId AND s.step_id = p.stepId
       LEFT JOIN planned d
         ON d.runId = p.runId AND d.action = 'detach_number' AND d.numberSid = p.numberSid
       WHERE p.action = 'transfer_number' AND s.state IN ('done', 'skipped')
         AND p.fromAccount IS NOT NULL AND COALESCE(s.finished_at, s.started_at) IS NOT NULL
       ORDER BY p.numberSid, leftAt`,
    )
    .all() as NumberDeparture[];
}

/** `numberDepartures` by number SID, each number's in the order it left. */
export function departuresByNumber(db: Db): Map<string, NumberDeparture[]> {
  const byNumber = new Map<string, NumberDeparture[]>();
  for (const d of numberDepartures(db)) {
    const list = byNumber.get(d.numberSid);
    if (list === undefined) byNumber.set(d.numberSid, [d]);
    else list.push(d);
  }
  return byNumber;
}

/**
 * The finished transfers of numbers moved once, out of the parent they were planned from (or
 * that the mapping no longer records): each left its run's parent. `lastDepartures` takes the
 * latest per account, `numbersLeft` each one. The number is found by its key, the step id's
 * tail: joined on a concatenation, no index serves and every number is scanned per transfer.
 */
const MOVED_ONCE_FROM_PARENT_WITH = `WITH once AS (
         SELECT step_id FROM apply_steps
         WHERE action = 'transfer_number' AND state IN ('done', 'skipped')
         GROUP BY step_id HAVING COUNT(*) = 1)`;
const MOVED_ONCE_FROM_PARENT = `FROM apply_steps s
       JOIN once o ON o.step_id = s.step_id
       JOIN apply_runs r ON r.id = s.run_id
       LEFT JOIN customer_numbers n ON n.number_sid = substr(s.step_id, length('transfer_number:') + 1)
         AND s.step_id = 'transfer_number:' || n.number_sid
       WHERE s.action = 'transfer_number' AND s.state IN ('done', 'skipped')
         AND (n.number_sid IS NULL OR n.source_account_sid = r.parent_account_sid)
         AND COALESCE(s.finished_at, s.started_at) IS NOT NULL`;

/**
 * When numbers last left each account, as far as the journal knows (the latest finished
 * transfer out of it, ISO 8601 UTC): opt-outs said to a number while it was there, up to then,
 * are on its customer's list only if that account's history was read up to then. A number moved
 * once out of the parent it was planned from left the run's parent; every other move (a number
 * moved again, or out of a subaccount) is `numberDepartures`'s. One the mapping no longer
 * records is taken to have left the parent: never a move out of an account left unjudged.
 */
export function lastDepartures(db: Db): Map<string, string> {
  const fromParent = db
    .prepare(
      `${MOVED_ONCE_FROM_PARENT_WITH}
       SELECT r.parent_account_sid AS accountSid,
              MAX(COALESCE(s.finished_at, s.started_at)) AS leftAt
       ${MOVED_ONCE_FROM_PARENT}
       GROUP BY r.parent_account_sid`,
    )
    .all() as { accountSid: string; leftAt: string }[];
  const latest = new Map<string, string>();
  const keep = (accountSid: string, leftAt: string) => {
    const before = latest.get(accountSid);
    if (before === undefined || Date.parse(leftAt) > Date.parse(before)) {
      latest.set(accountSid, leftAt);
    }
  };
  for (const row of fromParent) keep(row.accountSid, row.leftAt);
  for (const d of numberDepartures(db)) keep(d.accountSid, d.leftAt);
  for (const d of departuresByHand(db)) keep(d.accountSid, d.leftAt);
  return latest;
}

/**
 * Mapped numbers that left the account a plan recorded they came from by hand (no transfer of
 * this database's applies took them out of it), with the latest they may have left it: the
 * first listing that saw the number in another account after the last listing that saw it
 * there (a snapshot saw it in another customer's subaccount, someone moved it back into the
 * parent, and the plan found it there). The opt-outs said to it there until then are on its
 * list (the list of the account it came from), so that account counts as read only once read
 * up to then. Where the number was listed in the other account both before and after, the
 * first listing there since is not kept: its last one stands for it (the later, the safe side).
 *
 * A departure an apply of this journal began is the tool's, not a hand's (`leftByApply`), and
 * is dated by the journal or not at all, as before: a finished transfer out of that account,
 * or one sent (its intent recorded) whatever became of it or of its run (in flight when apply
 * was killed, its run given up for a plan made again, or failed). A move by an apply from
 * another database, of which this journal knows nothing, is taken for a hand's: the account
 * counts as read only up to the listing that saw the number elsewhere (the safe side).
 */
export function departuresByHand(
  db: Db,
): { numberSid: string; accountSid: string; leftAt: string }[] {
  const rows = db
    .prepare(
      `SELECT n.number_sid AS numberSid, n.source_account_sid AS accountSid,
              MIN(CASE WHEN o.first_seen > s.last_seen THEN o.first_seen ELSE o.last_seen END)
                AS leftAt
       FROM customer_numbers n
       JOIN number_accounts_seen s
         ON s.number_sid = n.number_sid AND s.account_sid = n.source_account_sid
       JOIN number_accounts_seen o
         ON o.number_sid = n.number_sid AND o.account_sid <> n.source_account_sid
            AND o.last_seen > s.last_seen
       GROUP BY n.number_sid, n.source_account_sid`,
    )
    .all() as { numberSid: string; accountSid: string; leftAt: string }[];
  if (rows.length === 0) return [];
  const byApply = leftByApply(db);
  return rows.filter((r) => !byApply(r.numberSid, r.accountSid));
}

/**
 * Whether an apply of this journal took, or may have taken, a number out of an account: a
 * finished transfer out of it (`numbersLeft`), or a transfer step whose intent names it (the
 * request it sent: POST …/Accounts/<from>/IncomingPhoneNumbers/<number>.json), whatever its
 * state and its run's: in flight when apply was killed (the run given up for a plan made again,
 * or not), or failed. Its departure is dated by the journal (a finished transfer) or not at all,
 * never by the listings.
 */
function leftByApply(db: Db): (numberSid: string, accountSid: string) => boolean {
  const finished = new Set(numbersLeft(db).map((d) => `${d.numberSid}|${d.accountSid}`));
  // Per number asked about, each run's step of it by its key: never the whole event log.
  const sent = db.prepare(
    `SELECT 1 FROM apply_runs r
     JOIN apply_events e ON e.run_id = r.id AND e.step_id = 'transfer_number:' || :number
     WHERE e.kind = 'intent'
       AND e.detail_json ->> '$.request' =
             'POST /2010-04-01/Accounts/' || :account || '/IncomingPhoneNumbers/' || :number
             || '.json'
     LIMIT 1`,
  );
  return (numberSid, accountSid) =>
    finished.has(`${numberSid}|${accountSid}`) ||
    sent.get({ number: numberSid, account: accountSid }) !== undefined;
}

/** A number's finished move out of an account (`numbersLeft`). */
export interface NumberLeft {
  numberSid: string;
  /** The apply run that moved it out. */
  runId: number;
  accountSid: string;
  /** ISO 8601 UTC. */
  leftAt: string;
}

/**
 * Every finished transfer of a number out of an account, with when it finished (ISO 8601 UTC):
 * the moves `lastDepartures` takes the latest of per account, number by number, so that a
 * customer's list is judged by the spans its own numbers were in each account, not by the
 * latest move of any number out of it (a wave-1 customer's list does not depend on whether
 * wave 2's moves out of the parent were read). The same two sources as `lastDepartures`: a
 * number moved once out of the parent it was planned from left the run's parent; every other
 * move is `numberDepartures`'. One query for the numbers moved once, whatever their count.
 */
export function numbersLeft(db: Db): NumberLeft[] {
  const fromParent = db
    .prepare(
      `${MOVED_ONCE_FROM_PARENT_WITH}
       SELECT substr(s.step_id, length('transfer_number:') + 1) AS numberSid, s.run_id AS runId,
              r.parent_account_sid AS accountSid,
              COALESCE(s.finished_at, s.started_at) AS leftAt
       ${MOVED_ONCE_FROM_PARENT}`,
    )
    .all() as NumberLeft[];
  return [
    ...fromParent,
    ...numberDepartures(db).map((d) => ({
      numberSid: d.numberSid,
      runId: d.runId,
      accountSid: d.accountSid,
      leftAt: d.leftAt,
    })),
  ];
}

/**
 * The windows earlier reconcile passes read of an account (not those of other snapshots), with
 * the keyword rules (RULES_VERSION) each pass classified its messages by.
 */
export function reconcileWindows(
  db: Db,
  accountSid: string,
): { windowStart: string; windowEnd: string; rulesVersion: number }[] {
  return db
    .prepare(
      `SELECT w.window_start AS windowStart, w.window_end AS windowEnd,
              r.rules_version AS rulesVersion
       FROM snapshot_windows w JOIN reconcile_passes p ON p.snapshot_run_id = w.run_id
       JOIN snapshot_runs r ON r.id = w.run_id
       WHERE w.account_sid = ?
       ORDER BY w.window_start`,
    )
    .all(accountSid) as { windowStart: string; windowEnd: string; rulesVersion: number }[];
}

export interface Violation {
  violatingMessageSid: string;
  recipient: string;
  senderNumber: string;
  messagingServiceSid: string | null;
  customerId: string;
  stopMessageSid: string | null;
  optedOutAt: string;
  sentAt: string;
  accountSid: string;
  status: string;
}

export interface BlockedSend {
  messageSid: string;
  recipient: string;
  senderNumber: string;
  customerId: string;
  sentAt: string;
  accountSid: string;
}

/** A message a moved number sent, as reconcile reads it. */
export interface SentMessage {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  status: string;
  errorCode: number | null;
  messagingServiceSid: string | null;
  /** ISO 8601 UTC. */
  sentAt: string;
}

/**
 * A send kept pending, with what it was found against: the customer its number was with and
 * the opt-out that listed its recipient (null on one kept before migration 015).
 */
export interface KeptSend extends SentMessage {
  customerId: string | null;
  stopMessageSid: string | null;
  optedOutAt: string | null;
}

/**
 * The sends earlier passes left pending (to a listed recipient, after a span no pass had
 * read), kept until a pass judges them.
 */
export function pendingSends(db: Db): KeptSend[] {
  return db
    .prepare(
      `SELECT message_sid AS sid, account_sid AS accountSid, from_number AS "from",
              to_number AS "to", status, error_code AS errorCode,
              messaging_service_sid AS messagingServiceSid, sent_at AS sentAt,
              customer_id AS customerId, stop_message_sid AS stopMessageSid,
              opted_out_at AS optedOutAt
       FROM pending_sends ORDER BY sent_at, message_sid`,
    )
    .all() as KeptSend[];
}

/**
 * The customers whose sends a pass held to a suppression list that was not whole, and from when
 * (the first of their moves): customer → since. Kept until a pass, their list whole, has read
 * their sends again from then (`markJudgedNotWhole`).
 */
export function judgedNotWhole(db: Db): Map<string, string> {
  const rows = db
    .prepare('SELECT customer_id AS customerId, since FROM reconcile_judged_not_whole')
    .all() as { customerId: string; since: string }[];
  return new Map(rows.map((r) => [r.customerId, r.since]));
}

/**
 * A span in which a customer's sends were held to a list that was not whole and that no pass
 * can read again over the whole list (migration 023): older than the subaccount's Messages API
 * window by the time the list was whole (`retention`), or sent from a number that has moved on
 * to another customer since (`numbers-left`). Kept for good.
 */
export interface NeverJudgedWhole {
  customerId: string;
  accountSid: string;
  /** ISO 8601 UTC. */
  start: string;
  end: string;
  reason: 'retention' | 'numbers-left';
}

export function neverJudgedWhole(db: Db): NeverJudgedWhole[] {
  return db
    .prepare(
      `SELECT customer_id AS customerId, account_sid AS accountSid, start, "end", reason
       FROM reconcile_never_judged_whole ORDER BY start, customer_id, account_sid, reason`,
    )
    .all() as NeverJudgedWhole[];
}

/**
 * Records what a pass leaves: `marked` (customer → since), the customers whose sends it held to
 * a list that was not whole (the earlier of two times kept), and `cleared`, those whose sends
 * it read again from their mark with their list whole, or as much of them as any pass can read:
 * `lost`, the spans of theirs that no pass can read again, are kept instead, for good.
 */
export function markJudgedNotWhole(
  db: Db,
  marked: ReadonlyMap<string, string>,
  cleared: readonly string[],
  lost: readonly NeverJudgedWhole[] = [],
): void {
  const mark = db.prepare(
    `INSERT INTO reconcile_judged_not_whole (customer_id, since) VALUES (?, ?)
     ON CONFLICT (customer_id) DO UPDATE SET since = MIN(since, excluded.since)`,
  );
  const clear = db.prepare('DELETE FROM reconcile_judged_not_whole WHERE customer_id = ?');
  // Two spans from the same start (two numbers there at the mark, that left at different
  // times) are one, to the later end: neither is a copy of the other to be ignored.
  const keep = db.prepare(
    `INSERT INTO reconcile_never_judged_whole (customer_id, account_sid, start, "end", reason)
     VALUES (@customerId, @accountSid, @start, @end, @reason)
     ON CONFLICT (customer_id, account_sid, start, reason)
       DO UPDATE SET "end" = MAX("end", excluded."end")`,
  );
  db.transaction(() => {
    for (const customer of cleared) clear.run(customer);
    for (const [customer, since] of marked) mark.run(customer, since);
    for (const span of lost) keep.run(span);
  })();
}

/**
 * A moved number a pass found in another account than the subaccount it is held to, with no
 * step of apply's that put it there (`reconcile_numbers_away`): its sends there from `start` to
 * `end` were read by no pass.
 */
export interface NumberAway {
  numberSid: string;
  phoneNumber: string;
  customerId: string;
  /** The subaccount it was held to (where apply last put it). */
  subaccountSid: string;
  /**
   * Where it was found; '' when it was found in no account listed while some subaccount could
   * not be listed (`NOT_FOUND` in src/reconcile/away.ts).
   */
  accountSid: string;
  /** ISO 8601 UTC. */
  start: string;
  end: string;
  /**
   * When Twilio last changed it where a pass found it (its listing's `date_updated`, ISO 8601
   * UTC): a move by hand sets it. Given only for a number whose transfer failed; not recorded.
   */
  changedAt?: string;
}

/** Records numbers found away (a span already recorded is carried on to the later `end`). */
export function recordNumbersAway(db: Db, away: readonly NumberAway[]): void {
  const keep = db.prepare(
    `INSERT INTO reconcile_numbers_away
       (number_sid, phone_number, customer_id, subaccount_sid, account_sid, start, "end")
     VALUES (@numberSid, @phoneNumber, @customerId, @subaccountSid, @accountSid, @start, @end)
     ON CONFLICT (number_sid, account_sid, start) DO UPDATE SET "end" = MAX("end", excluded."end")`,
  );
  db.transaction(() => {
    for (const span of away) keep.run(span);
  })();
}

/** When each reconcile pass began (its snapshot run's start) and finished, ISO 8601 UTC. */
export interface PassTime {
  startedAt: string;
  finishedAt: string;
}

/** Every reconcile pass's `PassTime`, in the order they began. */
export function passTimes(db: Db): PassTime[] {
  return db
    .prepare(
      `SELECT r.started_at AS startedAt, p.finished_at AS finishedAt
       FROM reconcile_passes p JOIN snapshot_runs r ON r.id = p.snapshot_run_id
       ORDER BY r.started_at, p.id`,
    )
    .all() as PassTime[];
}

/** Every span a pass found a moved number away from its subaccount, oldest first. */
export function numbersAway(db: Db): NumberAway[] {
  return db
    .prepare(
      `SELECT number_sid AS numberSid, phone_number AS phoneNumber, customer_id AS customerId,
              subaccount_sid AS subaccountSid, account_sid AS accountSid, start, "end"
       FROM reconcile_numbers_away ORDER BY start, phone_number, account_sid`,
    )
    .all() as NumberAway[];
}

/**
 * A pass and what it found; returns how many of its findings were new. `pending` are the sends
 * it leaves pending (kept), `settled` those an earlier pass left pending that it judged.
 */
export function recordPass(
  db: Db,
  pass: { snapshotRunId: number; finishedAt: string; sendsChecked: number },
  violations: readonly Violation[],
  blocked: readonly BlockedSend[],
  pending: { keep: readonly KeptSend[]; settled: readonly string[] } = {
    keep: [],
    settled: [],
  },
): { id: number; newViolations: number; newBlocked: number } {
  return db.transaction(() => {
    const id = Number(
      db
        .prepare(
          `INSERT INTO reconcile_passes (snapshot_run_id, finished_at, sends_checked, blocked, violations)
           VALUES (?, ?, ?, 0, 0)`,
        )
        .run(pass.snapshotRunId, pass.finishedAt, pass.sendsChecked).lastInsertRowid,
    );
    const insert = db.prepare(
      `INSERT OR IGNORE INTO violations (violating_message_sid, recipient, sender_number,
         messaging_service_sid, customer_id, stop_message_sid, opted_out_at, sent_at, account_sid,
         status, pass_id)
       VALUES (@violatingMessageSid, @recipient, @senderNumber, @messagingServiceSid, @customerId,
         @stopMessageSid, @optedOutAt, @sentAt, @accountSid, @status, @pass)`,
    );
    let newViolations = 0;
    for (const v of violations) newViolations += insert.run({ ...v, pass: id }).changes;
    const block = db.prepare(
      `INSERT OR IGNORE INTO blocked_sends (message_sid, recipient, sender_number, customer_id,
         sent_at, account_sid, pass_id)
       VALUES (@messageSid, @recipient, @senderNumber, @customerId, @sentAt, @accountSid, @pass)`,
    );
    let newBlocked = 0;
    for (const b of blocked) newBlocked += block.run({ ...b, pass: id }).changes;
    const settle = db.prepare('DELETE FROM pending_sends WHERE message_sid = ?');
    for (const sid of pending.settled) settle.run(sid);
    const keep = db.prepare(
      `INSERT OR REPLACE INTO pending_sends (message_sid, account_sid, from_number, to_number,
         status, error_code, messaging_service_sid, sent_at, pass_id, customer_id,
         stop_message_sid, opted_out_at)
       VALUES (@sid, @accountSid, @from, @to, @status, @errorCode, @messagingServiceSid, @sentAt,
         @pass, @customerId, @stopMessageSid, @optedOutAt)`,
    );
    for (const p of pending.keep) keep.run({ ...p, pass: id });
    db.prepare('UPDATE reconcile_passes SET violations = ?, blocked = ? WHERE id = ?').run(
      newViolations,
      newBlocked,
      id,
    );
    return { id, newViolations, newBlocked };
  })();
}

/**
 * Opt-ins the subaccounts received (after the move): they lift a suppression from then on.
 * One through a SID not known as a service (none a snapshot or plan saw in the account, none an
 * apply put a number in) is given as its number's alone: Twilio may write one default SID on
 * every message without a service ("A unique default value is assigned if a Messaging Service
 * is not used"), and a START to one such number does not lift a STOP to another.
 */
export function optInsIn(
  db: Db,
  accountSids: readonly string[],
): { recipient: string; twilioNumber: string; messagingServiceSid: string | null; at: string }[] {
  if (accountSids.length === 0) return [];
  return db
    .prepare(
      `SELECT end_user AS recipient, twilio_number AS twilioNumber,
              CASE WHEN ${KNOWN_SERVICE}
                     OR EXISTS (SELECT 1 FROM apply_steps a
                                WHERE a.action = 'attach_number' AND a.state IN ('done', 'skipped')
                                  AND json_extract(a.result_json, '$.service_sid')
                                      = e.messaging_service_sid)
                   THEN e.messaging_service_sid END AS messagingServiceSid,
              date_sent AS at
       FROM ledger_events e
       WHERE kind = 'opt-in' AND account_sid IN (${accountSids.map(() => '?').join(', ')})`,
    )
    .all(...accountSids) as {
    recipient: string;
    twilioNumber: string;
    messagingServiceSid: string | null;
    at: string;
  }[];
}

/** A violation as the reports show it: with the message that put the recipient on the list. */
export interface ListedViolation extends Violation {
  evidence: 'keyword' | 'refusal';
  /**
   * The STOP, or for a pair known from refusals only the parent's refused send it was listed
   * from (null if that send is no longer in the ledger).
   */
  evidenceMessageSid: string | null;
}

/**
 * A violation keeps its STOP; a refusal-only pair has none, and its evidence is found again in
 * the ledger as the ledger chose it: the first refused send of the pair (the recipient, in the
 * scope of the number's list: the number itself without a service, or the service it left)
 * in the account the number left, at opted_out_at, the smallest SID of that second. For a
 * number a later wave moved on, that is the account it was in at opted_out_at (the parent, for
 * a refusal before wave 1), not the one it left last (`evidenceWhereItWas`). A send from a
 * sender that is no phone number (an RCS agent, a short code, a sender ID; no `+`) was held to
 * the lists of its customer's moved numbers: the refusal is looked up among all of them.
 * Refused in both scopes in that second (through the service and without it), the one a pair
 * stands from is named (`evidenceOf`), not the other scope's, refused after that scope's STOP.
 */
export function listViolations(db: Db): ListedViolation[] {
  const listed = db
    .prepare(
      `SELECT violating_message_sid AS violatingMessageSid, recipient, sender_number AS senderNumber,
              messaging_service_sid AS messagingServiceSid, customer_id AS customerId,
              stop_message_sid AS stopMessageSid, opted_out_at AS optedOutAt, sent_at AS sentAt,
              account_sid AS accountSid, status,
              CASE WHEN stop_message_sid IS NULL THEN 'refusal' ELSE 'keyword' END AS evidence,
              stop_message_sid AS evidenceMessageSid
       FROM violations v ORDER BY customer_id, sent_at, violating_message_sid`,
    )
    .all() as ListedViolation[];
  const atSource = db.prepare(
    `SELECT e.message_sid AS sid
     FROM customer_numbers n
     JOIN ledger_events e
       ON e.account_sid = n.source_account_sid AND e.end_user = ?
      AND e.date_sent = ? AND e.kind = 'refused'
      AND (e.messaging_service_sid = n.source_service_sid
           OR (e.messaging_service_sid IS NULL AND e.twilio_number = n.phone_number))
     WHERE n.customer_id = ? AND (n.phone_number = ? OR ? NOT LIKE '+%')`,
  );
  const refusalOnly = listed.filter((v) => v.evidence === 'refusal');
  for (const v of refusalOnly) {
    const found = atSource.all(
      v.recipient,
      v.optedOutAt,
      v.customerId,
      v.senderNumber,
      v.senderNumber,
    ) as { sid: string }[];
    v.evidenceMessageSid = evidenceOf(
      db,
      found.map((f) => f.sid),
    );
  }
  const unfound = refusalOnly.filter((v) => v.evidenceMessageSid === null);
  if (unfound.length > 0) evidenceWhereItWas(db, unfound);
  return listed;
}

/**
 * Of the refused sends found for a refusal-only violation (none: null), the one named as its
 * evidence: one a pair stands from (`refusalsPairsStandFrom`) — the pair the violation was held
 * to has no STOP, so its refusal is the first since its last opt-in — the smallest SID of those,
 * else of all (a real refusal of the pair, whichever stood).
 */
function evidenceOf(db: Db, sids: readonly string[]): string | null {
  const unique = [...new Set(sids)].sort();
  if (unique.length <= 1) return unique[0] ?? null;
  return refusalsPairsStandFrom(db, unique)[0] ?? unique[0]!;
}

/**
 * The refused send behind each refusal-only violation the lookup in its number's latest source
 * did not find, looked up in the account the number was in when it was refused: the first it
 * left after that instant, with the service it left it from (`numberDepartures`). A number
 * moved once has no departures here: its latest source is where it was. A send from a sender
 * that is no phone number (an RCS agent) has no number of its own: each of its customer's
 * numbers is tried, as the lookup in the latest source tries them, one kept as `evidenceOf` does.
 */
function evidenceWhereItWas(db: Db, violations: ListedViolation[]): void {
  const departures = departuresByNumber(db);
  const numbersOf = db.prepare(
    `SELECT number_sid AS sid, phone_number AS phoneNumber FROM customer_numbers
     WHERE customer_id = ? AND (phone_number = ? OR ? NOT LIKE '+%')`,
  );
  const refused = db.prepare(
    `SELECT message_sid AS sid FROM ledger_events
     WHERE account_sid = ? AND end_user = ? AND date_sent = ? AND kind = 'refused'
       AND (messaging_service_sid = ? OR (messaging_service_sid IS NULL AND twilio_number = ?))`,
  );
  for (const v of violations) {
    const numbers = numbersOf.all(v.customerId, v.senderNumber, v.senderNumber) as {
      sid: string;
      phoneNumber: string;
    }[];
    const refusedAt = Date.parse(v.optedOutAt);
    const found = numbers.flatMap((number) => {
      const then = (departures.get(number.sid) ?? []).find((d) => Date.parse(d.leftAt) > refusedAt);
      if (then === undefined) return [];
      return (
        refused.all(
          then.accountSid,
          v.recipient,
          v.optedOutAt,
          then.serviceSid,
          number.phoneNumber,
        ) as { sid: string }[]
      ).map((r) => r.sid);
    });
    v.evidenceMessageSid = evidenceOf(db, found);
  }
  const unfound = violations.filter((v) => v.evidenceMessageSid === null);
  if (unfound.length > 0) evidenceWhereSeen(db, unfound, numbersOf, refused);
}

/**
 * The refused send behind each refusal-only violation still unfound, looked up where the number
 * is known to have been (`serviceEvidenceByNumber`: the services a listing saw it in, those its
 * own evidence came through, and the accounts it took evidence in outside any service), as its
 * suppression list took the pair from there. A database of a version whose plan recorded the
 * subaccount a number was moved into by hand as its source (no service) names neither the
 * parent nor the service it left: the list still held it to the service's refusals. Also the
 * services an apply put the number in, in its customer's subaccount: a send without the
 * service is held to a refusal of another number's through it (docs/opt-out-rules.md, "A STOP
 * said after the move, in another account"), though no listing saw the number there and none
 * of its own evidence came through it.
 */
function evidenceWhereSeen(
  db: Db,
  violations: ListedViolation[],
  numbersOf: Statement,
  refused: Statement,
): void {
  const seen = serviceEvidenceByNumber(db, true);
  const attached = db.prepare(
    `SELECT was.subaccount_sid AS accountSid, s.result_json ->> '$.service_sid' AS service
     FROM apply_steps s
     JOIN customer_numbers n ON s.step_id = 'attach_number:' || n.number_sid
     JOIN customer_subaccounts was ON was.customer_id = s.customer_id
     WHERE s.action = 'attach_number' AND s.state IN ('done', 'skipped')
       AND s.result_json ->> '$.service_sid' IS NOT NULL AND n.phone_number = ?`,
  );
  for (const v of violations) {
    const numbers = numbersOf.all(v.customerId, v.senderNumber, v.senderNumber) as {
      phoneNumber: string;
    }[];
    const found = numbers.flatMap((number) =>
      [
        ...(seen.get(number.phoneNumber) ?? []),
        ...(attached.all(number.phoneNumber) as { accountSid: string; service: string }[]),
      ].flatMap(({ accountSid, service }) => {
        const rows = refused.all(
          accountSid,
          v.recipient,
          v.optedOutAt,
          service,
          number.phoneNumber,
        ) as { sid: string }[];
        return rows.map((r) => r.sid);
      }),
    );
    v.evidenceMessageSid = evidenceOf(db, found);
  }
}

export interface ReconcileTotals {
  passes: number;
  lastPassAt: string | null;
  violations: number;
  blocked: number;
  /** Blocked sends per customer. */
  blockedBy: Map<string, number>;
}

export function reconcileTotals(db: Db): ReconcileTotals {
  const passes = db
    .prepare('SELECT COUNT(*) AS n, MAX(finished_at) AS last FROM reconcile_passes')
    .get() as { n: number; last: string | null };
  const violations = (db.prepare('SELECT COUNT(*) AS n FROM violations').get() as { n: number }).n;
  const blocked = db
    .prepare('SELECT customer_id AS id, COUNT(*) AS n FROM blocked_sends GROUP BY customer_id')
    .all() as { id: string; n: number }[];
  return {
    passes: passes.n,
    lastPassAt: passes.last,
    violations,
    blocked: blocked.reduce((n, b) => n + b.n, 0),
    blockedBy: new Map(blocked.map((b) => [b.id, b.n])),
  };
}

/** A run of apply's last change to a number: when, and when that run began. */
export interface ApplyTouch {
  /** The latest finish (or, not finished, start) of the run's steps on the number. */
  at: string;
  /** When the run began (ISO 8601 UTC). */
  runBegan: string;
}

/**
 * When each run of apply's last changed each number (by number SID, in no order): the
 * latest finish (or, not finished, start) of any of its steps on it — its transfer, its attach
 * to a service, its webhook — in whatever state (a failed step may have taken effect), with
 * when that run began. A change Twilio dated later was none of apply's; one dated no later may
 * be hidden by it (`changedSince` counts only a run begun by the number's arrival).
 */
export function applyTouchedNumbers(db: Db): Map<string, ApplyTouch[]> {
  const rows = db
    .prepare(
      `SELECT substr(s.step_id, instr(s.step_id, ':') + 1) AS numberSid,
              MAX(COALESCE(s.finished_at, s.started_at)) AS at, r.started_at AS runBegan
       FROM apply_steps s JOIN apply_runs r ON r.id = s.run_id
       WHERE s.action IN ('detach_number', 'transfer_number', 'attach_number', 'set_number_webhook')
         AND COALESCE(s.finished_at, s.started_at) IS NOT NULL
       GROUP BY numberSid, s.run_id`,
    )
    .all() as ({ numberSid: string } & ApplyTouch)[];
  const touched = new Map<string, ApplyTouch[]>();
  for (const { numberSid, ...touch } of rows) {
    const theirs = touched.get(numberSid);
    if (theirs === undefined) touched.set(numberSid, [touch]);
    else theirs.push(touch);
  }
  return touched;
}

/**
 * The mapped numbers an applied plan found already in their customer's subaccount, that no
 * transfer step moved and no listing or evidence knew elsewhere (their recorded source is that
 * subaccount), shaped as moved numbers: `moveBegan` and `movedAt` are when an applied plan
 * first saw each there. Not held to a list by reconcile (nothing they carried was forgotten),
 * but looked for each pass as moved numbers are: moved out by hand since, they send from where
 * they are with the STOPs said to them in their subaccount forgotten. `moved`: the moved
 * numbers' SIDs, left out.
 */
export function numbersFoundInPlace(db: Db, moved: ReadonlySet<string>): MovedNumber[] {
  const rows = db
    .prepare(
      `WITH placed AS MATERIALIZED (
         SELECT n.number_sid, n.phone_number, n.customer_id, c.subaccount_sid,
                n.source_account_sid, n.source_service_sid
         FROM customer_numbers n
         JOIN customer_subaccounts c ON c.customer_id = n.customer_id
         WHERE n.source_account_sid = c.subaccount_sid),
       -- Each applied plan's numbers where it saw them, each plan parsed once (asked for beside
       -- each number, a plan is parsed again for each), and only when some number is placed.
       observed AS MATERIALIZED (
         SELECT substr(o.key, length('number:') + 1) AS number_sid,
                o.value ->> '$.account_sid' AS account_sid,
                p.plan_json ->> '$.created_at' AS created_at
         FROM apply_runs p, json_each(p.plan_json, '$.observed') o
         WHERE EXISTS (SELECT 1 FROM placed) AND o.key LIKE 'number:%')
       SELECT u.number_sid AS numberSid, u.phone_number AS phoneNumber,
              u.customer_id AS customerId, u.subaccount_sid AS subaccountSid,
              u.source_account_sid AS sourceAccountSid, u.source_service_sid AS sourceServiceSid,
              MIN(v.created_at) AS movedAt, MIN(v.created_at) AS moveBegan,
              NULL AS subaccountCreatedAt
       FROM placed u
       JOIN observed v ON v.number_sid = u.number_sid AND v.account_sid = u.subaccount_sid
       GROUP BY u.number_sid
       ORDER BY customerId, phoneNumber`,
    )
    .all() as MovedNumber[];
  return rows.filter((r) => !moved.has(r.numberSid) && r.movedAt !== null);
}

/**
 * The mapped numbers whose transfer the latest apply run that planned one failed or did not run
 * (Twilio refused it, or a step it depends on failed), that no finished transfer holds in a
 * customer's subaccount and no applied plan found in place, shaped as moved numbers: held to
 * no list, but looked for each pass. Still in the account their plan recorded they come from,
 * they send where Twilio keeps their opt-outs; found anywhere else, someone moved them by hand
 * since apply checked them there (the drift check), and they send with those opt-outs forgotten.
 * `moveBegan` and `movedAt` are when that run began (its drift check found them in place after
 * it); `moveBegan` no later than when a transfer of it an earlier run left in flight was sent,
 * if one did (killed, its run given up for the plan made again: Twilio may have made it, the
 * number back by hand before that run, its STOPs heard elsewhere meanwhile), and `settledLate`
 * then (away-search.ts `changedSince` knows it where it comes from only from then);
 * `subaccountSid` is their customer's subaccount, or the account they come from when the
 * customer has none yet. `held`: the SIDs of the numbers held otherwise, left out.
 */
export function numbersNotMoved(db: Db, held: ReadonlySet<string>): MovedNumber[] {
  const rows = db
    .prepare(
      `WITH unmade AS MATERIALIZED (
         SELECT DISTINCT step_id FROM apply_steps
         WHERE action = 'transfer_number' AND state IN ('failed', 'not_run')),
       -- The latest run's step of each of those only: a migration whose transfers all went
       -- through groups nothing.
       latest AS MATERIALIZED (
         SELECT step_id, MAX(run_id) AS run_id FROM apply_steps
         WHERE action = 'transfer_number' AND step_id IN (SELECT step_id FROM unmade)
         GROUP BY step_id),
       -- The account each of those runs' transfers was to take its number out of, each run's
       -- plan parsed once.
       froms AS MATERIALIZED (
         SELECT r.id AS run_id, j.value ->> '$.id' AS step_id,
                j.value ->> '$.from_account_sid' AS from_sid
         FROM (SELECT DISTINCT run_id FROM latest) u
         JOIN apply_runs r ON r.id = u.run_id, json_each(r.plan_json, '$.steps') j
         WHERE j.value ->> '$.action' = 'transfer_number'),
       -- The earliest transfer of it an earlier run left in flight (killed, given up for the
       -- plan made again), after any that finished: Twilio may have made it when it was sent.
       -- (Grouped once, not asked beside each number: apply_steps has no index by step.)
       finished AS MATERIALIZED (
         SELECT d.step_id, MAX(d.run_id) AS run_id
         FROM apply_steps d JOIN latest l ON l.step_id = d.step_id AND d.run_id < l.run_id
         WHERE d.action = 'transfer_number' AND d.state IN ('done', 'skipped')
         GROUP BY d.step_id),
       unsettled AS MATERIALIZED (
         SELECT u.step_id, MIN(u.started_at) AS sent
         FROM apply_steps u JOIN latest l ON l.step_id = u.step_id AND u.run_id < l.run_id
         LEFT JOIN finished f ON f.step_id = u.step_id
         WHERE u.action = 'transfer_number' AND u.state = 'in_flight'
           AND u.started_at IS NOT NULL AND u.run_id > COALESCE(f.run_id, 0)
         GROUP BY u.step_id)
       SELECT n.number_sid AS numberSid, n.phone_number AS phoneNumber,
              n.customer_id AS customerId,
              COALESCE(c.subaccount_sid, n.source_account_sid) AS subaccountSid,
              n.source_account_sid AS sourceAccountSid, n.source_service_sid AS sourceServiceSid,
              r.started_at AS movedAt, r.started_at AS moveBegan, NULL AS subaccountCreatedAt,
              COALESCE(f.from_sid, n.source_account_sid) AS transferFromSid,
              us.sent AS unsettledSent
       FROM latest l
       JOIN apply_steps s ON s.run_id = l.run_id AND s.step_id = l.step_id
       JOIN apply_runs r ON r.id = l.run_id
       JOIN customer_numbers n ON n.number_sid = substr(s.step_id, length('transfer_number:') + 1)
         AND s.step_id = 'transfer_number:' || n.number_sid
       LEFT JOIN customer_subaccounts c ON c.customer_id = n.customer_id
       LEFT JOIN froms f ON f.run_id = l.run_id AND f.step_id = l.step_id
       LEFT JOIN unsettled us ON us.step_id = l.step_id
       WHERE s.state IN ('failed', 'not_run')
       ORDER BY customerId, phoneNumber`,
    )
    .all() as (MovedNumber & { unsettledSent: string | null })[];
  return rows
    .filter((r) => !held.has(r.numberSid))
    .map(({ unsettledSent: sent, ...m }) =>
      // An earlier transfer of it left in flight: Twilio may have taken it out of the account
      // it comes from then, and someone moved it back there (or on) by hand since, before this
      // run's drift check found it there. It is known where it comes from only from then.
      sent !== null && Date.parse(sent) < Date.parse(m.moveBegan)
        ? { ...m, moveBegan: sent, settledLate: true as const }
        : m,
    );
}

/**
 * For each number `numbersNotMoved` gives, when the latest apply run that planned its transfer
 * had it refused (ISO 8601 UTC; the step's end, else its start): Twilio refuses a transfer of a
 * number no longer in the account it was to leave, so a number moved by hand had left it by
 * then. Null for a transfer that was not run (a step it depends on failed): nothing dates when
 * such a number left, by hand, the account it comes from. By number SID.
 */
export function unmadeTransferEnds(db: Db): Map<string, string | null> {
  const rows = db
    .prepare(
      `WITH unmade AS MATERIALIZED (
         SELECT DISTINCT step_id FROM apply_steps
         WHERE action = 'transfer_number' AND state IN ('failed', 'not_run')),
       latest AS (
         SELECT step_id, MAX(run_id) AS run_id FROM apply_steps
         WHERE action = 'transfer_number' AND step_id IN (SELECT step_id FROM unmade)
         GROUP BY step_id)
       SELECT substr(s.step_id, length('transfer_number:') + 1) AS numberSid,
              CASE WHEN s.state = 'failed' THEN COALESCE(s.finished_at, s.started_at) END AS at
       FROM latest l
       JOIN apply_steps s ON s.run_id = l.run_id AND s.step_id = l.step_id
       WHERE s.state IN ('failed', 'not_run')`,
    )
    .all() as { numberSid: string; at: string | null }[];
  return new Map(rows.map((r) => [r.numberSid, r.at]));
}

/**
 * The spans a mapped number was out of the account an apply was to move it from, as the
 * journal alone shows them: that apply's transfer of it failed or was not run (its drift check
 * had found it there as the run began), and the next transfer of it, in a later run, took it
 * (or was to take it: failed or not run again) out of another account (the plan made again
 * found it there: someone moved it by hand in between, which is why Twilio refused the first).
 * From the first run's start to that transfer's end (or, one left in flight by a run killed and
 * perhaps given up, to when it was sent) it sent from there with no step of apply's that put it
 * there, held to no list, though no pass found it there (`numbersNotMoved` is
 * looked for by passes; this is the span no pass ran in). Each such pair is a span: a number
 * refused twice, then moved, was away in the account the second run was to take it from.
 * `subaccountSid`: where the later transfer put it (else its customer's subaccount). Only the
 * plans of runs with such a transfer are read, each once.
 */
export function awayAfterUnmadeTransfer(db: Db): NumberAway[] {
  return db
    .prepare(
      `WITH unmade AS MATERIALIZED (
         SELECT DISTINCT step_id FROM apply_steps
         WHERE action = 'transfer_number' AND state IN ('failed', 'not_run')),
       steps AS MATERIALIZED (
         SELECT s.run_id, s.step_id, s.state, s.customer_id,
                COALESCE(s.finished_at, s.started_at) AS at,
                s.result_json ->> '$.to_account_sid' AS to_account, r.started_at AS run_began
         FROM apply_steps s JOIN apply_runs r ON r.id = s.run_id
         WHERE s.action = 'transfer_number' AND s.step_id IN (SELECT step_id FROM unmade)),
       planned AS MATERIALIZED (
         SELECT r.id AS run_id, 'transfer_number:' || (t.value ->> '$.number_sid') AS step_id,
                t.value ->> '$.from_account_sid' AS from_account,
                t.value ->> '$.phone_number' AS phone
         FROM apply_runs r, json_each(r.plan_json, '$.steps') t
         WHERE r.id IN (SELECT run_id FROM steps)
           AND t.value ->> '$.action' = 'transfer_number'),
       -- Each failed or unrun transfer with the next one of it (done, or failed or not run
       -- again: a number moved by hand, refused twice; or left in flight, by a run killed and
       -- given up for a plan made again: that plan found it where it was all the same), not
       -- only the one just before a done.
       ordered AS (
         SELECT s.*, p.from_account, p.phone,
                LEAD(s.state) OVER w AS next_state,
                LEAD(p.from_account) OVER w AS next_from,
                LEAD(s.at) OVER w AS next_at,
                LEAD(s.to_account) OVER w AS next_to
         FROM steps s JOIN planned p ON p.run_id = s.run_id AND p.step_id = s.step_id
         WINDOW w AS (PARTITION BY s.step_id ORDER BY s.run_id))
       SELECT substr(o.step_id, length('transfer_number:') + 1) AS numberSid,
              o.phone AS phoneNumber, o.customer_id AS customerId,
              COALESCE(o.next_to, c.subaccount_sid, o.next_from) AS subaccountSid,
              o.next_from AS accountSid, o.run_began AS start, o.next_at AS "end"
       FROM ordered o LEFT JOIN customer_subaccounts c ON c.customer_id = o.customer_id
       WHERE o.state IN ('failed', 'not_run')
         AND o.next_state IN ('done', 'skipped', 'failed', 'not_run', 'in_flight')
         AND o.from_account IS NOT o.next_from AND o.next_from IS NOT NULL
         AND o.next_at IS NOT NULL
       ORDER BY start, numberSid`,
    )
    .all() as NumberAway[];
}
