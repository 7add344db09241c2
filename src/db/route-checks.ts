/** The latest routing check of each moved number of an apply run. */

import { holdsLockNow, LockLostError, type LockTaker } from './journal.js';
import type { Db } from './open.js';

export interface RouteCheckRecord {
  numberSid: string;
  customerId: string;
  phoneNumber: string;
  before: unknown;
  after: unknown;
  verdict: string;
  /** The fallback beside a route that is the same; null when not compared. */
  fallback: unknown;
  checkedAt: string;
}

export function recordRouteChecks(
  db: Db,
  runId: number,
  checks: readonly RouteCheckRecord[],
  /**
   * The apply recording them after its steps: written only while it holds the lock (pid and
   * host both), in the same transaction; else LockLostError, nothing written. (`routes` checks
   * a run no apply holds, and passes none.)
   */
  lockedBy?: LockTaker,
): void {
  const insert = db.prepare(
    `INSERT INTO route_checks
       (run_id, number_sid, customer_id, phone_number, before_json, after_json, verdict,
        fallback_json, checked_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id, number_sid) DO UPDATE SET
       before_json = excluded.before_json, after_json = excluded.after_json,
       verdict = excluded.verdict, fallback_json = excluded.fallback_json,
       checked_at = excluded.checked_at`,
  );
  db.transaction(() => {
    if (lockedBy !== undefined && !holdsLockNow(db, lockedBy)) throw new LockLostError();
    for (const c of checks) {
      insert.run(
        runId,
        c.numberSid,
        c.customerId,
        c.phoneNumber,
        JSON.stringify(c.before),
        c.after === null ? null : JSON.stringify(c.after),
        c.verdict,
        c.fallback === null ? null : JSON.stringify(c.fallback),
        c.checkedAt,
      );
    }
  })();
}

export function listRouteChecks(db: Db, runId: number): RouteCheckRecord[] {
  const rows = db
    .prepare(
      `SELECT number_sid AS numberSid, customer_id AS customerId, phone_number AS phoneNumber,
              before_json AS beforeJson, after_json AS afterJson, verdict,
              fallback_json AS fallbackJson, checked_at AS checkedAt
       FROM route_checks WHERE run_id = ? ORDER BY customer_id, phone_number`,
    )
    .all(runId) as (Omit<RouteCheckRecord, 'before' | 'after' | 'fallback'> & {
    beforeJson: string;
    afterJson: string | null;
    fallbackJson: string | null;
  })[];
  return rows.map(({ beforeJson, afterJson, fallbackJson, ...row }) => ({
    ...row,
    before: JSON.parse(beforeJson) as unknown,
    after: afterJson === null ? null : (JSON.parse(afterJson) as unknown),
    fallback: fallbackJson === null ? null : (JSON.parse(fallbackJson) as unknown),
  }));
}
