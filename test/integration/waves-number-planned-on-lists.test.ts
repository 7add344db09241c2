/**
 * A number wave 1 moved into acme's subaccount, which a second mapping gives to beta, planned
 * and not applied: the number is still acme's to send from. Wave 1's reports, written again,
 * do not change (they bind the customers of the plan the run applied), and acme's list from
 * `optouts --customer acme` keeps the parent's opt-out the number heard before wave 1 — it
 * dropped it, exit 0, once the later plan recorded the number as beta's (built CLI, emulator
 * over HTTP).
 */

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { makePlan, planAndApply, seededStop } from '../support/migration.js';
import { cliEnv, runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';

const N = '+14155550731';
const PARENT_STOP = '+12065550731';
const DAY = 86_400_000;

/** Every file of a report folder but report.html (which says when it was generated). */
function reportFiles(folder: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, `${prefix}${entry.name}/`);
      else if (entry.name !== 'report.html')
        files.set(`${prefix}${entry.name}`, readFileSync(path, 'utf8'));
    }
  };
  walk(folder, '');
  return files;
}

describe('lists while a moved number is planned on to another customer, not applied', () => {
  let env: TestEmulator;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const db = () => dir.file('w.db');

  beforeAll(async () => {
    env = await startTestEmulator();
    await env.seed({
      numbers: [{ phone_number: N, sms_url: 'https://app.example/n' }],
      messages: [seededStop(PARENT_STOP, N, Date.now() - 3 * DAY)],
    });
    dir = tempDir();
  });
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  it("keeps the parent's opt-out on acme's list and wave 1's reports as they were", async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    writeFileSync(dir.file('m1.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${N}\n`);
    await planAndApply(cli, { mapping: dir.file('m1.csv'), db: db(), out: dir.file('p1.json') });
    const before = reportFiles(dir.file('reports/1'));
    expect(before.get('optouts/acme.csv')).toContain(PARENT_STOP);
    const listedBefore = await cli(['optouts', '--db', db(), '--customer', 'acme']);
    expect(listedBefore.stdout).toContain(PARENT_STOP);

    // Wave 2 planned, not applied: the number stays in acme's subaccount.
    writeFileSync(dir.file('m2.csv'), `customer_id,customer_name,phone_number\nbeta,Beta,${N}\n`);
    await makePlan(cli, { mapping: dir.file('m2.csv'), db: db(), out: dir.file('p2.json') });

    const rewritten = await cli(['report', '--db', db(), '--run', '1']);
    expect(rewritten.code, rewritten.stderr).toBe(0);
    const after = reportFiles(dir.file('reports/1'));
    // Coverage is read as it is now (plan snapshotted again); every list and table is not.
    for (const name of [...before.keys()].filter((n) => n !== 'coverage.txt'))
      expect(after.get(name), name).toBe(before.get(name));
    expect(readFileSync(dir.file('reports/1/report.html'), 'utf8')).toContain(PARENT_STOP);

    // Acme still holds the number: its list keeps the parent's opt-out; beta, whose number
    // the plan not applied makes it, lists it too.
    const acme = await cli(['optouts', '--db', db(), '--customer', 'acme']);
    expect(acme.code, acme.stderr).toBe(0);
    expect(acme.stdout).toMatch(new RegExp(`^acme,Acme,\\${PARENT_STOP},\\${N},`, 'm'));
    const beta = await cli(['optouts', '--db', db(), '--customer', 'beta']);
    expect(beta.code, beta.stderr).toBe(0);
    expect(beta.stdout).toMatch(new RegExp(`^beta,Beta,\\${PARENT_STOP},\\${N},`, 'm'));
  }, 120_000);
});
