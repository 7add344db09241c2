/**
 * After the moves, the history of the accounts the run's numbers left, read up to now
 * (`readUpToTheMoves`), so that a STOP said between the plan and the move is on its
 * customer's list; and which accounts a completed snapshot has read (`historyRead`).
 */

import type { StepRecord } from '../db/journal.js';
import type { Db } from '../db/open.js';
import { completedWindows } from '../db/snapshot-runs.js';
import { DEFAULT_PARTITIONS, takeSnapshot } from '../optouts/snapshot.js';
import { reportCommand, snapshotCommand } from '../plan/replan.js';
import type { Plan } from '../plan/types.js';
import type { ApplyDeps } from './apply-types.js';

/** The accounts a completed snapshot has read some history of. */
export const historyRead = (db: Db) => new Set(completedWindows(db).map((w) => w.accountSid));

/**
 * After the moves, the history of the accounts the run's numbers left is read up to now, as
 * plan's refresh reads it (GET only, the Messages API): a STOP said to a number after the plan
 * read its account and before the number left it was enforced by that account, and the
 * subaccount never saw it, so only this read puts it on its customer's list. (The parent is
 * always read, as by every snapshot; a subaccount source with its own credentials.) When the
 * read fails the run goes on to its checks and reports: coverage counts the span up to the
 * moves as not read, and what is returned says so, with the command that reads it.
 */
export async function readUpToTheMoves(
  plan: Plan,
  records: ReadonlyMap<string, StepRecord>,
  deps: ApplyDeps,
  runId: number,
  dbPath: string | null,
  /** What the read says of a stopped snapshot it abandons (as plan's refresh says it). */
  onNotice: (text: string) => void,
  /** How many ledger events the read added, once it has read. */
  onRead: (eventsAdded: number) => void,
): Promise<string | undefined> {
  // Only history a snapshot has read before is brought up to date: an account none has read
  // (numbers moved with --allow-missing-snapshot) is read from its start by `submigrate
  // snapshot`, not by apply, and its customers' lists are already said to be not known.
  const read = historyRead(deps.db);
  if (!read.has(plan.parent_account_sid)) return undefined;
  const left = new Set<string>();
  for (const step of plan.steps) {
    const state = records.get(step.id)?.state;
    if (
      step.action === 'transfer_number' &&
      (state === 'done' || state === 'skipped') &&
      read.has(step.from_account_sid)
    ) {
      left.add(step.from_account_sid);
    }
  }
  if (left.size === 0) return undefined;
  const accounts = [...left].filter((sid) => sid !== plan.parent_account_sid).sort();
  try {
    const read = await takeSnapshot(
      {
        accounts,
        since: null,
        until: null,
        partitions: DEFAULT_PARTITIONS,
        // Only GETs, as a plan's: older history is `submigrate snapshot`'s to read.
        useExport: false,
        madeBy: 'apply',
      },
      { twilio: deps.twilio, db: deps.db, clock: deps.clock, runner: deps.runner, onNotice },
    );
    onRead(read.eventsAdded);
    return undefined;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return `the history of ${[...left].sort().join(', ')} after the plan read it was not read up to the moves (${why}): a STOP said to a moved number in between is on no list, so the suppression lists of the customers whose numbers came from there are not whole. Run \`${snapshotCommand(plan.parent_account_sid, accounts, dbPath)}\`, then \`${reportCommand(runId, dbPath)}\` to write this run's reports again`;
  }
}
