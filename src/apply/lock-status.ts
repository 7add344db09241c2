/**
 * The apply lock as `status` tells it (`lockStatus`): who holds it (pid, host, run), since when,
 * when it last renewed it, and what that makes it, seen from this machine at `now`:
 *
 * - `live`: on this machine, its process runs; on another (whose processes this one cannot
 *   see; so too on this host under the looking process's own pid: another container sharing
 *   the hostname), it renewed the lock within LOCK_LIVE_MS, or later than this machine's now
 *   (the two clocks differ), or its renewal cannot be read as a time — each as `apply --take-over-lock`
 *   reads it (`renewedLately`), which refuses it;
 * - `dead-process`: on this machine, no process of its pid runs: the next apply takes it over;
 * - `stale`: on another machine, not renewed for LOCK_LIVE_MS or more, or never (a lock written
 *   before renewals, or given back as it was): `--take-over-lock` takes it over, which is right
 *   only once the person knows that apply no longer runs there.
 */

import { isoSeconds } from '../clock.js';
import {
  getApplyRun,
  LOCK_LIVE_MS,
  lockHolder,
  renewalTime,
  renewedLately,
  unseenFrom,
  type ApplyRun,
  type LockHolder,
} from '../db/journal.js';
import type { Db } from '../db/open.js';

export type LockState = 'live' | 'dead-process' | 'stale';

/** Why the lock is in its state. */
export type LockReason =
  | 'process-runs'
  | 'process-gone'
  | 'renewed'
  | 'renewed-ahead'
  | 'renewal-unreadable'
  | 'not-renewed'
  | 'never-renewed';

export interface LockStatus extends LockHolder {
  /**
   * Whether its process can be seen running or gone from here: on this machine's host, under
   * another pid than the process looking (`unseenFrom`).
   */
  thisMachine: boolean;
  /**
   * On this machine's host under the looking process's own pid: another process's all the
   * same (another container sharing the hostname, or one from before a restart), whose
   * process cannot be seen from here (`thisMachine` false).
   */
  ownPid: boolean;
  state: LockState;
  reason: LockReason;
  /** This machine's time when it was looked at. */
  checkedAt: string;
  /** Seconds from its last renewal to `checkedAt` (negative: ahead); null: none, or unreadable. */
  renewedSecondsAgo: number | null;
  /**
   * From when `--take-over-lock` takes it over by this machine's clock (its renewal and
   * LOCK_LIVE_MS), for a lock of another machine whose renewal is a time; else null.
   */
  takeOverFrom: string | null;
  /** The run it names, as its apply named its plan (for the command that takes it over). */
  run: Pick<ApplyRun, 'planPath' | 'optionsJson'> | null;
}

/** The lock, whoever it names (alive or not), as seen by `me` at `now`; null when none. */
export function lockStatus(
  db: Db,
  me: { pid: number; hostname: string; isAlive(pid: number): boolean },
  now: Date,
): LockStatus | null {
  const holder = lockHolder(db);
  if (holder === undefined) return null;
  const checkedAt = isoSeconds(now);
  const renewed = holder.renewedAt === null ? null : renewalTime(holder.renewedAt);
  const thisMachine = !unseenFrom(holder, me);
  const ownPid = holder.hostname === me.hostname && holder.pid === me.pid;
  const run = holder.runId === null ? undefined : getApplyRun(db, holder.runId);
  return {
    ...holder,
    thisMachine,
    ownPid,
    ...verdict(holder, thisMachine, me, checkedAt, renewed),
    checkedAt,
    renewedSecondsAgo: renewed === null ? null : Math.round((now.getTime() - renewed) / 1000),
    takeOverFrom:
      thisMachine || renewed === null ? null : isoSeconds(new Date(renewed + LOCK_LIVE_MS)),
    run: run === undefined ? null : { planPath: run.planPath, optionsJson: run.optionsJson },
  };
}

function verdict(
  holder: LockHolder,
  thisMachine: boolean,
  me: { isAlive(pid: number): boolean },
  checkedAt: string,
  renewed: number | null,
): { state: LockState; reason: LockReason } {
  if (thisMachine) {
    return me.isAlive(holder.pid)
      ? { state: 'live', reason: 'process-runs' }
      : { state: 'dead-process', reason: 'process-gone' };
  }
  if (holder.renewedAt === null) return { state: 'stale', reason: 'never-renewed' };
  if (!renewedLately(holder, checkedAt)) return { state: 'stale', reason: 'not-renewed' };
  if (renewed === null) return { state: 'live', reason: 'renewal-unreadable' };
  return renewed > Date.parse(checkedAt)
    ? { state: 'live', reason: 'renewed-ahead' }
    : { state: 'live', reason: 'renewed' };
}
