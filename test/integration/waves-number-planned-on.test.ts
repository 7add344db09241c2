/**
 * A number wave 1 moved into acme's subaccount, which a second mapping gives to beta, planned
 * and not applied: planning records the number's mapping, and with it where the number is now
 * as its source, while the number is still acme's to send from (built CLI, emulator over HTTP).
 * - Reconcile holds the number's sends from acme's subaccount, as acme's, to the parent's
 *   opt-outs it heard before wave 1, which its recorded source no longer names (it said no
 *   number had been moved), and still does once the applied mapping is planned again (it held
 *   them to acme's subaccount's history alone: the send was clean).
 * - Wave 1's reports, written again, do not change (they bind the customers of the plan the
 *   run applied), and `optouts --customer acme` keeps the parent's opt-out — it dropped it,
 *   exit 0, once the later plan recorded the number as beta's.
 */

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeEach, describe, expect, it } from 'vitest';

import { ownClient, sendOutcome } from '../support/emulator.js';
import {
  makePlan,
  planAndApply,
  readCsv,
  seededStop,
  useCliWorkspaceEach,
} from '../support/migration.js';

const N = '+14155550721';
const PARENT_STOP = '+12065550721';
const NOBODY = '+12065550722';
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

describe('a moved number a later plan gives to another customer, not yet applied', () => {
  // The real clock: the CLI reads it, and the sends after wave 1 are dated after the move.
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('w.db');

  beforeEach(async () => {
    await ws.env.seed({
      numbers: [{ phone_number: N, sms_url: 'https://app.example/n' }],
      messages: [seededStop(PARENT_STOP, N, Date.now() - 3 * DAY)],
    });
  });

  /** Snapshot, then wave 1 (the number to acme) planned and applied. */
  const waveOne = async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    writeFileSync(
      ws.dir.file('m1.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N}\n`,
    );
    await planAndApply(cli, {
      mapping: ws.dir.file('m1.csv'),
      db: db(),
      out: ws.dir.file('p1.json'),
    });
  };
  /** Wave 2 (the number to beta) planned, not applied: it stays in acme's subaccount. */
  const planWaveTwo = async () => {
    writeFileSync(
      ws.dir.file('m2.csv'),
      `customer_id,customer_name,phone_number\nbeta,Beta,${N}\n`,
    );
    await makePlan(cli, { mapping: ws.dir.file('m2.csv'), db: db(), out: ws.dir.file('p2.json') });
  };

  it("reconcile still holds its sends from acme's subaccount to the parent's opt-outs", async () => {
    await waveOne();
    const acme = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    await planWaveTwo();

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const client = ownClient(ws.env, acme);
    expect(await sendOutcome(client, PARENT_STOP, { from: N })).toBe(201);
    expect(await sendOutcome(client, NOBODY, { from: N })).toBe(201);

    // The plan not applied gives the number to beta; it is still acme's, which sent from it
    // to someone who texted STOP to the parent: acme's violation (it said no number had been
    // moved at all).
    const between = await cli(['reconcile', '--db', db()]);
    expect(between.code, between.stderr).toBe(0);
    expect(between.stdout).toMatch(/In all: 1 violation\(s\), 0 blocked\./);
    const [violation, ...more] = readCsv(ws.dir.file('reports/1/violations.csv'));
    expect(more).toEqual([]);
    expect(violation).toMatchObject({ customer_id: 'acme', recipient: PARENT_STOP });

    // The applied mapping planned again: the number is acme's once more, its recorded source
    // now acme's subaccount (where it is); its list still holds the parent's opt-out.
    await makePlan(cli, { mapping: ws.dir.file('m1.csv'), db: db(), out: ws.dir.file('p1b.json') });
    const listed = await cli(['optouts', '--db', db(), '--customer', 'acme']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(PARENT_STOP);
    // A send after it is judged by the same list: a new violation.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await sendOutcome(client, PARENT_STOP, { from: N })).toBe(201);
    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(reconciled.stdout).toMatch(/1 new violation\(s\).*In all: 2 violation\(s\)/);
  }, 120_000);

  it("keeps the parent's opt-out on acme's list and wave 1's reports as they were", async () => {
    await waveOne();
    const before = reportFiles(ws.dir.file('reports/1'));
    expect(before.get('optouts/acme.csv')).toContain(PARENT_STOP);
    const listedBefore = await cli(['optouts', '--db', db(), '--customer', 'acme']);
    expect(listedBefore.stdout).toContain(PARENT_STOP);
    await planWaveTwo();

    const rewritten = await cli(['report', '--db', db(), '--run', '1']);
    expect(rewritten.code, rewritten.stderr).toBe(0);
    const after = reportFiles(ws.dir.file('reports/1'));
    // Coverage is read as it is now (plan snapshotted again); every list and table is not.
    for (const name of [...before.keys()].filter((n) => n !== 'coverage.txt'))
      expect(after.get(name), name).toBe(before.get(name));
    expect(readFileSync(ws.dir.file('reports/1/report.html'), 'utf8')).toContain(PARENT_STOP);

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
