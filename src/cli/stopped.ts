/**
 * What a command stopped part way (Ctrl-C, kill, the terminal closed) says as the process
 * ends: what it leaves behind, and the command, quoted as a shell reads it back, that takes
 * its run up or runs it again.
 */

import type { GivenBack } from '../apply/apply-types.js';
import { shellWord } from '../plan/replan.js';
import { whenInterrupted } from './interrupt.js';
import type { Output } from './output.js';

/** Says `notice` on stderr when a signal ends the process; the function returned takes it back. */
export function tellWhenStopped(
  output: Output,
  notice: (signal: NodeJS.Signals) => string,
): () => void {
  return whenInterrupted((signal) => output.err(notice(signal)));
}

// Quoted as a shell reads them back: a path with a space printed a command that did not run.
const command = (...words: string[]) => words.map(shellWord).join(' ');

/**
 * `apply`'s: every step sent is in the journal, and the same apply continues the run. With
 * the override the run began with, else the continuation is refused by the opt-out gate.
 * Stopped before its run began or was taken up (`before` given), it had sent only reads: a run
 * an earlier apply began (`continues`) is as that apply left it, and a lock it took over from
 * another machine's apply is given back (`givenBack`, whose it is again; with `error` when the
 * write failed, and the lock still names this process). Stopped while --take-over-lock watched
 * another machine's lock before taking it (`watching`, whose it is), it had taken nothing.
 */
export function applyStoppedNotice(
  plan: string,
  db: string,
  allowMissingSnapshot: boolean,
): (
  signal: NodeJS.Signals,
  before?: {
    continues: number | null;
    givenBack: GivenBack | null;
    watching?: { pid: number; hostname: string } | null;
  },
  /** Stopped after its run began: the apply that took its lock over meanwhile, if any. */
  lostTo?: { pid: number; hostname: string } | null,
) => string {
  const override = allowMissingSnapshot ? ['--allow-missing-snapshot'] : [];
  const continues = command('submigrate', 'apply', plan, '--db', db, ...override);
  return (signal, before, lostTo) => {
    if (before === undefined && lostTo !== undefined && lostTo !== null) {
      // Its lock taken over while it ran: the run is the other apply's, which continues it;
      // the same command here is refused while that apply renews the lock.
      return `apply: stopped by ${signal}, after another apply (pid ${lostTo.pid} on ${lostTo.hostname}) had taken its lock over with --take-over-lock: this one sent no step after that, every step it sent is in the journal, and the run is that apply's to finish (it settles any step left in flight from Twilio's state); \`${command('submigrate', 'status', '--db', db)}\` shows it.`;
    }
    if (before === undefined) {
      return `apply: stopped by ${signal}. Every step sent so far is in the journal: \`${continues}\` continues the run (a step left in flight is settled from Twilio's state first, never sent blind again); \`${command('submigrate', 'status', '--db', db)}\` shows where it stopped.`;
    }
    const takeOver = command(
      'submigrate',
      'apply',
      plan,
      '--db',
      db,
      ...override,
      '--take-over-lock',
    );
    if (before.watching) {
      // Before the lock was taken: nothing read, nothing written, the lock as it was.
      const { pid, hostname } = before.watching;
      return `apply: stopped by ${signal} while it watched the lock of pid ${pid} on ${hostname} for a renewal, before taking it over: it had read nothing from Twilio and written nothing, and the journal and the lock are as they were. \`${takeOver}\` watches it again, and takes it over if it is not renewed meanwhile: run it once you know that apply no longer runs there.`;
    }
    // Stopped while it checked the plan against the live account: no run begun by it, and
    // status shows none (or the earlier one, as it was).
    const { continues: run, givenBack } = before;
    const stopped =
      run === null
        ? `apply: stopped by ${signal} before it began its run`
        : `apply: stopped by ${signal} before it took up apply run ${run} again`;
    const left =
      run === null ? 'the journal is as it was' : `run ${run} is as the last apply left it`;
    const again = run === null ? 'runs it again' : 'continues it';
    if (givenBack === null) {
      return `${stopped}, while it checked the plan against the live account: it had sent Twilio only reads, so nothing was changed there, and ${left}. \`${continues}\` ${again}.`;
    }
    if (givenBack.error !== undefined) {
      // The write that gives it back failed: the lock names this stopped process, which the
      // next apply here takes over without --take-over-lock, beside that apply should it run.
      const { self } = givenBack;
      return `${stopped}, while it checked the plan against the live account: it had sent Twilio only reads, so nothing was changed there, and ${left}; but the lock it took over could not be given back to pid ${givenBack.pid} on ${givenBack.hostname}, another machine (${givenBack.error}): it is left naming this stopped apply (pid ${self.pid} on ${self.hostname}), which the next apply on this machine takes over as a process here that no longer runs. \`${continues}\` ${again}: run it only once that apply no longer runs on ${givenBack.hostname}.`;
    }
    // The lock it took over from another machine's apply is that apply's again: running it
    // again takes --take-over-lock again, once that apply no longer runs.
    return `${stopped}, while it checked the plan against the live account: it had sent Twilio only reads, so nothing was changed there, and ${left} (the lock it took over is given back to pid ${givenBack.pid} on ${givenBack.hostname}, another machine). \`${takeOver}\` ${again} once that apply no longer runs there.`;
  };
}

