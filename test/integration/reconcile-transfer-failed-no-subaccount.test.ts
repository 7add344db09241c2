/**
 * An apply whose creation of Acme's subaccount Twilio refused: A's transfer was not run, and
 * reconcile holds A to the account it comes from, the parent (its customer has no subaccount).
 * Someone moves A by hand into Other. The pass names the span A spent there (`number-away`), and
 * its line called the parent "its subaccount"; it now names it as the parent account, where A
 * comes from, `--json` says so (`comesFrom`), and the run's report.html names the span, A being
 * the run's number (built CLI, real SDK, emulator over HTTP through a proxy, SQLite file).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { moveNumberByHand } from '../support/emulator.js';
import { makePlan, seededStop, useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';
import { startTamperingProxy } from '../support/tampering-proxy.js';

const A = '+14155550931';
const B = '+14155550932';
const R = '+12065550931';

describe('reconcile after an apply that could not create the customer’s subaccount', () => {
  const ws = useCliWorkspace();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  it('names the parent as where the number comes from, not as its subaccount', async () => {
    await ws.env.seed({
      subaccounts: [{ friendly_name: 'Other' }],
      numbers: [{ phone_number: A }, { phone_number: B }],
      messages: [seededStop(R, A, Date.now() - 86_400_000)],
    });
    const other = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Other')!.sid;
    const parent = ws.env.parentSid;
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nbeta,Beta,${B}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db: db(), out: ws.dir.file('p.json') });
    // Twilio refuses Acme's subaccount (Beta's is made, B moves into it).
    const proxy = await startTamperingProxy(ws.env.url, (path, _status, body, request) =>
      request.method === 'POST' && path.includes('/Accounts.json') && body.includes('"Acme"')
        ? {
            status: 400,
            type: 'application/json',
            body: JSON.stringify({ code: 20001, message: 'Invalid', status: 400 }),
          }
        : null,
    );
    let applied;
    try {
      applied = await runCli(
        ['apply', ws.dir.file('p.json'), '--db', db(), '--rate', '1000'],
        cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }),
        ws.dir.path,
      );
    } finally {
      await proxy.close();
    }
    expect(applied.stderr).toContain('failed: create_subaccount:acme');
    await moveNumberByHand(ws.env, A, parent, other);

    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(pass.code, pass.stderr).toBe(3);
    expect(pass.stderr).toContain(
      `while number ${A} of acme was there, out of the parent account ${parent}, where it comes from (its transfer failed or was not run, and its customer has no subaccount yet), with no step of apply's (moved by hand)`,
    );
    expect(pass.stderr).not.toContain(`its subaccount ${parent}`);
    const again = await cli(['reconcile', '--db', db(), '--json']);
    expect(JSON.parse(again.stdout).notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-away',
        accountSid: other,
        phoneNumber: A,
        subaccountSid: parent,
        comesFrom: 'parent',
      }),
    ]);
    expect((await cli(['report', '--db', db()])).code).toBe(0);
    const page = readFileSync(join(ws.dir.path, 'reports', '1', 'report.html'), 'utf8');
    expect(page).toContain(`${A} in ${other}`);
  }, 90_000);
});
