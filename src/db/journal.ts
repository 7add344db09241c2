/**
 * The apply journal's queries: runs, the state of each step, the append-only event log, and
 * the lock that keeps one apply per database. Intents and results are each one transaction:
 * the state row and its event change together or not at all.
 */

import { markMoving } from './customers.js';
import type { Db } from './open.js';
import { statement } from './statements.js';

export type StepState = 'pending' | 'in_flight' | 'done' | 'skipped' | 'failed' | 'not_run';

export interface ApplyRun {
  id: number;
  planPath: string;
  planIntegrity: string;
  planFingerprint: string;
  parentAccountSid: string;
  status: 'running' | 'completed' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  optionsJson: string;
  notesJson: string;
}

export interface StepRecord {
  stepId: string;
  position: number;
  action: string;
  customerId: string;
  state: StepState;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  result: Record<string, string> | null;
  errorStatus: number | null;
  errorCode: number | null;
  errorMessage: string | null;
}

const RUN_COLUMNS = `id, plan_path AS planPath, plan_integrity AS planIntegrity,
  plan_fingerprint AS planFingerprint, parent_account_sid AS parentAccountSid, status,
  started_at AS startedAt, finished_at AS finishedAt, options_json AS optionsJson,
  notes_json AS notesJson`;

export function findRunByPlan(db: Db, integrity: string): ApplyRun | undefined {
  return db
    .prepare(`SELECT ${RUN_COLUMNS} FROM apply_runs WHERE plan_integrity = ?`)
    .get(integrity) as ApplyRun | undefined;
}

export function getApplyRun(db: Db, id: number): ApplyRun | undefined {
  return db.prepare(`SELECT ${RUN_COLUMNS} FROM apply_runs WHERE id = ?`).get(id) as
    ApplyRun | undefined;
}

/** The plan a run applied, as it was applied. */
export function runPlanJson(db: Db, id: number): string {
  return (
    db.prepare('SELECT plan_json AS json FROM apply_runs WHERE id = ?').get(id) as {
      json: string;
    }
  ).json;
}

export function listApplyRuns(db: Db): ApplyRun[] {
  return db.prepare(`SELECT ${RUN_COLUMNS} FROM apply_runs ORDER BY id`).all() as ApplyRun[];
}

/** Whether an `apply_runs` row sent or settled a detach, transfer, attach or webhook step. */
const MOVED_NUMBERS = `EXISTS (
  SELECT 1 FROM apply_steps
  WHERE apply_steps.run_id = apply_runs.id
    AND apply_steps.action IN
      ('detach_number', 'transfer_number', 'attach_number', 'set_number_webhook')
    AND apply_steps.state NOT IN ('pending', 'not_run'))`;

/**
 * The latest run that moved numbers (a detach, transfer, attach or webhook step it sent or
 * settled), else the latest run (undefined when there is none). "The latest run" to a reader
 * is the migration: not a run of a plan with no changes, a run that only carried opt-outs, or
 * a new run refused before its first write.
 */
export function latestApplyRun(db: Db): ApplyRun | undefined {
  return db
    .prepare(
      `SELECT ${RUN_COLUMNS} FROM apply_runs
       ORDER BY ${MOVED_NUMBERS} DESC, id DESC
       LIMIT 1`,
    )
    .get() as ApplyRun | undefined;
}

/** Every run that moved numbers (as `latestApplyRun` counts them), oldest first. */
export function runsThatMovedNumbers(db: Db): ApplyRun[] {
  return db
    .prepare(`SELECT ${RUN_COLUMNS} FROM apply_runs WHERE ${MOVED_NUMBERS} ORDER BY id`)
    .all() as ApplyRun[];
}

