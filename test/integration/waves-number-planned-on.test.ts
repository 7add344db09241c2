/**
 * A number wave 1 moved into acme's subaccount, which a second mapping gives to beta, planned
 * and not applied: planning records the number's mapping, and with it where the number is now
 * as its source. Reconcile then says it cannot tell whose list the number's sends answer to
 * (it said no number had been moved); once the applied mapping is planned again it holds the
 * number's sends from acme's subaccount to the parent's opt-outs it heard before wave 1, which
 * its recorded source no longer names (built CLI, emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sendOutcome, startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { makePlan, planAndApply, seededStop } from '../support/migration.js';
import { cliEnv, runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';

const N = '+14155550721';
const PARENT_STOP = '+12065550721';
const NOBODY = '+12065550722';
const DAY = 86_400_000;

describe('a moved number a later plan gives to another customer, not yet applied', () => {
  let env: TestEmulator;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const db = () => dir.file('w.db');

  beforeAll(async () => {
    // The real clock: the CLI reads it, and the sends after wave 1 are dated after the move.
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

  it("still holds its sends from acme's subaccount to the parent's opt-outs", async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    writeFileSync(dir.file('m1.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${N}\n`);
    await planAndApply(cli, { mapping: dir.file('m1.csv'), db: db(), out: dir.file('p1.json') });
    const acme = (await env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;

    // Wave 2 planned, not applied: the number stays in acme's subaccount.
    writeFileSync(dir.file('m2.csv'), `customer_id,customer_name,phone_number\nbeta,Beta,${N}\n`);
    await makePlan(cli, { mapping: dir.file('m2.csv'), db: db(), out: dir.file('p2.json') });

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const client = env.clientFor(acme, env.emulator.state.accounts.get(acme)!.authToken);
    expect(await sendOutcome(client, PARENT_STOP, { from: N })).toBe(201);
    expect(await sendOutcome(client, NOBODY, { from: N })).toBe(201);

    // The plan not applied gives the number to beta, who has no subaccount yet: reconcile
    // cannot tell whose list its sends answer to, and says so rather than that none moved.
    const blind = await cli(['reconcile', '--db', db()]);
    expect(blind.code, blind.stdout).toBe(1);
    expect(blind.stderr).toContain(
      '1 number(s) were moved with this database, but the latest plan',
    );
    expect(blind.stderr).not.toContain('no number has been moved');

    // The applied mapping planned again: the number is acme's once more, its recorded source
    // now acme's subaccount (where it is); its list still holds the parent's opt-out.
    await makePlan(cli, { mapping: dir.file('m1.csv'), db: db(), out: dir.file('p1b.json') });
    const listed = await cli(['optouts', '--db', db(), '--customer', 'acme']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(PARENT_STOP);
    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(reconciled.stdout).toMatch(/In all: 1 violation\(s\), 0 blocked\./);
  }, 120_000);
});
