/** How many of a run's steps are in each state: a run's result, and `status`. */

import type { StepRecord, StepState } from '../db/journal.js';

export function countStates(records: Iterable<StepRecord>): Record<StepState, number> {
  const counts: Record<StepState, number> = {
    pending: 0,
    in_flight: 0,
    done: 0,
    skipped: 0,
    failed: 0,
    not_run: 0,
  };
  for (const record of records) counts[record.state] += 1;
  return counts;
}