export function createApplyRun(
  db: Db,
  run: Pick<
    ApplyRun,
    | 'planPath'
    | 'planIntegrity'
    | 'planFingerprint'
    | 'parentAccountSid'
    | 'startedAt'
    | 'optionsJson'
  > & { planJson: string },
  steps: readonly { id: string; action: string; customerId: string }[],
  /**
   * The apply holding the lock: the lock names the run in the same transaction, so that no
   * kill leaves a run begun under a lock that does not name it (the next apply would take it
   * for one that had begun no run).
   */
  lockedBy?: LockTaker,
): number {
  return db.transaction(() => {
    const id = Number(
      db
        .prepare(
          `INSERT INTO apply_runs (plan_path, plan_integrity, plan_fingerprint, parent_account_sid,
             status, started_at, options_json, plan_json)
           VALUES (?, ?, ?, ?, 'running', ?, ?, ?)`,
        )
        .run(
          run.planPath,
          run.planIntegrity,
          run.planFingerprint,
          run.parentAccountSid,
          run.startedAt,
          run.optionsJson,
          run.planJson,
        ).lastInsertRowid,
    );
    const insert = db.prepare(
      `INSERT INTO apply_steps (run_id, step_id, position, action, customer_id, state)
       VALUES (?, ?, ?, ?, ?, 'pending')`,
    );
    steps.forEach((step, position) =>
      insert.run(id, step.id, position, step.action, step.customerId),
    );
    if (lockedBy !== undefined && !setLockRun(db, id, lockedBy)) throw new LockLostError();
    return id;
  })();
}

/** A run taken up again: running from now, its options those it began with. */
export function resumeApplyRun(db: Db, id: number): void {
  db.prepare("UPDATE apply_runs SET status = 'running', finished_at = NULL WHERE id = ?").run(id);
}

export function finishApplyRun(
  db: Db,
  id: number,
  status: 'completed' | 'failed',
  at: string,
  /**
   * The apply ending it: the run is marked finished only while it holds the lock (`isMine`),
   * in the same transaction; else LockLostError, nothing written. Another apply that
   * took the lock over has taken the run up again (running), and finishes it itself.
   */
  lockedBy?: LockTaker,
): void {
  db.transaction(() => {
    if (lockedBy !== undefined && !holdsLockNow(db, lockedBy)) throw new LockLostError();
    statement(db, 'UPDATE apply_runs SET status = ?, finished_at = ? WHERE id = ?').run(
      status,
      at,
      id,
    );
  })();
}

/**
 * Whether `me` holds the apply lock now (its token, pid and host: `isMine`): one read of one
 * row. Every write apply sends to Twilio, and every step or batch it marks about to be sent,
 * asks it first.
 */
export function holdsLockNow(db: Db, me: LockTaker): boolean {
  return statement(db, `SELECT 1 FROM apply_lock WHERE ${MINE}`).get(...mine(me)) !== undefined;
}

export function listSteps(db: Db, runId: number): StepRecord[] {
  const rows = db
    .prepare(
      `SELECT step_id AS stepId, position, action, customer_id AS customerId, state, attempts,
              started_at AS startedAt, finished_at AS finishedAt, result_json AS resultJson,
              error_status AS errorStatus, error_code AS errorCode, error_message AS errorMessage
       FROM apply_steps WHERE run_id = ? ORDER BY position`,
    )
    .all(runId) as (Omit<StepRecord, 'result'> & { resultJson: string | null })[];
  return rows.map(({ resultJson, ...row }) => ({
    ...row,
    result: resultJson === null ? null : (JSON.parse(resultJson) as Record<string, string>),
  }));
}

function event(
  db: Db,
  runId: number,
  stepId: string | null,
  at: string,
  kind: 'intent' | 'result' | 'settled' | 'note',
  detail: unknown,
): void {
  statement(
    db,
    'INSERT INTO apply_events (run_id, step_id, at, kind, detail_json) VALUES (?, ?, ?, ?, ?)',
  ).run(runId, stepId, at, kind, JSON.stringify(detail));
}

