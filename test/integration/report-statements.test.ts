/**
 * What writing a run's reports asks of the database, counted (apply writes them after its
 * last request, and `report` and reconcile write them again): the coverage is read once — when
 * numbers last left each account is read over every transfer in the journal, half a second for
 * 3,000 numbers, and it was read twice — and no statement runs once per customer.
 */

import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { runReport } from '../../src/apply/reports.js';
import type { Db } from '../../src/db/open.js';
import { lastDepartures, numberDepartures } from '../../src/db/reconcile.js';
import { applyCleanly, makePlan, seededStop, useCliWorkspace } from '../support/migration.js';
import { withLedger } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const phone = (i: number) => `+1415555${String(950 + i)}`;
const recipient = (i: number) => `+1206555${String(950 + i)}`;

/** How often each statement (by its SQL) was prepared while `fn` ran, and how many ran. */
function counted(
  db: Db,
  fn: () => void,
): { prepared: Map<string, number>; runs: number; args: Map<string, unknown[]> } {
  const prepared = new Map<string, number>();
  const args = new Map<string, unknown[]>();
  let runs = 0;
  const prepare = db.prepare;
  db.prepare = ((sql: string) => {
    prepared.set(sql, (prepared.get(sql) ?? 0) + 1);
    const statement = prepare.call(db, sql);
    for (const method of ['run', 'get', 'all', 'iterate'] as const) {
      const original = statement[method] as (...args: unknown[]) => unknown;
      (statement as unknown as Record<string, unknown>)[method] = (...given: unknown[]) => {
        runs += 1;
        args.set(sql, given);
        return original.apply(statement, given);
      };
    }
    return statement;
  }) as Db['prepare'];
  try {
    fn();
  } finally {
    db.prepare = prepare;
  }
  return { prepared, runs, args };
}

/** Customers `c<i>`, a number each, mapped into `name`.csv, planned and applied into `name`.db. */
async function move(ws: ReturnType<typeof useCliWorkspace>, name: string, customers: number[]) {
  const rows = customers.map((i) => `c${i},Customer ${i},${phone(i)},c${i}Alerts`);
  writeFileSync(
    ws.dir.file(`${name}.csv`),
    `customer_id,customer_name,phone_number,messaging_service\n${rows.join('\n')}\n`,
  );
  const [mapping, db, out] = [`${name}.csv`, `${name}.db`, `${name}.plan.json`];
  await makePlan(ws.cli, { mapping, db, out });
  await applyCleanly(ws.cli, out, db);
  return ws.dir.file(db);
}

/** Eight numbers with an opt-out each, for a workspace of its own (one run's reports folder). */
const workspace = () =>
  useCliWorkspace({
    numbers: Array.from({ length: 8 }, (_, i) => ({ phone_number: phone(i) })),
    // Every customer's list holds an opt-out: the lists are written for each.
    messages: Array.from({ length: 8 }, (_, i) =>
      seededStop(recipient(i), phone(i), Date.now() - 3 * DAY),
    ),
  });

describe("the reports' statements", () => {
  const small = workspace();
  const large = workspace();
  const keyed = workspace();

  it('read the coverage once, and run as many for six customers as for two', async () => {
    const two = await move(small, 'm', [0, 1]);
    const six = await move(large, 'm', [2, 3, 4, 5, 6, 7]);

    const counts = await Promise.all(
      [two, six].map((db) =>
        withLedger(db, (d) => {
          // The statements lastDepartures runs of its own (numberDepartures' are the claims'
          // too): the coverage's, read over every transfer in the journal.
          const departures = counted(d, () => numberDepartures(d)).prepared;
          const own = [...counted(d, () => lastDepartures(d)).prepared.keys()].filter(
            (sql) => !departures.has(sql),
          );
          expect(own.length).toBeGreaterThan(0);
          let listed = 0;
          const report = counted(d, () => {
            listed = runReport(d, 1).files.filter(
              (f) => f.path.startsWith('optouts/') && f.content !== null,
            ).length;
          });
          for (const sql of own) expect(report.prepared.get(sql), sql).toBe(1);
          return { listed, prepared: [...report.prepared.values()], runs: report.runs };
        }),
      ),
    );
    // Each customer's list written, with no statement for it.
    expect(counts.map((c) => c.listed)).toEqual([2, 6]);
    expect(counts[1]!.prepared.reduce((a, b) => a + b)).toBe(
      counts[0]!.prepared.reduce((a, b) => a + b),
    );
    expect(counts[1]!.runs).toBe(counts[0]!.runs);
  });

  it('look numbers up by their key, never scan them once per move', async () => {
    // A transfer step's id holds its number's SID: joined on a concatenation, SQLite scans every
    // recorded number for each transfer in the journal (steps × numbers: minutes at 100,000).
    const db = await move(keyed, 'm', [0, 1, 2]);
    const scans = await withLedger(db, (d) => {
      const { args } = counted(d, () => {
        runReport(d, 1);
        numberDepartures(d);
        lastDepartures(d);
      });
      return [...args].flatMap(([sql, given]) => {
        const rows = d.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...given) as {
          id: number;
          parent: number;
          detail: string;
        }[];
        // A scan of the numbers inside another loop of the same query (one before it, under the
        // same parent) runs once per row of that loop; a scan of them alone runs once.
        return rows
          .filter(
            (row, i) =>
              /^SCAN (n|customer_numbers)\b/.test(row.detail) &&
              rows
                .slice(0, i)
                .some((r) => r.parent === row.parent && /^(SCAN|SEARCH)/.test(r.detail)),
          )
          .map((row) => `${row.detail} in ${sql}`);
      });
    });
    expect(scans).toEqual([]);
  });
});
