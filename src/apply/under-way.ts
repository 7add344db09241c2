/**
 * What is told of a run whose apply may still be running, or stopped part way: who holds the
 * apply lock (`applyUnderWay`, `heldBy`), the refusals and warnings of `report`, `routes` and
 * `reconcile` beside such a run, and the command that continues it (`continueCommand`).
 */

import {
  lockHeldAgainst,
  unseenFrom,
  type ApplyRun,
  type LockHolder,
  type LockRunner,
} from '../db/journal.js';
import type { Db } from '../db/open.js';
import { shellWord } from '../plan/replan.js';

/**
 * The live apply that holds run `runId`, if one does: the run's reports folder is that
 * apply's to write when it ends. Written by anything else meanwhile, the reports would show
 * the run half way, and stand as its record if written after the apply's own.
 */
export function applyUnderWay(db: Db, runId: number, me: LockRunner): LockHolder | undefined {
  const holder = lockHeldAgainst(db, me);
  return holder !== undefined && holder.runId === runId ? holder : undefined;
}

/**
 * What the lock's holder is, for a message: on this host a live process (`isAlive` said so);
 * on another host, one whose processes this one cannot see (a machine the database was copied
 * from, a container since replaced), so whether its apply still runs cannot be told; the same
 * for one of this host under this process's own pid (`unseenFrom`: another container sharing
 * the hostname). Then a sentence saying so and what to do: wait, or take the run over with
 * `--take-over-lock`. Null for a process of this host that can be seen.
 */
export function lockElsewhereAdvice(
  run: Pick<ApplyRun, 'planPath' | 'optionsJson'>,
  holder: LockHolder,
  me: { pid: number; hostname: string },
  db: string,
): string | null {
  if (!unseenFrom(holder, me)) return null;
  const takeOver = continueCommand(run, db, '--take-over-lock');
  const where =
    holder.hostname === me.hostname
      ? `pid ${holder.pid} on ${holder.hostname} is this process's own pid and hostname, but another process's (another container sharing this hostname, or one from before this machine restarted), whose process this one cannot see`
      : `${holder.hostname} is another machine (or container), whose processes this one cannot see`;
  return `${where}: if that apply still runs there, wait for it to finish; if it no longer runs (it was stopped, its machine or container is gone), take the run over with \`${takeOver}\` (${run.planPath} as that apply named its plan), which finishes the run and writes its reports.`;
}

/** Who holds the apply lock, as the refusals name it. */
export const heldBy = (holder: LockHolder) =>
  `pid ${holder.pid} on ${holder.hostname}, since ${holder.acquiredAt}`;

/** `report`'s refusal to write the folder (`shown`) of a run whose apply holds the lock. */
export function reportUnderWayRefusal(
  run: Pick<ApplyRun, 'id' | 'planPath' | 'optionsJson'>,
  holder: LockHolder,
  shown: string,
  me: { pid: number; hostname: string },
  db: string,
): string {
  const who = heldBy(holder);
  const elsewhere = lockElsewhereAdvice(run, holder, me, db);
  const elsewhereOut = `\`submigrate report --out DIR\` writes its reports as they stand elsewhere.`;
  if (elsewhere === null) {
    return `apply run ${run.id} is under way (${who}): it writes ${shown}/ itself when it ends, and reports written there now would show the run half way. \`submigrate status\` shows its progress; ${elsewhereOut}`;
  }
  return `apply run ${run.id} may be under way (${who}): if it is, it writes ${shown}/ itself when it ends, and reports written there now would show the run half way. ${elsewhere} Meanwhile, ${elsewhereOut}`;
}

/**
 * The command that continues a stopped run of the plan at `planPath` (as its apply named it),
 * on the database `db` as the user gave it: what `report`, `routes` and `status` tell.
 */
export function continueCommand(
  run: Pick<ApplyRun, 'planPath' | 'optionsJson'>,
  db: string,
  ...flags: string[]
): string {
  // The override the run began with: without it the opt-out gate refuses the continuation.
  const override = (JSON.parse(run.optionsJson) as { allow_missing_snapshot?: boolean })
    .allow_missing_snapshot
    ? ['--allow-missing-snapshot']
    : [];
  return ['submigrate', 'apply', run.planPath, ...flags, '--db', db, ...override]
    .map(shellWord)
    .join(' ');
}

/**
 * What `report` tells beside the reports of a run that has not finished (shown `running` or
 * `stopped`): they are the run part way, not its result, and what gives the result. Null for
 * a run that ended (completed or failed), whose reports are its record.
 */