/** Before the request: the step is in flight, and what it is about to send is on record. */
export function recordIntent(
  db: Db,
  runId: number,
  stepId: string,
  at: string,
  intent: unknown,
  /**
   * The apply sending it: the intent is written (and the step sent) only while it holds the
   * lock (`isMine`), in the same transaction; else LockLostError, nothing written.
   * Another apply that took the lock over reads the journal after it took it, so it finds every
   * step this one sent in flight (settled from live state, never sent blind), and this one
   * sends none it may send too.
   */
  lockedBy?: LockTaker,
): void {
  db.transaction(() => {
    if (lockedBy !== undefined && !holdsLockNow(db, lockedBy)) throw new LockLostError();
    statement(
      db,
      `UPDATE apply_steps SET state = 'in_flight', attempts = attempts + 1,
         started_at = COALESCE(started_at, ?)
       WHERE run_id = ? AND step_id = ?`,
    ).run(at, runId, stepId);
    event(db, runId, stepId, at, 'intent', intent);
    markMoving(db, stepId);
  })();
}

export type StepOutcome =
  | { state: 'done' | 'skipped'; result: Record<string, string>; how?: string }
  | { state: 'failed'; status: number | null; code: number | null; message: string };

/**
 * After the answer (or a settlement from live state): the outcome, and any retries the
 * request needed on top of the attempt the intent counted.
 */
export function recordOutcome(
  db: Db,
  runId: number,
  stepId: string,
  at: string,
  outcome: StepOutcome,
  options: {
    retries?: number;
    kind?: 'result' | 'settled';
    /**
     * The apply that sent the step: its outcome is recorded only while it holds the lock (pid
     * and host both), in the same transaction; else LockLostError, nothing written. An answer
     * that comes back after another apply took the lock over is not that apply's to override:
     * it found the step in flight, and settled it from Twilio's state itself.
     */
    lockedBy?: LockTaker;
  } = {},
): void {
  db.transaction(() => {
    if (options.lockedBy !== undefined && !holdsLockNow(db, options.lockedBy)) {
      throw new LockLostError();
    }
    if (outcome.state === 'failed') {
      statement(
        db,
        `UPDATE apply_steps SET state = 'failed', finished_at = ?, attempts = attempts + ?,
           error_status = ?, error_code = ?, error_message = ?
         WHERE run_id = ? AND step_id = ?`,
      ).run(at, options.retries ?? 0, outcome.status, outcome.code, outcome.message, runId, stepId);
    } else {
      statement(
        db,
        `UPDATE apply_steps SET state = ?, finished_at = ?, attempts = attempts + ?,
           result_json = ?, error_status = NULL, error_code = NULL, error_message = NULL
         WHERE run_id = ? AND step_id = ?`,
      ).run(outcome.state, at, options.retries ?? 0, JSON.stringify(outcome.result), runId, stepId);
      recordCreatedService(db, runId, stepId, at);
    }
    event(db, runId, stepId, at, options.kind ?? 'result', outcome);
  })();
}

/**
 * A service this run created (or adopted when settling its create) is a service of its
 * subaccount, which no snapshot lists: recorded as one (`recordServices`), an opt-in through it
 * lifts the service's opt-outs, as Twilio's does.
 */
function recordCreatedService(db: Db, runId: number, stepId: string, at: string): void {
  statement(
    db,
    `INSERT INTO messaging_services (account_sid, service_sid, first_seen_at)
       SELECT result_json ->> '$.account_sid', result_json ->> '$.service_sid', ?
       FROM apply_steps
       WHERE run_id = ? AND step_id = ? AND action = 'create_service'
         AND result_json ->> '$.account_sid' <> '' AND result_json ->> '$.service_sid' IS NOT NULL
     ON CONFLICT (account_sid, service_sid) DO NOTHING`,
  ).run(at, runId, stepId);
}

/**
 * Steps that cannot run because a step they depend on failed; only while `lockedBy` holds the
 * lock, when given (else LockLostError, nothing written: the run is another apply's).
 */
export function markNotRun(
  db: Db,
  runId: number,
  stepIds: readonly string[],
  at: string,
  lockedBy?: LockTaker,
): void {
  const update = db.prepare(
    "UPDATE apply_steps SET state = 'not_run', finished_at = ? WHERE run_id = ? AND step_id = ?",
  );
  db.transaction(() => {
    if (lockedBy !== undefined && !holdsLockNow(db, lockedBy)) throw new LockLostError();
    for (const id of stepIds) update.run(at, runId, id);
  })();
}

