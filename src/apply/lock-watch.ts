/**
 * `apply --take-over-lock` against another machine's lock that reads as not renewed for
 * LOCK_LIVE_MS by this machine's clock: that age is two clocks apart (the renewal written by
 * the holder's, read by this one's). A holder whose clock runs 30 s or more behind this one's
 * looks stale while it still renews its lock every LOCK_RENEW_MS, and was taken over while it
 * ran: two applies at once (minutes behind, on the first try). So before taking it over, the
 * lock is watched for a little more than two renewals (LOCK_WATCH_MS), which needs no clock
 * but this one's: renewed, taken or let go meanwhile, its apply still runs, and the take-over
 * is refused (exit 4, nothing read from or sent to Twilio); left as it was, it is taken over as
 * before. A lock never renewed (NULL: written before renewals, or given back as it was) or whose
 * renewal is not a time (refused by `lockRefusal`) is not watched.
 */

import { isoSeconds } from '../clock.js';
import {
  isMine,
  LOCK_LIVE_MS,
  LOCK_RENEW_MS,
  lockHolder,
  renewalTime,
  renewedLately,
  sameLock,
  unseenFrom,
  type LockHolder,
} from '../db/journal.js';
import { RefusedError } from '../errors.js';
import type { ApplyDeps, ApplyInput } from './apply-types.js';

/** How long the lock is watched before it is taken over: two renewals, and a second more. */
export const LOCK_WATCH_MS = 2 * LOCK_RENEW_MS + 1_000;

const WATCH_S = LOCK_WATCH_MS / 1000;
const LOCK_LIVE_S = LOCK_LIVE_MS / 1000;

/**
 * Whether --take-over-lock would take `holder` over on its renewal's age alone, read by this
 * machine's clock at `at`: another process's lock whose process cannot be seen from here
 * (`unseenFrom`), its renewal a readable time, not renewed within LOCK_LIVE_MS.
 */
export function takenOverByAge(
  holder: LockHolder | undefined,
  me: ApplyDeps['runner'],
  at: string,
): holder is LockHolder & { renewedAt: string } {
  return (
    holder !== undefined &&
    !isMine(holder, me) &&
    unseenFrom(holder, me) &&
    holder.renewedAt !== null &&
    renewalTime(holder.renewedAt) !== null &&
    !renewedLately(holder, at)
  );
}

/**
 * Watches the lock before --take-over-lock takes it over on its renewal's age (`takenOverByAge`):
 * `tell` says so first (the command waits LOCK_WATCH_MS), then `sleep`. Refuses (RefusedError)
 * when the lock changed meanwhile. Returns the lock watched, to be taken over only as it still
 * is (`acquireLock`), and this machine's time after the watch; no lock watched (null) when none
 * needs it, `at` unchanged.
 */
export async function watchBeforeTakeOver(
  input: Pick<ApplyInput, 'takeOverLock'>,
  deps: Pick<ApplyDeps, 'db' | 'clock' | 'runner' | 'sleep'>,
  at: string,
  tell: (line: string, holder: LockHolder) => void,
): Promise<{ watched: LockHolder | null; at: string }> {
  if (input.takeOverLock !== true) return { watched: null, at };
  const holder = lockHolder(deps.db);
  if (!takenOverByAge(holder, deps.runner, at)) return { watched: null, at };
  const ago = Math.round((Date.parse(at) - renewalTime(holder.renewedAt)!) / 1000);
  tell(
    `watching the lock for ${WATCH_S} s before taking it over: pid ${holder.pid} on ${holder.hostname} last renewed it at ${holder.renewedAt}, ${ago} s ago by this machine's clock, but its clock may be behind this one's; an apply that still runs renews it every ${LOCK_RENEW_MS / 1000} s, and is not taken over if it does`,
    holder,
  );
  await deps.sleep(LOCK_WATCH_MS);
  const after = lockHolder(deps.db);
  const now = isoSeconds(deps.clock.now());
  if (!sameLock(holder, after)) throw changedWhileWatched(holder, after, now);
  return { watched: holder, at: now };
}

/** The refusal of a lock that changed while it was watched: its apply still runs (or just did). */
function changedWhileWatched(
  holder: LockHolder & { renewedAt: string },
  after: LockHolder | undefined,
  now: string,
): RefusedError {
  const held = (verb: string) =>
    `another apply ${verb} this database (pid ${holder.pid} on ${holder.hostname}${holder.runId === null ? '' : `, run ${holder.runId}`}, since ${holder.acquiredAt})`;
  const wait = `--take-over-lock takes over only an apply that no longer runs. Nothing was read from or sent to Twilio`;
  if (after === undefined) {
    return new RefusedError(
      `${held('held')}, and let go of the lock while this apply watched it for ${WATCH_S} s, though its last renewal, at ${holder.renewedAt}, read as ${Math.round((Date.parse(now) - renewalTime(holder.renewedAt)!) / 1000)} s old by this machine's clock: it was still running there until then, so its clock and this machine's likely differ. ${wait}: the lock is free now, and \`submigrate status\` shows whether another apply holds it; apply again (without --take-over-lock) once you know how that run ended`,
    );
  }
  if (
    after.pid !== holder.pid ||
    after.hostname !== holder.hostname ||
    after.token !== holder.token
  ) {
    return new RefusedError(
      `${held('held')}, and while this apply watched it for ${WATCH_S} s, the lock changed hands (now pid ${after.pid} on ${after.hostname}, since ${after.acquiredAt}): another apply runs on this database. ${wait}: \`submigrate status\` shows the apply that holds it`,
    );
  }
  const renewed = after.renewedAt === null ? null : renewalTime(after.renewedAt);
  const behind =
    renewed === null
      ? ''
      : `; its latest renewal, at ${after.renewedAt}, reads ${Math.round((Date.parse(now) - renewed) / 1000)} s old by this machine's clock`;
  const wrote =
    after.renewedAt !== holder.renewedAt
      ? 'renewed the lock'
      : `wrote to the lock (${after.runId === null ? 'no run' : `run ${after.runId}`}, since ${after.acquiredAt})`;
  return new RefusedError(
    `${held('holds')}, and ${wrote} while this apply watched it for ${WATCH_S} s (its last renewal read ${holder.renewedAt} before${behind}): it still runs there, and its clock and this machine's likely differ (a lock renewed every ${LOCK_RENEW_MS / 1000} s looked ${LOCK_LIVE_S} s or more unrenewed). ${wait}: wait for it to finish there, and set both machines' clocks right (NTP)`,
  );
}
