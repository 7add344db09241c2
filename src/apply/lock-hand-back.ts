/**
 * What `apply` does with the lock it took, as it ends: let go, or handed back as it was. An
 * apply that ends before its run began (or was taken up) changed nothing, and must leave the
 * lock as it found it where letting go would mislead the next apply. Three cases, one entry
 * point each; every write is the journal's (`giveLockBack`, `releaseLock`), made only while
 * this process still holds the lock (pid and host both): one taken over meanwhile by another
 * apply (--take-over-lock) is never touched.
 *
 * - `whenStopped` (a signal: Ctrl-C, SIGTERM, SIGHUP, before the run began). A lock taken over
 *   from an apply on another machine (--take-over-lock) is that apply's again, as it was (run,
 *   pid, host, since when): the next apply here must not take it for a dead process's of this
 *   machine while that apply may still run there. Returns whose it is again, which the stop
 *   notice tells with the command (--take-over-lock) to run once that apply no longer runs.
 *   Stopped before it took up the run an earlier apply of this plan began (`continued`), the
 *   lock must not name this process as that run's (the next apply's note would say it took
 *   the run over from this one, which never took it up): it goes back to the apply of this
 *   machine it was taken from (killed part way), or, when it was free, names no run. Nothing
 *   more is told (null): the notice says the run is as the last apply left it.
 * - `atEnd({ error })` (refused or failed before the run began: drift, the opt-out gate, the
 *   carry check, Twilio's reads failing; or its reports folder refused before it took up a run
 *   an earlier apply began, which is then left as it was). A lock taken over from another machine's apply is
 *   that apply's again, as on a signal, and a line beneath the run's own error says so
 *   (`tellAfter`). A failure to give it back is not told over the run's own error: the lock
 *   is then let go as any other.
 * - `atEnd()`, or `atEnd({ error })` once the run began: the lock is let go. After a run that
 *   failed, a release that fails too (the full disk that stopped the run) is not told: thrown,
 *   it replaced the run's own error, and the lines told after it (its reports not written)
 *   went with it. The lock is left to this process, which ends now, and the next apply on this
 *   machine takes it.
 */

import { giveLockBack, lockHolder, releaseLock, type LockHolder } from '../db/journal.js';
import type { Db } from '../db/open.js';
import { tellAfter } from '../errors.js';
import type { ApplyDeps } from './apply-types.js';

/** Whose lock is theirs again: an apply on another machine. */
export interface GivenBack {
  pid: number;
  hostname: string;
}

export interface LockHandBack {
  /** The run is begun or taken up: from now on the lock is only let go. */
  runBegun(): void;
  /** Whether the lock is still this process's (pid and host both). */
  stillHeld(): boolean;
  /** A signal ends the process: see the module's header. */
  whenStopped(): GivenBack | null;
  /** The apply ends, with the error that ended it if any: see the module's header. */
  atEnd(failure?: { error: unknown }): void;
}

/**
 * The hand-back of the lock `runner` took at `acquiredAt`: `tookOverFrom`, whose it was
 * (null: free, or this process's); `continued`, the run of this plan an earlier apply began.
 */
export function lockHandBack(
  db: Db,
  runner: ApplyDeps['runner'],
  taken: { acquiredAt: string; tookOverFrom: LockHolder | null; continued: number | undefined },
): LockHandBack {
  const { acquiredAt, tookOverFrom: from, continued } = taken;
  const elsewhere = from !== null && from.hostname !== runner.hostname ? from : null;
  let begun = false;

  /** Another machine's lock, theirs again; null when none was taken over or it is not ours. */
  const toOtherMachine = (): GivenBack | null =>
    !begun && elsewhere !== null && giveLockBack(db, runner, elsewhere)
      ? { pid: elsewhere.pid, hostname: elsewhere.hostname }
      : null;

  const letGo = (runFailed: boolean): void => {
    try {
      releaseLock(db, runner);
    } catch (error) {
      if (!runFailed) throw error;
    }
  };

  return {
    runBegun: () => {
      begun = true;
    },
    stillHeld: () => {
      const holder = lockHolder(db);
      return (
        holder !== undefined && holder.pid === runner.pid && holder.hostname === runner.hostname
      );
    },
    whenStopped: () => {
      if (begun) return null;
      const given = toOtherMachine();
      if (given !== null || continued === undefined) return given;
      // Another machine's lock no longer ours: whoever holds it now keeps it.
      if (elsewhere !== null) return null;
      giveLockBack(
        db,
        runner,
        from ?? { runId: null, pid: runner.pid, hostname: runner.hostname, acquiredAt },
      );
      return null;
    },
    atEnd: (failure) => {
      if (failure === undefined) return letGo(false);
      let given: GivenBack | null;
      try {
        given = toOtherMachine();
      } catch {
        given = null;
      }
      if (given === null) return letGo(true);
      tellAfter(
        failure.error,
        `the lock this apply took over with --take-over-lock is given back to pid ${given.pid} on ${given.hostname} (another machine), as it was: running it again takes --take-over-lock again, once that apply no longer runs there`,
      );
    },
  };
}