/** On a re-run, failed and skipped-for-failure steps are tried again. */
export function requeueUnfinished(db: Db, runId: number): void {
  db.prepare(
    "UPDATE apply_steps SET state = 'pending' WHERE run_id = ? AND state IN ('failed', 'not_run')",
  ).run(runId);
}

export function addNote(
  db: Db,
  runId: number,
  at: string,
  note: string,
  /**
   * The apply telling it: the note is written only while it holds the lock (`isMine`), in
   * the same transaction; else LockLostError, nothing written. One whose lock was
   * taken over writes nothing more into the run, which is the other apply's.
   */
  lockedBy?: LockTaker,
): void {
  db.transaction(() => {
    if (lockedBy !== undefined && !holdsLockNow(db, lockedBy)) throw new LockLostError();
    const row = db
      .prepare('SELECT notes_json AS notes FROM apply_runs WHERE id = ?')
      .get(runId) as {
      notes: string;
    };
    const notes = JSON.parse(row.notes) as { at: string; note: string }[];
    notes.push({ at, note });
    db.prepare('UPDATE apply_runs SET notes_json = ? WHERE id = ?').run(
      JSON.stringify(notes),
      runId,
    );
    event(db, runId, null, at, 'note', { note });
  })();
}

export interface EventRecord {
  stepId: string | null;
  at: string;
  kind: string;
  detail: unknown;
}

export function listEvents(db: Db, runId: number): EventRecord[] {
  return (
    db
      .prepare(
        `SELECT step_id AS stepId, at, kind, detail_json AS detail FROM apply_events
         WHERE run_id = ? ORDER BY id`,
      )
      .all(runId) as (Omit<EventRecord, 'detail'> & { detail: string })[]
  ).map((row) => ({ ...row, detail: JSON.parse(row.detail) as unknown }));
}

// ── the lock ──────────────────────────────────────────────────────────────────────────────

export interface LockHolder {
  runId: number | null;
  pid: number;
  hostname: string;
  acquiredAt: string;
  /** When its holder last renewed it (`renewLock`); null: written before renewals, or never. */
  renewedAt: string | null;
  /**
   * The token its process took it with (`LockTaker`); absent for a lock taken before
   * migration 033, which is never a process's own.
   */
  token?: string;
}

/**
 * An apply process as it takes the lock: its pid and host, which name it in messages and tell
 * a process of this machine that no longer runs, and a random token of its own (a UUID chosen
 * as the process starts), which alone tells its lock from another's. Two containers sharing a
 * hostname, each running node as pid 1 against one database, have the same pid and host; so
 * do an apply and the one that held the lock before a reboot, given the same pid.
 */
export interface LockTaker {
  pid: number;
  hostname: string;
  token: string;
}

/** An apply process, and how it tells whether a process of its machine runs (by pid). */
export type LockRunner = LockTaker & { isAlive(pid: number): boolean };

/** The lock row `me`'s own: its token, pid and host (a NULL token is no one's). */
const MINE = 'id = 1 AND token = ? AND pid = ? AND hostname = ?';
const mine = (me: LockTaker) => [me.token, me.pid, me.hostname] as const;

/**
 * Whether the lock `holder` is `me`'s own: taken with `me`'s token (its pid and host the
 * same too). One without a token, taken before migration 033, is another's.
 */
export function isMine(holder: LockHolder, me: LockTaker): boolean {
  return (
    holder.token !== undefined &&
    holder.token === me.token &&
    holder.pid === me.pid &&
    holder.hostname === me.hostname
  );
}

/**
 * Whether the process of `holder`, a lock not `me`'s own (`isMine`), cannot be seen from `me`'s
 * machine: on another host; or on this one under `me`'s own pid, where `isAlive` sees only `me`
 * (another container sharing this hostname, its apply pid 1 too; or a process from before a
 * restart, whose pid `me` was given). Whether it still runs is told by its renewals alone, as
 * for another machine. `me` may be a process that takes no lock (`status`, `report`).
 */
