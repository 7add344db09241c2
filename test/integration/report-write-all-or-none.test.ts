/**
 * `submigrate report` into a run's folder where one report file cannot be written (a folder
 * stands where a customer's list goes) fails before it replaces any of the others: the folder
 * keeps one run's reports, all of one moment, never new audit files beside an old report.html
 * (built CLI, emulator over HTTP).
 */

import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { migrateOnce, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe('report files written all or none', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }] }, NOW);
  const db = () => ws.dir.file('w.db');
  const folder = () => join(ws.dir.path, 'reports', '1');

  beforeAll(async () => {
    await migrateOnce(ws, db(), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
  });

  it('replaces none of them when one cannot be written', async () => {
    const list = join(folder(), 'optouts', 'acme.csv');
    rmSync(list);
    mkdirSync(list);
    const files = ['audit.csv', 'audit.json', 'carry.csv', 'optouts.csv', 'report.html'];
    const before = new Map(files.map((f) => [f, statSync(join(folder(), f)).ino]));

    const result = await ws.cli(['report', '--db', db()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${list}: cannot write it`);
    // And says so: none of the reports was written.
    expect(result.stderr).toMatch(
      /; none of the \d+ files being written with it was written or replaced\.$/m,
    );
    expect(new Map(files.map((f) => [f, statSync(join(folder(), f)).ino]))).toEqual(before);
    // No temporary file is left behind.
    expect(
      readdirSync(folder(), { recursive: true }).filter((f) => String(f).endsWith('.tmp')),
    ).toEqual([]);

    // Once the way is clear, every file is written.
    rmSync(list, { recursive: true });
    const again = await ws.cli(['report', '--db', db()]);
    expect(again.code, again.stderr).toBe(0);
    expect(statSync(list).isFile()).toBe(true);
  }, 60_000);
});
