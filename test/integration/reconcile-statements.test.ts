/**
 * What reconcile asks of the database for the numbers apply moved: one statement, with no
 * lookup per number. When an apply began to create each number's subaccount was a subquery run
 * for each moved number, which scanned the whole journal each time (3,000 numbers: 13 s of a
 * pass before it read a message).
 */

import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import type { Db } from '../../src/db/open.js';
import { movedNumbers } from '../../src/db/reconcile.js';
import { applyCleanly, makePlan, useCliWorkspace } from '../support/migration.js';
import { withLedger } from '../support/snapshot-harness.js';

const phone = (i: number) => `+1415555${String(960 + i)}`;

/** The query plan of each statement `fn` prepares, as SQLite gives it. */
function plans(db: Db, fn: () => void): { id: number; parent: number; detail: string }[][] {
  const sqls: string[] = [];
  const prepare = db.prepare;
  db.prepare = ((sql: string) => {
    sqls.push(sql);
    return prepare.call(db, sql);
  }) as Db['prepare'];
  try {
    fn();
  } finally {
    db.prepare = prepare;
  }
  return sqls.map(
    (sql) =>
      db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as {
        id: number;
        parent: number;
        detail: string;
      }[],
  );
}

describe('the moved numbers, as reconcile reads them', () => {
  const ws = useCliWorkspace({
    numbers: Array.from({ length: 3 }, (_, i) => ({ phone_number: phone(i) })),
  });

  it('say when their subaccount was created, with no lookup run for each number', async () => {
    const rows = [0, 1, 2].map((i) => `c${i},Customer ${i},${phone(i)},c${i}Alerts`);
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\n${rows.join('\n')}\n`,
    );
    await makePlan(ws.cli, { mapping: 'm.csv', db: 'm.db', out: 'm.plan.json' });
    await applyCleanly(ws.cli, 'm.plan.json', 'm.db');

    await withLedger(ws.dir.file('m.db'), (db) => {
      const created = new Map(
        (
          db
            .prepare(
              `SELECT customer_id, started_at FROM apply_steps WHERE action = 'create_subaccount'`,
            )
            .all() as { customer_id: string; started_at: string }[]
        ).map((r) => [r.customer_id, r.started_at]),
      );
      let moved: ReturnType<typeof movedNumbers> = [];
      const [plan, ...more] = plans(db, () => (moved = movedNumbers(db)));
      expect(more).toEqual([]);
      // Each number's subaccount was created by the apply, when its step began.
      expect(moved.map((m) => [m.customerId, m.subaccountCreatedAt])).toEqual(
        ['c0', 'c1', 'c2'].map((id) => [id, created.get(id)]),
      );
      expect(created.size).toBe(3);
      // A correlated subquery runs once per row of the query: once per moved number.
      expect(plan!.filter((row) => row.detail.startsWith('CORRELATED'))).toEqual([]);
    });
  });
});