export function unseenFrom(holder: LockHolder, me: { pid: number; hostname: string }): boolean {
  return holder.hostname !== me.hostname || holder.pid === me.pid;
}

/** How often a running apply renews its lock (`renewLock`). */
export const LOCK_RENEW_MS = 5_000;

/**
 * How long a lock may go unrenewed before --take-over-lock may take it from another machine:
 * six renewals missed.
 */
export const LOCK_LIVE_MS = 30_000;

/**
 * The statement that clears the lock's renewal, for the person to run by hand once they know
 * the apply that holds it no longer runs (a renewal this submigrate cannot read); the tool never
 * runs it.
 */
export const CLEAR_RENEWAL_SQL = 'UPDATE apply_lock SET renewed_at = NULL WHERE id = 1';

/** How every submigrate writes a renewal: ISO 8601 UTC (`isoSeconds`), fractions allowed. */
const RENEWAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/**
 * The time of a lock's last renewal, in ms; null when it cannot be read as one (a database
 * edited by hand, or a renewal some other writer put there): not an ISO 8601 UTC instant.
 * `Date.parse` alone would read `5` as the year 2005, an apply that stopped long ago.
 */
export function renewalTime(renewedAt: string): number | null {
  if (!RENEWAL.test(renewedAt)) return null;
  const time = Date.parse(renewedAt);
  return Number.isNaN(time) ? null : time;
}

/**
 * Whether `holder` renewed the lock within LOCK_LIVE_MS before `now`, or after it (a clock ahead
 * of this machine's: taken as running, the safe side), or its renewal cannot be read as a time
 * (`renewalTime`: taken as running too; nothing says it stopped). A lock never renewed (NULL:
 * written before renewals, or given back as it was) is not.
 */
export function renewedLately(holder: LockHolder, now: string): boolean {
  if (holder.renewedAt === null) return false;
  const renewed = renewalTime(holder.renewedAt);
  if (renewed === null) return true;
  return Date.parse(now) - renewed < LOCK_LIVE_MS;
}

/** The same lock, as written: holder (token included), run, since when, last renewal. */
export function sameLock(a: LockHolder | undefined, b: LockHolder | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.pid === b.pid &&
    a.hostname === b.hostname &&
    a.token === b.token &&
    a.runId === b.runId &&
    a.acquiredAt === b.acquiredAt &&
    a.renewedAt === b.renewedAt
  );
}

/**
 * Takes the lock, or returns who holds it. A holder that `isAlive` says is gone (same host,
 * no such process) is taken over: the caller notes it.
 */
function readLock(db: Db): LockHolder | undefined {
  const row = db
    .prepare(
      `SELECT run_id AS runId, pid, hostname, acquired_at AS acquiredAt, renewed_at AS renewedAt,
              token
       FROM apply_lock WHERE id = 1`,
    )
    .get() as (Omit<LockHolder, 'token'> & { token: string | null }) | undefined;
  if (row === undefined) return undefined;
  const { token, ...holder } = row;
  return token === null ? holder : { ...holder, token };
}

/** Whoever the lock names, if anyone (alive or not); takes nothing. */
export function lockHolder(db: Db): LockHolder | undefined {
  return readLock(db);
}

/**
 * Another process that may still be running: one whose process cannot be seen from here
 * (`unseenFrom`: another host, or this host under `me`'s own pid) is taken to be.
 */
function holdsLock(holder: LockHolder, me: LockRunner): boolean {
  return !isMine(holder, me) && (unseenFrom(holder, me) || me.isAlive(holder.pid));
}

/** Who holds the apply lock so that `acquireLock` would refuse, if anyone; takes nothing. */
export function lockHeldAgainst(db: Db, me: LockRunner): LockHolder | undefined {
  const holder = readLock(db);
  return holder !== undefined && holdsLock(holder, me) ? holder : undefined;
}

