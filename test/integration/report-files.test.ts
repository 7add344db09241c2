/**
 * The files the reporting commands write. The database is "the ledger, the journal
 * and the evidence" (README) and is never to be overwritten by an export; `report --out DIR`
 * must not replace a file in DIR that is not one of submigrate's reports.
 */

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { migrateOnce, seededStop, useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N1 = '+14155550101';
const R1 = '+16505550001';

describe('files the reporting commands write', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: N1 }],
      messages: [seededStop(R1, N1, NOW - 10 * DAY)],
    },
    NOW,
  );
  const { cli } = ws;
  const db = () => ws.dir.file('f.db');

  beforeAll(async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
  });

  it('optouts --out naming the database itself is refused, and the database is left intact', async () => {
    const before = readFileSync(db());
    const result = await cli(['optouts', '--db', db(), '--out', db()]);
    const after = readFileSync(db());
    expect(after.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\u0000');
    expect(after.equals(before)).toBe(true);
    expect(result.code).not.toBe(0);
    // and the ledger still answers
    expect((await cli(['optouts', '--db', db()])).code).toBe(0);
  });

  it('report --out DIR does not overwrite a file there that submigrate did not write', async () => {
    // A database of its own: the test above may have damaged the first one.
    await migrateOnce(
      ws,
      ws.dir.file('g.db'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`,
    );
    const mine = ws.dir.file('signed-off');
    mkdirSync(mine);
    const signed = 'my own notes: list signed off by J. Doe\n';
    writeFileSync(join(mine, 'coverage.txt'), signed);
    const result = await cli(['report', '--db', ws.dir.file('g.db'), '--out', mine]);
    expect(readFileSync(join(mine, 'coverage.txt'), 'utf8')).toBe(signed);
    expect(result.code).not.toBe(0);
  });

  it('apply whose reports folder holds files it did not write refuses before sending anything', async () => {
    // A number of its own: the tests above moved N1 already.
    const N2 = '+14155550102';
    await ws.env.seed({ numbers: [{ phone_number: N2 }] });
    const work = ws.dir.file('apply-here');
    mkdirSync(join(work, 'reports', '1'), { recursive: true });
    const signed = 'my own notes\n';
    writeFileSync(join(work, 'reports', '1', 'notes.txt'), signed);
    writeFileSync(
      join(work, 'm.csv'),
      `customer_id,customer_name,phone_number\nbirch,Birch,${N2}\n`,
    );
    const own = join(work, 'h.db');
    const here = (args: string[]) => runCli(args, cliEnv(ws.env), work);
    expect((await here(['snapshot', '--db', own])).code).toBe(0);
    const planned = await here(['plan', '--mapping', 'm.csv', '--db', own, '--out', 'm.plan.json']);
    expect(planned.stdout).toMatch(/Plan: 1 subaccount, 1 number to move/);
    await clearRequestLog(ws.env);
    const applied = await here(['apply', 'm.plan.json', '--db', own, '--rate', '1000']);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(/reports[/\\]1 already holds files submigrate did not write/);
    // apply takes no --out: "name a new or empty folder", as it said, was nothing it could do.
    expect(applied.stderr).toContain(
      'run the command from another folder, naming this database with --db (it writes reports/<run id>/ under the folder it runs in)',
    );
    expect(applied.stderr).not.toContain('name a new or empty folder');
    expect((await requestLog(ws.env)).filter((entry) => entry.method !== 'GET')).toEqual([]);
    expect(readFileSync(join(work, 'reports', '1', 'notes.txt'), 'utf8')).toBe(signed);
  });
});
