/**
 * `reportFileWriters` for tests: a list given as an array of rows (`ReportList` as the run's
 * reports give it, counted and grouped by customer in the array's order), each file's content
 * as one string.
 */

import { fileText } from '../../src/files.js';
import type { Coverage } from '../../src/optouts/export.js';
import {
  reportFileWriters,
  type MarkedOptOutRow,
  type ReportList,
} from '../../src/report/files.js';

export function reportListOf(optouts: {
  coverage: Coverage;
  rows: readonly MarkedOptOutRow[];
  partial: ReadonlySet<string>;
}): ReportList {
  const counts = new Map<string | null, number>();
  for (const r of optouts.rows) counts.set(r.customer_id, (counts.get(r.customer_id) ?? 0) + 1);
  return {
    coverage: optouts.coverage,
    partial: optouts.partial,
    counts,
    rows: (customerId) =>
      customerId === undefined
        ? optouts.rows
        : optouts.rows.filter((r) => r.customer_id === customerId),
  };
}

/** `reportFileWriters`, with the list as an array of rows, each file's content as one string. */
export function reportFiles(
  rows: Parameters<typeof reportFileWriters>[0],
  document: Parameters<typeof reportFileWriters>[1],
  optouts: Parameters<typeof reportListOf>[0] | null,
  violations: Parameters<typeof reportFileWriters>[3],
  olderRulesRuns?: number,
): { path: string; content: string | null }[] {
  return reportFileWriters(
    rows,
    document,
    optouts === null ? null : reportListOf(optouts),
    violations,
    olderRulesRuns,
  ).map((file) => ({
    path: file.path,
    content: file.content === null ? null : fileText(file.content),
  }));
}