/**
 * `takeOverFromOtherHost`: a holder whose process cannot be seen from here (`unseenFrom`: on
 * another host, a machine the database was copied from, a container since replaced; or on this
 * host under this process's own pid, another container sharing the hostname) is taken over, as
 * the person running apply says it no longer runs, unless it renewed the lock lately
 * (`renewedLately` at `at`): then it still runs there, and is not. `watched`, the lock as
 * apply watched it before (src/apply/lock-watch.ts: a renewal read by two clocks), is taken
 * over only as it still is. One on this host that runs is never taken over. The lock taken
 * names `me`'s token, and is renewed at `at`.
 */
export function acquireLock(
  db: Db,
  me: LockRunner,
  at: string,
  takeOverFromOtherHost = false,
  watched: LockHolder | null = null,
): { acquired: true; tookOverFrom: LockHolder | null } | { acquired: false; holder: LockHolder } {
  return db
    .transaction(() => {
      const holder = readLock(db);
      const released =
        takeOverFromOtherHost &&
        holder !== undefined &&
        unseenFrom(holder, me) &&
        !renewedLately(holder, at) &&
        (watched === null || sameLock(holder, watched));
      if (holder !== undefined && holdsLock(holder, me) && !released)
        return { acquired: false as const, holder };
      db.prepare(
        `INSERT INTO apply_lock (id, run_id, pid, hostname, acquired_at, renewed_at, token)
       VALUES (1, NULL, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET run_id = NULL, pid = excluded.pid,
         hostname = excluded.hostname, acquired_at = excluded.acquired_at,
         renewed_at = excluded.renewed_at, token = excluded.token`,
      ).run(me.pid, me.hostname, at, at, me.token);
      return {
        acquired: true as const,
        tookOverFrom: holder === undefined || isMine(holder, me) ? null : holder,
      };
    })
    .immediate();
}

/**
 * Names the run in the lock if `me` holds it (`isMine`): an apply on another host whose lock
 * was taken over with --take-over-lock, and which ran after all, must not rename the run of
 * the apply that took it over.
 */
export function setLockRun(db: Db, runId: number, me: LockTaker): boolean {
  const named = db
    .prepare(`UPDATE apply_lock SET run_id = ? WHERE ${MINE}`)
    .run(runId, ...mine(me));
  return named.changes > 0;
}

/**
 * Marks the lock renewed at `at` if `me` holds it (`isMine`): the sign, seen from another
 * machine, that the apply holding it still runs. Returns whether it did.
 */
export function renewLock(db: Db, me: LockTaker, at: string): boolean {
  const renewed = db
    .prepare(`UPDATE apply_lock SET renewed_at = ? WHERE ${MINE}`)
    .run(at, ...mine(me));
  return renewed.changes > 0;
}

/**
 * Puts back the lock `me` took over from `holder` (run, pid, host, token, since when and when
 * it was last renewed, as it was: a lock given back does not look freshly renewed), if `me`
 * still holds it: an apply stopped before it began its run leaves the lock as it found it.
 * Returns whether it did.
 */
export function giveLockBack(db: Db, me: LockTaker, holder: LockHolder): boolean {
  const given = db
    .prepare(
      `UPDATE apply_lock SET run_id = ?, pid = ?, hostname = ?, acquired_at = ?, renewed_at = ?,
         token = ?
       WHERE ${MINE}`,
    )
    .run(
      holder.runId,
      holder.pid,
      holder.hostname,
      holder.acquiredAt,
      holder.renewedAt,
      holder.token ?? null,
      ...mine(me),
    );
  return given.changes > 0;
}

/**
 * `createApplyRun` under a lock `lockedBy` no longer holds (taken over meanwhile with
 * --take-over-lock): no run is begun.
 */
export class LockLostError extends Error {
  constructor() {
    super('the apply lock is no longer held by this process');
    this.name = 'LockLostError';
  }
}

/**
 * Lets go of the lock if `me` holds it (`isMine`): a process on another host, taken over with
 * --take-over-lock, may have the same pid as the one that took it over, and one in another
 * container the same pid and hostname.
 */
export function releaseLock(db: Db, me: LockTaker): void {
  db.prepare(`DELETE FROM apply_lock WHERE ${MINE}`).run(...mine(me));
}
