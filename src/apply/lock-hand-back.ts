/**
 * What `apply` does with the lock it took, as it ends: let go, or handed back as it was. An
 * apply that ends before its run began (or was taken up) changed nothing, and must leave the
 * lock as it found it where letting go would mislead the next apply. Three cases, one entry
 * point each, and (last) a give-back whose write fails; every write is the journal's
 * (`giveLockBack`, `releaseLock`), made only while this process still holds the lock (its
 * token: `isMine`): one taken over meanwhile by another apply (--take-over-lock) is never
 * touched.
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
 *   an earlier apply began, which is then left as it was). A lock taken over from another
 *   machine's apply is that apply's again, as on a signal, and a line beneath the run's own
 *   error says so (`tellAfter`).
 * - `atEnd()`, or `atEnd({ error })` once the run began: the lock is let go. After a run that
 *   failed, a release that fails too (the full disk that stopped the run) is not told: thrown,
 *   it replaced the run's own error, and the lines told after it (its reports not written)
 *   went with it. The lock is left to this process, which ends now, and the next apply on this
 *   machine takes it.
 * - A give-back whose write fails (the full disk that stopped the run, a database kept busy)
 *   leaves the lock naming this process, never lets it go: let go, the next plain apply, here
 *   or anywhere, would find no lock and run beside that machine's apply should it still run.
 *   Another machine's lock not given back is said, with SQLite's words, where its give-back
 *   would have been: beneath the run's own error (never over it), or by `whenStopped`'s
 *   answer (`error`, `self`), which the stop notice tells; thrown, it lost the whole notice.
 *   Not given back to this machine's apply (`continued`), it names this process and the run:
 *   the notice is said all the same.
 *
 * From the moment the lock is taken until it is let go or handed back (`atEnd`, `whenStopped`),
 * it is renewed every LOCK_RENEW_MS (`renewLock`, while this process holds it): how another
 * machine's --take-over-lock tells that this apply still runs. A renewal that fails (a database
 * kept busy) never fails the run: the next one tries again. The timer does not keep the process
 * alive, and is stopped before the lock is let go, so none fires once the database is closed.
 */

import { isoSeconds, type Clock } from '../clock.js';
import {
  giveLockBack,
  isMine,
  lockHolder,
  LOCK_RENEW_MS,
  releaseLock,
  renewLock,
  unseenFrom,
  type LockHolder,
} from '../db/journal.js';
import type { Db } from '../db/open.js';
import { tellAfter } from '../errors.js';
import type { ApplyDeps, GivenBack } from './apply-types.js';

export interface LockHandBack {
  /** The run is begun or taken up: from now on the lock is only let go. */
  runBegun(): void;
  /** Whether the lock is still this process's (its token: `isMine`). */
  stillHeld(): boolean;
  /**
   * The apply that took the lock over from this one (--take-over-lock), if it is not this
   * process's any more and another names it; null while it is (or nobody holds it).
   */
  lostTo(): LockHolder | null;
  /** A signal ends the process: see the module's header. */
  whenStopped(): GivenBack | null;
  /** The apply ends, with the error that ended it if any: see the module's header. */
  atEnd(failure?: { error: unknown }): void;
}

/** Renews the lock `runner` holds every LOCK_RENEW_MS, until the function returned is called. */
function renewWhileHeld(db: Db, runner: ApplyDeps['runner'], clock: Clock): () => void {
  const timer = setInterval(() => {
    try {
      renewLock(db, runner, isoSeconds(clock.now()));
    } catch {
      // Not renewed this time: the next renewal tries again. Only a lock unrenewed for
      // LOCK_LIVE_MS may be taken over from another machine.
    }
  }, LOCK_RENEW_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The hand-back of the lock `runner` took at `acquiredAt`: `tookOverFrom`, whose it was
 * (null: free, or this process's); `continued`, the run of this plan an earlier apply began.
 * Renews the lock by `clock` until it is let go or handed back.
 */
export function lockHandBack(
  db: Db,
  runner: ApplyDeps['runner'],
  taken: { acquiredAt: string; tookOverFrom: LockHolder | null; continued: number | undefined },
  clock: Clock,
): LockHandBack {
  const { acquiredAt, tookOverFrom: from, continued } = taken;
  // Another machine's, or one of this host under this process's own pid (another container
  // sharing the hostname): its process cannot be seen here, as one of this machine's can.
  const elsewhere = from !== null && unseenFrom(from, runner) ? from : null;
  let begun = false;
  const stopRenewing = renewWhileHeld(db, runner, clock);

  /**
   * Another machine's lock, theirs again (with `error` when the write failed and the lock
   * still names this process); null when none was taken over or it is not ours.
   */
  const toOtherMachine = (): GivenBack | null => {
    if (begun || elsewhere === null) return null;
    const { pid, hostname } = elsewhere;
    try {
      return giveLockBack(db, runner, elsewhere) ? { pid, hostname } : null;
    } catch (error) {
      const self = { pid: runner.pid, hostname: runner.hostname };
      return { pid, hostname, error: error instanceof Error ? error.message : String(error), self };
    }
  };

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
      return holder !== undefined && isMine(holder, runner);
    },
    lostTo: () => {
      const holder = lockHolder(db);
      return holder === undefined || isMine(holder, runner) ? null : holder;
    },
    whenStopped: () => {
      // The process ends now: it renews the lock no more, whoever it is left to.
      stopRenewing();
      if (begun) return null;
      const given = toOtherMachine();
      if (given !== null || continued === undefined) return given;
      // Another machine's lock no longer ours: whoever holds it now keeps it.
      if (elsewhere !== null) return null;
      try {
        // Found free, it names this process, which ends now: not as renewed, so that another
        // machine's --take-over-lock need not wait for it to age.
        giveLockBack(
          db,
          runner,
          from ?? {
            runId: null,
            pid: runner.pid,
            hostname: runner.hostname,
            acquiredAt,
            renewedAt: null,
            token: runner.token,
          },
        );
      } catch {
        // Left naming this process and the run: the notice is said all the same.
      }
      return null;
    },
    atEnd: (failure) => {
      stopRenewing();
      if (failure === undefined) return letGo(false);
      const given = toOtherMachine();
      if (given === null) return letGo(true);
      tellAfter(
        failure.error,
        given.error === undefined
          ? `the lock this apply took over with --take-over-lock is given back to pid ${given.pid} on ${given.hostname} (another machine), as it was: running it again takes --take-over-lock again, once that apply no longer runs there`
          : `the lock this apply took over with --take-over-lock could not be given back to pid ${given.pid} on ${given.hostname} (another machine): ${given.error}. It is left naming this apply (pid ${given.self.pid} on ${given.self.hostname}), which has ended, and the next apply on this machine takes it over as a process here that no longer runs: run apply again only once that apply no longer runs on ${given.hostname}`,
      );
    },
  };
}
