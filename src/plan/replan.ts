/**
 * The command that makes a plan again, as a refusal advises it: the same kind of plan (with
 * --carry-optouts and its batch size when the plan was made so), written over the plan file
 * the user was applying, against the database they named. Without them, the advice would make
 * a plan that carries nothing, or one beside the stale plan, or one from another database.
 */

import { isAbsolute } from 'node:path';

import { CARRY_BATCH_SIZE } from './carry.js';
import type { Plan } from './types.js';

/**
 * Where the plan that is made again goes, as absolute paths: the command then works from the
 * folder the plan was made in, which its (relative) mapping path needs.
 */
export interface ReplanPaths {
  /** The plan file being applied: the new plan is written over it. */
  out: string;
  /**
   * The database apply used, as an absolute path (the command may be run from another folder,
   * where ./submigrate.db is another database); null = not known, left out.
   */
  db: string | null;
}

/** A word as a POSIX shell reads it back: bare when that is safe, else in single quotes. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * `submigrate plan --mapping … [--carry-optouts [--carry-batch-size N]] --out … [--db …]`.
 * `--no-snapshot` is left out even when the plan was made with it: bringing the ledger up to
 * date only reads from Twilio, and a plan made again is there to hold every opt-out known.
 */
export function replanCommand(plan: Plan, paths: ReplanPaths): string {
  const words = ['submigrate', 'plan', '--mapping', plan.mapping.path];
  if (plan.options.carry_optouts === true) {
    words.push('--carry-optouts');
    const batch = plan.carry?.batch_size ?? CARRY_BATCH_SIZE;
    if (batch !== CARRY_BATCH_SIZE) words.push('--carry-batch-size', String(batch));
  }
  words.push('--out', paths.out);
  if (paths.db !== null) words.push('--db', paths.db);
  return words.map(shellWord).join(' ');
}

/**
 * The line of a refusal that a plan made again resolves. The mapping path is the one the plan
 * recorded: when it is relative, it is relative to the folder the plan was made in, and the
 * line says to run the command there.
 */
export function replanAdvice(plan: Plan, paths: ReplanPaths): string {
  const where = isAbsolute(plan.mapping.path)
    ? ''
    : ', from the folder it was made in (its mapping path is relative to that folder)';
  return `Make the plan again${where}: ${replanCommand(plan, paths)}`;
}

/** The command that writes a run's reports again (`--db` when the database was named). */
export function reportCommand(runId: number, db: string | null): string {
  const named = db === null ? [] : ['--db', db];
  return ['submigrate', 'report', '--run', String(runId), ...named].map(shellWord).join(' ');
}

/**
 * The snapshot that reads the history of the given accounts: `submigrate snapshot` reads the
 * parent's, and a subaccount's only when named with `--account` (each once, in order). With
 * the database apply used (`db`), as the plan made again names it: a snapshot into another
 * one (./submigrate.db) covers nothing for that plan, and apply would refuse again.
 */
export function snapshotCommand(
  parentSid: string,
  accountSids: readonly string[],
  db: string | null = null,
): string {
  const others = [...new Set(accountSids)].filter((sid) => sid !== parentSid).sort();
  const words = ['submigrate', 'snapshot', ...others.flatMap((sid) => ['--account', sid])];
  if (db !== null) words.push('--db', db);
  return words.map(shellWord).join(' ');
}