/** `plan`'s: it only reads from Twilio, and writes its plan file at its end. */
export function planStoppedNotice(signal: NodeJS.Signals): string {
  return `plan: stopped by ${signal} before it wrote its plan file: it sends Twilio only reads, so nothing was changed there, and no plan file was written. Run the same command again to make the plan.`;
}

/**
 * `submigrate snapshot` with a run's accounts, window and source (`flags`), on the database
 * `db`: the command that takes that run up (a run asked for something else starts anew).
 */
export function snapshotTakesUp(flags: readonly string[], db: string): string {
  return ['submigrate', 'snapshot', ...flags, '--db', db].map(shellWord).join(' ');
}

/** `submigrate reconcile` on the database `db`: what runs a pass that recorded nothing again. */
export function reconcileRunsAgain(db: string): string {
  return command('submigrate', 'reconcile', '--db', db);
}

/** `snapshot`'s: what it read is committed as it goes, and `again` takes the run up. */
export function snapshotStoppedNotice(again: string): (signal: NodeJS.Signals) => string {
  return (signal) =>
    `snapshot: stopped by ${signal}. What it read is in the ledger, committed page by page and day by day: \`${again}\` takes the run up from its last commit; until then, what it has not read counts as not read.`;
}

/**
 * The flags of a snapshot run, in the order `snapshotTakesUp` gives them: its accounts, window
 * and source (a run asked for something else starts anew).
 */
export function snapshotRunFlags(run: {
  since?: string | undefined;
  until?: string | undefined;
  account: readonly string[];
  'retention-days'?: number | undefined;
  export: boolean;
}): string[] {
  return [
    ...(run.since === undefined ? [] : ['--since', run.since]),
    ...(run.until === undefined ? [] : ['--until', run.until]),
    ...run.account.flatMap((sid) => ['--account', sid]),
    ...(run['retention-days'] === undefined
      ? []
      : ['--retention-days', String(run['retention-days'])]),
    ...(run.export ? [] : ['--no-export']),
  ];
}

/**
 * `reconcile`'s: a pass is recorded, and its reports written, in one go after its last read,
 * so a stopped one leaves nothing; the same command (with its --since) runs it again.
 */
export function reconcileStoppedNotice(
  db: string,
  since: string | undefined,
): (signal: NodeJS.Signals) => string {
  const again = ['submigrate', 'reconcile', '--db', db]
    .concat(since === undefined ? [] : ['--since', since])
    .map(shellWord)
    .join(' ');
  return (signal) =>
    `reconcile: stopped by ${signal} before it recorded this pass: nothing it read was judged or kept, and no report was written. \`${again}\` runs the pass again.`;
}
