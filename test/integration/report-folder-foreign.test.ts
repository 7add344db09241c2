/**
 * A reviewer's own folder named with `report --out`: one holding a copy of a run's audit.json
 * beside their own files, or an annotated copy of a run's audit (a column of notes added, as a
 * spreadsheet does). Neither bears the mark, so `report --out` refuses it and leaves every
 * file as it was (docs/commands.md: a folder holding files submigrate did not write is
 * refused).
 */

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { migrateOnce, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe("a user's folder holding a copy of a run's audit.json", () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }] }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('o.db');

  beforeAll(async () => {
    await migrateOnce(ws, db(), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
  });

  it("report --out into it is refused, and the user's own file is left as it was", async () => {
    const mine = join(ws.dir.path, 'compliance');
    mkdirSync(mine);
    copyFileSync(join(ws.dir.path, 'reports', '1', 'audit.json'), join(mine, 'audit.json'));
    const notes = 'recipient,notes\n+16505550001,called them on Monday\n';
    writeFileSync(join(mine, 'optouts.csv'), notes);
    const result = await cli(['report', '--db', db(), '--run', '1', '--out', mine]);
    expect(readFileSync(join(mine, 'optouts.csv'), 'utf8')).toBe(notes);
    expect(result.stderr).toMatch(/already holds files submigrate did not write/);
    expect(result.code).not.toBe(0);
  });

  it("an annotated copy of a run's audit: refused, and the reviewer's notes are left as they were", async () => {
    const run = join(ws.dir.path, 'reports', '1');
    const mine = join(ws.dir.path, 'annotated');
    mkdirSync(mine);
    copyFileSync(join(run, 'audit.json'), join(mine, 'audit.json'));
    const [header, ...rows] = readFileSync(join(run, 'audit.csv'), 'utf8').trimEnd().split('\n');
    const annotated = `${[`${header},reviewer_notes`, ...rows.map((r) => `${r},checked the route by hand`)].join('\n')}\n`;
    writeFileSync(join(mine, 'audit.csv'), annotated);
    const result = await cli(['report', '--db', db(), '--run', '1', '--out', mine]);
    expect(readFileSync(join(mine, 'audit.csv'), 'utf8')).toBe(annotated);
    expect(result.stderr).toMatch(/already holds files submigrate did not write/);
    expect(result.code).not.toBe(0);
  });
});
