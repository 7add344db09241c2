/**
 * An apply run keeps the plan it ran in the journal (`report`, `routes` and `reconcile` read it
 * from there): the plan file's text as read and sealed, byte for byte, not the plan written out
 * again. Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';
import { editedAndResealed } from '../support/plan-builders.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const X = '+14155550101';
const Y = '+14155550102';

describe("an apply run's plan in the journal", () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: X }, { phone_number: Y }] }, NOW);

  it("is the plan file's text as read, byte for byte, and the run's reports read it", async () => {
    const { cli, dir } = ws;
    const db = dir.file('t.db');
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${X}\nglobex,Globex,${Y}\n`,
    );
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: 'm.csv', db, out: dir.file('t.plan.json') });
    // The same plan, sealed, laid out otherwise than `plan` lays it out (as another tool, or
    // another version, may have written it): written out again, it would not be these bytes.
    const text = editedAndResealed(readFileSync(dir.file('t.plan.json'), 'utf8'), () => undefined);
    expect(text).not.toBe(readFileSync(dir.file('t.plan.json'), 'utf8'));
    writeFileSync(dir.file('laid-out.plan.json'), text);

    const applied = await cli(['apply', 'laid-out.plan.json', '--db', db, '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    const handle = new Database(db, { readonly: true });
    const kept = handle.prepare('SELECT plan_json FROM apply_runs WHERE id = 1').pluck().get();
    handle.close();
    expect(kept).toBe(text);

    // apply wrote its reports from the plan it held; `report` reads the run's plan from the
    // journal: the same files, but for the moment each was made.
    const report = await cli(['report', '--db', db, '--run', '1', '--out', dir.file('again')]);
    expect(report.code, report.stderr).toBe(0);
    const read = (path: string) =>
      readFileSync(dir.file(path), 'utf8').replace(/"generated_at": ?"[^"]*"/g, '');
    expect(read('again/audit.csv')).toContain(X);
    for (const file of ['audit.csv', 'audit.json', 'optouts.csv', 'optouts/acme.csv']) {
      expect(read(`again/${file}`), file).toBe(read(`reports/1/${file}`));
    }
  });
});
