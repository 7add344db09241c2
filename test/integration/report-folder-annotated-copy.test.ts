/**
 * `writtenBeforeMarks` (src/cli/reports.ts) takes a folder without the mark as a run's when
 * every file in it begins as a report file does; for a CSV that is only that its first line
 * *starts with* the columns (`isReportFileText`, src/report/files.ts). A reviewer who copied a
 * run's audit.json and audit.csv into a folder of their own and added a column of notes to
 * the CSV (what a spreadsheet does when you type into the next column) still has a folder that
 * passes: `report --out` into it replaces their annotated audit.csv, and the notes are gone.
 * docs/commands.md: anything else there (a reviewer's notes) is refused and left untouched.
 */

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { cliEnv, runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe("a reviewer's folder holding an annotated copy of a run's audit", () => {
  let env: TestEmulator;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const db = () => dir.file('o.db');

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => NOW });
    await env.seed({ numbers: [{ phone_number: N1 }] });
    dir = tempDir();
    writeFileSync(dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const plan = dir.file('m.plan.json');
    expect(
      (await cli(['plan', '--mapping', dir.file('m.csv'), '--db', db(), '--out', plan])).code,
    ).toBe(0);
    const applied = await cli(['apply', plan, '--db', db(), '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
  });
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  it("report --out into it is refused, and the reviewer's notes are left as they were", async () => {
    const run = join(dir.path, 'reports', '1');
    const mine = join(dir.path, 'compliance');
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
