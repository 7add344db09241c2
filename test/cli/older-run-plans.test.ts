/**
 * `report`, `routes` and `reconcile` read again the plan each apply run ran, from the journal.
 * A run's plan may have been written by an earlier `plan`, which allowed what this one refuses
 * (`--carry-batch-size` above 25, before it was capped): the run happened, and its reports are
 * still written. A plan file with it is still refused by `apply`. Needs `npm run build`.
 */

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { editedAndResealed } from '../support/plan-builders.js';
import { makePlan, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const X = '+14155550101';
const Y = '+14155550102';

/** As an earlier `plan --carry-optouts --carry-batch-size 50` wrote it. */
const withBatchOf50 = (text: string) =>
  editedAndResealed(text, (json) => {
    for (const step of json.steps) {
      if (step.action !== 'carry_optouts') continue;
      step.batch_size = 50;
      step.requests = Math.ceil(step.optouts / 50);
    }
    json.carry.batch_size = 50;
  });

describe('the plan of a run an earlier submigrate applied', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: X }, { phone_number: Y }],
      messages: ['+12065550001', '+12065550002'].map((from, i) => ({
        from,
        to: i === 0 ? X : Y,
        body: 'STOP',
        direction: 'inbound' as const,
        date_sent: new Date(NOW - (i + 5) * DAY).toISOString(),
      })),
    },
    NOW,
  );

  it('with --carry-batch-size 50: its reports and routes are still written', async () => {
    const { cli, dir } = ws;
    const db = dir.file('o.db');
    const plan = dir.file('o.plan.json');
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${X}\nacme,Acme,${Y}\n`,
    );
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: 'm.csv', db, out: plan, plan: ['--carry-optouts'] });
    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);

    // The journal holds the run's plan as the earlier version wrote it.
    const old = withBatchOf50(readFileSync(plan, 'utf8'));
    const seal = `sha256:${createHash('sha256')
      .update(old.slice(0, old.lastIndexOf(',\n  "integrity"')))
      .digest('hex')}`;
    expect(old).toContain(seal);
    const handle = new Database(db);
    handle
      .prepare('UPDATE apply_runs SET plan_json = ?, plan_integrity = ? WHERE id = 1')
      .run(old, seal);
    handle.close();

    const report = await cli(['report', '--db', db, '--run', '1']);
    expect(report.code, report.stderr).toBe(0);
    const routes = await cli(['routes', '--db', db]);
    expect(routes.stderr).not.toContain('batch_size');
    expect(routes.code, routes.stderr).toBe(0);

    // A plan file so made is still refused before apply sends anything.
    writeFileSync(dir.file('old.plan.json'), old);
    const refused = await cli(['apply', dir.file('old.plan.json'), '--db', db, '--dry-run']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('batch_size is 50');
  });
});
