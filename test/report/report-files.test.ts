/**
 * The per-customer lists of a run's reports: each customer's rows, in the combined list's
 * order, and the combined list walked once to group them — a real migration has 1,000
 * customers and tens of thousands of rows, and filtering them again for each customer took
 * most of a report's time.
 */

import { describe, expect, it } from 'vitest';

import { reportFiles, type MarkedOptOutRow } from '../../src/report/files.js';
import { reportInput } from '../support/report-page-input.js';

const CUSTOMERS = 40;
const PER_CUSTOMER = 5;

/** A list row of customer `id` that counts how often its customer is looked at. */
function row(id: string, k: number, reads: { n: number }): MarkedOptOutRow {
  const base = reportInput().optouts!.rows[0]!;
  const fields = {
    ...base,
    customer_name: `Customer ${id}`,
    body: 'STOP',
    recipient: `+1555777${String(k).padStart(4, '0')}`,
    twilio_enforces: 'no',
    customer_list: 'whole' as const,
  };
  return Object.defineProperty(fields, 'customer_id', {
    enumerable: true,
    get: () => {
      reads.n += 1;
      return id;
    },
  }) as MarkedOptOutRow;
}

describe('reportFiles: the per-customer lists', () => {
  const input = reportInput();
  const ids = Array.from({ length: CUSTOMERS }, (_, c) => `c${c}`);
  const reads = { n: 0 };
  // Interleaved, as no order of the combined list is assumed: c0, c1, … c39, c0, c1, …
  const rows = Array.from({ length: CUSTOMERS * PER_CUSTOMER }, (_, i) =>
    row(ids[i % CUSTOMERS]!, i, reads),
  );
  const document = {
    ...input.document,
    customers: ids.map((id) => ({ ...input.document.customers[0]!, customer_id: id })),
    carry: { planned: false, customers: [], items: [] },
  };
  const write = () =>
    reportFiles(
      input.rows,
      document,
      { coverage: input.optouts!.coverage, rows, partial: new Set() },
      null,
    );

  it("gives each customer its own rows, in the list's order", () => {
    const files = new Map(write().map((f) => [f.path, f.content]));
    for (const [c, id] of ids.entries()) {
      const lines = files.get(`optouts/${id}.csv`)!.trim().split('\n').slice(1);
      const recipients = lines.map((line) => line.split(',')[2]);
      expect(recipients).toEqual(
        Array.from(
          { length: PER_CUSTOMER },
          (_, k) => `+1555777${String(c + k * CUSTOMERS).padStart(4, '0')}`,
        ),
      );
    }
  });

  it('walks the combined list once to group it, not once for each customer', () => {
    reads.n = 0;
    write();
    // Each row's customer is read when the combined list and the customer's own file are
    // written (a column of both; the CSV writer looks at each file's first row once more) and
    // once to group it. Filtering the list for each customer reads every row's once more per
    // customer (40 × 200 = 8,000 more).
    expect(reads.n).toBe(3 * rows.length + CUSTOMERS);
  });
});
