/**
 * The reports of a run whose moved numbers carry a very large suppression list are written
 * under the CLI's capped heap: SQLite sorts the list and keeps it (a temporary table), each
 * file reads it a row at a time, and report.html counts a list too big for a page per
 * customer. The heap a report needs no longer grows with the list: here 100,000 opt-outs under
 * a 32 MB heap. Held whole to be sorted and marked, they needed more than 48 MB (and 2,000,000
 * stopped `report` with "JavaScript heap out of memory" under bin/submigrate.js's 512 MB).
 * Built CLI, emulator over HTTP; the opt-outs are copies of a snapshot's STOP in the ledger.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { PAGE_LIST_ROWS } from '../../src/report/report-page.js';
import {
  copyOptOuts,
  migrateOneCustomer,
  seededStop,
  useCliWorkspace,
} from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const NUMBERS = ['+14155550101', '+14155550102'];
/** Opt-outs per moved number (two customers, one number each). */
const PER_NUMBER = 50_000;

describe('the reports of a very large suppression list', () => {
  const ws = useCliWorkspace({
    numbers: NUMBERS.map((phone_number) => ({ phone_number })),
    messages: NUMBERS.map((n, i) => seededStop(`+1206555000${i}`, n, Date.now() - 86_400_000)),
  });

  it('are written whole under a small heap, the page counting the list per customer', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${NUMBERS[0]}\nbeta,Beta,${NUMBERS[1]}\n`,
    );
    const db = ws.dir.file('a.db');
    await migrateOneCustomer(ws.cli, { mapping: 'm.csv', db, out: 'a.plan.json' });
    // Each number's STOP again from PER_NUMBER more recipients, as a snapshot records them.
    copyOptOuts(db, PER_NUMBER);

    const report = await runCli(
      ['report', '--db', db, '--out', 'big'],
      cliEnv(ws.env, { NODE_OPTIONS: '--max-old-space-size=32' }),
      ws.dir.path,
    );
    expect(report.stderr).not.toContain('heap out of memory');
    expect(report.code, report.stderr).toBe(0);
    const lines = (path: string) =>
      readFileSync(join(ws.dir.path, 'big', path), 'utf8')
        .trimEnd()
        .split('\n');
    const all = lines('optouts.csv');
    expect(all).toHaveLength(1 + 2 * (PER_NUMBER + 1));
    expect(lines('optouts/acme.csv')).toEqual([all[0], ...all.slice(1, PER_NUMBER + 2)]);
    expect(lines('optouts/beta.csv')).toEqual([all[0], ...all.slice(PER_NUMBER + 2)]);
    expect(2 * (PER_NUMBER + 1)).toBeGreaterThan(PAGE_LIST_ROWS);
    const page = readFileSync(join(ws.dir.path, 'big', 'report.html'), 'utf8');
    expect(page).toContain(`The list has ${2 * (PER_NUMBER + 1)} rows, too many for this page`);
    expect(page).toMatch(
      /<td>acme<\/td><td class="num">50001<\/td>\s*<td>\s*<code>optouts\/acme\.csv<\/code>/,
    );
    expect(page).not.toContain('+13000000001');
  });
});