export function reportNotFinishedWarning(
  run: Pick<ApplyRun, 'id' | 'planPath' | 'optionsJson'>,
  status: string,
  holder: LockHolder | undefined,
  me: { pid: number; hostname: string },
  db: string,
  /** A run of another plan that sent a step after it stopped: applying its plan starts anew. */
  followedBy: number | null = null,
): string | null {
  const partWay = 'these reports show it part way, not its result';
  if (status === 'running' && holder !== undefined) {
    const elsewhere = lockElsewhereAdvice(run, holder, me, db);
    if (elsewhere !== null) {
      return `apply run ${run.id} may be under way (${heldBy(holder)}): ${partWay}. ${elsewhere}`;
    }
    return `apply run ${run.id} is under way (${heldBy(holder)}): ${partWay}; it writes its own reports when it ends, and \`submigrate status\` shows its progress`;
  }
  if ((status === 'running' || status === 'stopped') && followedBy !== null) {
    return `apply run ${run.id} stopped before it finished (no process is running it), and run ${followedBy} (another plan) came after it: ${partWay}, and applying its plan no longer continues it`;
  }
  if (status === 'running' || status === 'stopped') {
    const again = continueCommand(run, db);
    return `apply run ${run.id} stopped before it finished (no process is running it): ${partWay}; \`${again}\` (${run.planPath} as its apply named its plan) continues it and writes its reports`;
  }
  return null;
}

/**
 * What `routes` tells beside the check of a run whose apply stopped part way: a number with a
 * step of its move not done (out of its old service, not yet in its new one, say) is checked
 * as it stands, its route the move half made — LOST, where the finished move keeps it — and
 * the numbers not begun are not checked at all. Said so, with what continues the run, so that
 * the check is not taken for the move's result.
 */
export function routesNotFinishedWarning(
  run: Pick<ApplyRun, 'id' | 'planPath' | 'optionsJson'>,
  notFinished: number,
  checked: number,
  db: string,
  /** A run of another plan that sent a step after it stopped: applying its plan starts anew. */
  followedBy: number | null,
): string {
  const partWay =
    notFinished === 0
      ? 'the numbers it had not begun to move are not checked'
      : `${notFinished} of these ${checked} numbers are part way through their move (a step not done yet), so their routes are the move half made, not its result`;
  if (followedBy !== null) {
    return `apply run ${run.id} stopped before it finished (no process is running it), and run ${followedBy} (another plan) came after it: ${partWay}; applying its plan no longer continues it`;
  }
  const again = continueCommand(run, db);
  return `apply run ${run.id} stopped before it finished (no process is running it): ${partWay}; \`${again}\` (${run.planPath} as its apply named its plan) continues it and checks their routes itself when its steps are over`;
}

/**
 * `routes`' refusal to check a run whose apply holds the lock: its numbers are being moved,
 * and a check now would name the ones not moved yet among the "moved numbers", its result
 * recorded as the run's latest check. The apply checks them itself when its steps are over.
 */
export function routesUnderWayRefusal(
  run: Pick<ApplyRun, 'id' | 'planPath' | 'optionsJson'>,
  holder: LockHolder,
  me: { pid: number; hostname: string },
  db: string,
): string {
  const after = `it checks their inbound routes itself when its steps are over, and \`submigrate routes\` checks them again once it has ended; \`submigrate status\` shows its progress`;
  const elsewhere = lockElsewhereAdvice(run, holder, me, db);
  if (elsewhere === null) {
    return `apply run ${run.id} is under way (${heldBy(holder)}): its numbers are still being moved; ${after}. Nothing was checked or recorded.`;
  }
  return `apply run ${run.id} may be under way (${heldBy(holder)}): if it is, its numbers are still being moved, and ${after}. ${elsewhere} Nothing was checked or recorded.`;
}

/** `reconcile`'s note on the folder (`shown`) of a run whose apply holds the lock. */
export function reconcileUnderWayNote(
  run: Pick<ApplyRun, 'id' | 'planPath' | 'optionsJson'>,
  holder: LockHolder,
  shown: string,
  me: { pid: number; hostname: string },
  db: string,
): string {
  const elsewhere = lockElsewhereAdvice(run, holder, me, db);
  if (elsewhere === null) {
    return `${shown}/ not written now: apply run ${run.id} is under way, and writes its reports there (this pass's violations with them) when it ends`;
  }
  return `${shown}/ not written now: apply run ${run.id} may be under way (${heldBy(holder)}), and if it is, writes its reports there (this pass's violations with them) when it ends. ${elsewhere}`;
}
