/**
 * The apply lock as `status` prints it (`lockLine`), and the one command that goes with it
 * (`lockCommand`), in text and `--json` alike: who holds it, since when, its last renewal, and
 * whether that makes it live (wait), dead-process (the next apply takes it over) or stale
 * (`--take-over-lock` takes it over, once you know that apply no longer runs there).
 */

import type { LockStatus } from '../../apply/lock-status.js';
import { LOCK_WATCH_MS } from '../../apply/lock-watch.js';
import { continueCommand } from '../../apply/under-way.js';
import { CLEAR_RENEWAL_SQL, LOCK_LIVE_MS, LOCK_RENEW_MS } from '../../db/journal.js';
import { shellWord } from '../../plan/replan.js';

const LIVE_S = LOCK_LIVE_MS / 1000;
const WATCH_S = LOCK_WATCH_MS / 1000;

/**
 * What to run: on this machine, a live lock's `status` (it shows the apply's progress), a dead
 * process's `apply` (which takes the lock over); another machine's, `apply --take-over-lock`,
 * refused while the lock is live. With the plan its run's apply named, else PLAN: the lock of an
 * apply that had begun no run does not say which plan it applied.
 */
export function lockCommand(lock: LockStatus, db: string): string {
  if (lock.thisMachine && lock.state === 'live') {
    return ['submigrate', 'status', '--db', db].map(shellWord).join(' ');
  }
  const flags = lock.thisMachine ? [] : ['--take-over-lock'];
  if (lock.run !== null) return continueCommand(lock.run, db, ...flags);
  return ['submigrate', 'apply', 'PLAN', ...flags, '--db', db].map(shellWord).join(' ');
}

/** The lock in one line: `db` as the user gave it (for the command). */
export function lockLine(lock: LockStatus, db: string): string {
  const who = `apply lock: held by pid ${lock.pid} on ${lock.hostname} (${lock.thisMachine ? 'this machine' : lock.ownPid ? "this process's own pid and hostname, but another process's: another container sharing the hostname, or one from before this machine restarted, whose processes this one cannot see" : 'another machine, whose processes this one cannot see'}), ${lock.runId === null ? 'no run begun yet' : `run ${lock.runId}`}, since ${lock.acquiredAt}`;
  return `${who}; ${renewal(lock)}: ${verdict(lock, `\`${lockCommand(lock, db)}\``, db)}`;
}

function renewal(lock: LockStatus): string {
  if (lock.renewedAt === null) return 'never renewed';
  const ago = lock.renewedSecondsAgo;
  if (ago === null) return `last renewal reads ${JSON.stringify(lock.renewedAt)}, not a time`;
  return ago >= 0
    ? `last renewed ${lock.renewedAt}, ${ago} s ago`
    : `last renewed ${lock.renewedAt}, ${-ago} s ahead of this machine's clock`;
}

function verdict(lock: LockStatus, command: string, db: string): string {
  const takeOver = lock.run === null ? `${command} (PLAN: the plan to apply)` : command;
  const refused = '`apply --take-over-lock` is refused meanwhile';
  // As apply's own refusal says: a lock unrenewed for 30 s is watched first (its clock may be
  // behind this one's), and taken only if no renewal comes meanwhile.
  const watched = `after watching the lock ${WATCH_S} s for a renewal`;
  switch (lock.reason) {
    case 'process-runs':
      return `live, its process runs on this machine (another apply is refused meanwhile). Wait for it to finish; ${command} shows its progress`;
    case 'process-gone':
      return `dead-process, no process ${lock.pid} runs on this machine any more. The next apply takes the lock over, with a note in the audit: ${lock.run === null ? takeOver : `${command} continues run ${lock.runId}`}`;
    case 'renewed':
      return `live, renewed within the last ${LIVE_S} s, so that apply still runs there; ${refused}. Wait for it to finish there; should it in fact have stopped, ${takeOver} takes it over from ${lock.takeOverFrom} by this machine's clock, ${watched}`;
    case 'renewed-ahead':
      return `live, renewed later than this machine's now (the two clocks differ), so taken to run there still; ${refused}. Wait for it to finish there; should it in fact have stopped, ${takeOver} takes it over from ${lock.takeOverFrom} by this machine's clock, ${watched}`;
    case 'renewal-unreadable': {
      const clear = `sqlite3 ${shellWord(db)} "${CLEAR_RENEWAL_SQL}"`;
      return `live, a renewal this submigrate cannot read is taken to run there still; ${refused}. Wait for it to finish there: an apply that runs writes a readable renewal every ${LOCK_RENEW_MS / 1000} s. If it still reads so after that, no apply of this submigrate renews it (the database was edited by hand, or another program wrote it): once you know that apply no longer runs on ${lock.hostname}, clear it (\`${clear}\`), and ${takeOver} takes it over`;
    }
    case 'not-renewed':
      return `stale, not renewed for ${LIVE_S} s or more by this machine's clock, so that apply has most likely stopped (killed, its machine suspended or gone), which this machine cannot see. Once you know it no longer runs on ${lock.hostname}, ${takeOver} takes it over, after watching the lock ${WATCH_S} s for a renewal (renewed meanwhile, as by an apply whose clock is behind this one's, it is refused)`;
    case 'never-renewed':
      return `stale, a lock never renewed (written by a submigrate from before renewals, or given back as it was) says nothing of whether that apply still runs on ${lock.hostname}, which this machine cannot see. Once you know it no longer runs there, ${takeOver} takes it over`;
  }
}
