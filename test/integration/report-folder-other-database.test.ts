/**
 * Two databases used from one working folder both have a run 1, and both would write
 * `reports/1/`. The folder's `.submigrate-report` mark names the database and the run that
 * wrote it: another database's `apply` (before it sends anything to Twilio), `reconcile`
 * (before it reads anything) and `report` are refused, and the reports a reviewer may already
 * have signed stay byte for byte as they were. The same database writes its run's reports
 * again as before, and a mark written before it named a database is still accepted.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import {
  filesUnder,
  migrateOnce,
  planAndApply,
  seededStop,
  useCliWorkspace,
} from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N1 = '+14155550101';
const N2 = '+14155550102';
const R1 = '+16505550001';
const MARK = '.submigrate-report';
const FIRST_LINE =
  'Written by submigrate (apply, report, reconcile); it may replace its report files here.';

describe("another database's run 1 in the same working folder", () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: N1 }, { phone_number: N2 }],
      messages: [seededStop(R1, N1, NOW - 10 * DAY), seededStop(R1, N2, NOW - 9 * DAY)],
    },
    NOW,
  );
  const { cli } = ws;
  const dbA = () => ws.dir.file('a.db');
  const dbB = () => ws.dir.file('b.db');
  /** Database B named the other way a user does: SUBMIGRATE_DB, no --db. */
  const cliB = (args: string[], cwd = ws.dir.path) =>
    runCli(args, cliEnv(ws.env, { SUBMIGRATE_DB: dbB() }), cwd);
  const runDir = () => join(ws.dir.path, 'reports', '1');
  /** Every file of reports/1 (the mark too), by its path in the folder, as bytes. */
  const contents = () =>
    new Map(filesUnder(runDir()).map((file) => [relative(runDir(), file), readFileSync(file)]));
  const refused = /reports[/\\]1 holds reports of another database's run/;
  /**
   * What apply and reconcile are told to do: they take no --out, so only another folder lets
   * them run. They were told `submigrate report --out DIR` too, which writes a run's reports
   * elsewhere and leaves them refused here.
   */
  const runElsewhere =
    'Run the command from another folder, naming this database with --db (it writes reports/<run id>/ under the folder it runs in).';

  beforeAll(async () => {
    await migrateOnce(ws, dbA(), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
    writeFileSync(
      ws.dir.file('b.csv'),
      `customer_id,customer_name,phone_number\nbirch,Birch,${N2}\n`,
    );
    expect((await cliB(['snapshot'])).code).toBe(0);
    const planned = await cliB(['plan', '--mapping', 'b.csv', '--out', 'b.plan.json']);
    expect(planned.code, planned.stderr).toBe(0);
  });

  it("apply of database B is refused before it sends anything, and A's reports stay as they were", async () => {
    const before = contents();
    expect([...before.keys()]).toContain('audit.csv');
    await clearRequestLog(ws.env);
    const applied = await cliB(['apply', 'b.plan.json', '--rate', '1000']);
    expect(applied.stderr).toMatch(refused);
    expect(applied.stderr).toContain(runElsewhere);
    expect(applied.stderr).not.toContain('report --out');
    expect(applied.stderr.trim().split('\n')).toHaveLength(1);
    expect(applied.code).toBe(1);
    expect((await requestLog(ws.env)).filter((entry) => entry.method !== 'GET')).toEqual([]);
    expect(contents()).toEqual(before);
  });

  it('report and reconcile of database B are refused too, before they read anything', async () => {
    const before = contents();
    await clearRequestLog(ws.env);
    const report = await cliB(['report', '--run', '1']);
    expect(report.stderr).toMatch(refused);
    expect(report.stderr).toContain(
      'Write the reports elsewhere with `submigrate report --out DIR`',
    );
    expect(report.code).toBe(1);
    const reconcile = await cliB(['reconcile']);
    expect(reconcile.stderr).toMatch(refused);
    expect(reconcile.stderr).toContain(runElsewhere);
    expect(reconcile.stderr).not.toContain('report --out');
    expect(reconcile.code).toBe(1);
    expect(await requestLog(ws.env)).toEqual([]);
    expect(contents()).toEqual(before);
  });

  it('database B applied and reconciled from another folder, as the refusals say, writes its reports there', async () => {
    const elsewhere = ws.dir.file('b-work');
    mkdirSync(elsewhere);
    const applied = await cliB(['apply', ws.dir.file('b.plan.json'), '--rate', '1000'], elsewhere);
    expect(applied.code, applied.stderr).toBe(0);
    expect(readFileSync(join(elsewhere, 'reports', '1', 'audit.csv'), 'utf8')).toContain(N2);
    expect(readFileSync(join(runDir(), 'audit.csv'), 'utf8')).not.toContain(N2);
    const reconciled = await cliB(['reconcile'], elsewhere);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(readFileSync(join(elsewhere, 'reports', '1', 'violations.csv'), 'utf8')).toMatch(
      /^recipient,/,
    );
  });

  it("database A writes its own run's reports again, and the mark names its database and run", async () => {
    const result = await cli(['report', '--db', dbA(), '--run', '1']);
    expect(result.code, result.stderr).toBe(0);
    const [first, database, run] = readFileSync(join(runDir(), MARK), 'utf8').split('\n');
    expect(first).toBe(FIRST_LINE);
    expect(database).toMatch(/^database: [0-9a-f]{32}$/);
    expect(run).toBe('run: 1');
  });

  it('a mark written before it named a database (its first line only) is still accepted', async () => {
    writeFileSync(join(runDir(), MARK), `${FIRST_LINE}\n`);
    const result = await cli(['report', '--db', dbA(), '--run', '1']);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(runDir(), MARK), 'utf8')).toMatch(
      /\ndatabase: [0-9a-f]{32}\nrun: 1\n$/,
    );
  });

  it("a hand-made mark naming no database is not taken for an earlier version's: report --out is refused and touches nothing", async () => {
    // An earlier version's mark, saved again by an editor with Windows line endings, still is.
    const saved = ws.dir.file('saved');
    mkdirSync(saved);
    writeFileSync(join(saved, MARK), `${FIRST_LINE}\r\n`);
    const accepted = await cli(['report', '--db', dbA(), '--run', '1', '--out', saved]);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(readFileSync(join(saved, 'audit.csv'), 'utf8')).toContain(N1);

    for (const [name, text] of [
      ['empty', ''],
      ['a note', 'reports for the auditors: do not delete\n'],
      ['the first line, and more', `${FIRST_LINE}\nmine: keep\n`],
    ] as const) {
      const folder = ws.dir.file(`marked-${name.replace(/\W+/g, '-')}`);
      mkdirSync(folder);
      writeFileSync(join(folder, MARK), text);
      // Someone's own files, named as a run's reports are.
      writeFileSync(join(folder, 'audit.csv'), 'signed,by,me\n');
      mkdirSync(join(folder, 'optouts'));
      writeFileSync(join(folder, 'optouts', 'acme.csv'), 'keep\n');
      const result = await cli(['report', '--db', dbA(), '--run', '1', '--out', folder]);
      expect(result.stderr, name).toMatch(
        /--out .*marked-\S+ holds a \.submigrate-report that submigrate did not write \(it names no database/,
      );
      expect(result.code, name).toBe(1);
      expect(readFileSync(join(folder, MARK), 'utf8'), name).toBe(text);
      expect(readFileSync(join(folder, 'audit.csv'), 'utf8'), name).toBe('signed,by,me\n');
      expect(readFileSync(join(folder, 'optouts', 'acme.csv'), 'utf8'), name).toBe('keep\n');
      expect(filesUnder(folder), name).toHaveLength(3);
    }
  });

  it('report --out into a folder holding another run of the same database is refused', async () => {
    const { applied } = await planAndApply(cli, {
      mapping: ws.dir.file('m.csv'),
      db: dbA(),
      out: ws.dir.file('m2.plan.json'),
      plan: ['--carry-optouts'],
    });
    expect(applied.stdout).toContain('apply run 2');
    const review = ws.dir.file('review');
    expect((await cli(['report', '--db', dbA(), '--run', '1', '--out', review])).code).toBe(0);
    const audit = readFileSync(join(review, 'audit.json'));
    const result = await cli(['report', '--db', dbA(), '--run', '2', '--out', review]);
    expect(result.stderr).toMatch(
      /--out .*review holds the reports of this database's run 1, not run 2/,
    );
    expect(result.code).toBe(1);
    expect(readFileSync(join(review, 'audit.json'))).toEqual(audit);
  });
});
