/**
 * An apply whose creation of Acme's subaccount Twilio refused: A's transfer was not run, and
 * reconcile holds A to the account it comes from, the parent (its customer has no subaccount).
 * Someone moves A by hand into Other. The pass names the span A spent there (`number-away`), and
 * its line called the parent "its subaccount"; it now names it as the parent account, where A
 * comes from, `--json` says so (`comesFrom`), and the run's report.html names the span, A being
 * the run's number (built CLI, real SDK, emulator over HTTP through a proxy, SQLite file).
 *
 * With A the mapping's only number, nothing moved at all: the pass checked no send and said only
 * "0 sends from moved numbers checked", which read as if it had judged the move. It now says
 * first that nothing moved, that A is where its plan found it (where Twilio keeps its
 * opt-outs), and, once A is moved by hand, that where it was found is named below.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { moveNumberByHand } from '../support/emulator.js';
import { makePlan, seededStop, useCliWorkspaceEach } from '../support/migration.js';
import { applyRefusingSubaccount } from '../support/transfer-failed.js';

const A = '+14155550931';
const B = '+14155550932';
const R = '+12065550931';

describe('reconcile after an apply that could not create the customer’s subaccount', () => {
  const ws = useCliWorkspaceEach();
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
    const applied = await applyRefusingSubaccount(ws, db(), ws.dir.file('p.json'), 'Acme');
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

  it('says that nothing moved when the only number’s transfer was not run', async () => {
    await ws.env.seed({
      subaccounts: [{ friendly_name: 'Other' }],
      numbers: [{ phone_number: A }],
      messages: [seededStop(R, A, Date.now() - 86_400_000)],
    });
    const other = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Other')!.sid;
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db: db(), out: ws.dir.file('p.json') });
    const applied = await applyRefusingSubaccount(ws, db(), ws.dir.file('p.json'), 'Acme');
    expect(applied.stderr).toContain('failed: create_subaccount:acme');

    const nothingMoved =
      "nothing moved: no number of the mapping is in its customer's subaccount, so no send is a moved number's. The 1 whose transfer failed or was not run";
    const left = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(left.code, left.stderr).toBe(0);
    expect(left.stdout).toContain('0 sends from moved numbers checked');
    expect(left.stderr.split('\n')[0]).toBe(
      `${nothingMoved} are where their plans found them, where Twilio keeps their opt-outs; \`submigrate plan\` and \`apply\` move them`,
    );
    const json = await cli(['reconcile', '--db', db(), '--json']);
    expect(JSON.parse(json.stdout).numbers).toEqual({ moved: 0, foundInPlace: 0, notMoved: 1 });

    await moveNumberByHand(ws.env, A, ws.env.parentSid, other);
    const away = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(away.code, away.stderr).toBe(3);
    const [first, second] = away.stderr.split('\n');
    expect(first).toBe(
      `${nothingMoved} were looked for: where one was found out of the account it comes from is named below; \`submigrate plan\` and \`apply\` move them`,
    );
    expect(second).toContain(`not checked: ${other} from `);
    expect(second).toContain(`while number ${A} of acme was there`);
  }, 90_000);
});
