/**
 * The per-customer lists of a run's reports: each customer's rows, in the combined list's
 * order, read for its file alone (`ReportList.rows`: a run's reports read a customer's rows
 * from where SQLite keeps the sorted list, never the whole list per customer).
 */

import { describe, expect, it } from 'vitest';

import type { MarkedOptOutRow } from '../../src/report/files.js';
import { reportInput } from '../support/report-page-input.js';
import { reportFiles } from '../support/report-files.js';

const CUSTOMERS = 40;
const PER_CUSTOMER = 5;

/** A list row of customer `id`. */
function row(id: string, k: number): MarkedOptOutRow {
  return {
    ...reportInput().optouts!.rows[0]!,
    customer_id: id,
    customer_name: `Customer ${id}`,
    body: 'STOP',
    recipient: `+1555777${String(k).padStart(4, '0')}`,
    twilio_enforces: 'no',
    customer_list: 'whole',
  };
}

describe('reportFiles: the per-customer lists', () => {
  const input = reportInput();
  const ids = Array.from({ length: CUSTOMERS }, (_, c) => `c${c}`);
  // Interleaved, as no order of the combined list is assumed: c0, c1, … c39, c0, c1, …
  const rows = Array.from({ length: CUSTOMERS * PER_CUSTOMER }, (_, i) =>
    row(ids[i % CUSTOMERS]!, i),
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
});
