/**
 * A number moved by hand into its customer's subaccount (Twilio forgot the STOP the parent took
 * as it moved), then moved on by apply to another customer's: the parent's STOP was on its list
 * in the first subaccount, and is still one Twilio forgot in the second (built CLI, real SDK,
 * emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, seededStop, useCliWorkspaceEach } from '../support/migration.js';

const A = '+14155550501';
const B = '+14155550502';
const R1 = '+12065550011';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a number moved by hand, then on by apply', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  it("holds its sends in the second subaccount to the parent's STOP", async () => {
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      messages: [seededStop(R1, A, Date.now() - 3 * DAY)],
    });
    const first = ws.dir.file('map1.csv');
    writeFileSync(
      first,
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nacme,Acme,${B}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    // By hand: Acme's subaccount made in the console, A moved into it.
    const sub = await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Acme' });
    const [number] = await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.incomingPhoneNumbers(number!.sid).update({ accountSid: sub.sid });
    await planAndApply(cli, { mapping: first, db: db(), out: ws.dir.file('p1.json') });

    // A is Beta's now: apply moves it from Acme's subaccount into Beta's.
    const second = ws.dir.file('map2.csv');
    writeFileSync(
      second,
      `customer_id,customer_name,phone_number\nacme,Acme,${B}\nbeta,Beta,${A}\n`,
    );
    await planAndApply(cli, { mapping: second, db: db(), out: ws.dir.file('p2.json') });
    const beta = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Beta')!.sid;
    const listed = await cli(['optouts', '--customer', 'beta', '--db', db()]);
    expect(listed.stdout).toContain(R1);

    await sleep(1_100);
    const violating = await ownClient(ws.env, beta).messages.create({
      to: R1,
      from: A,
      body: 'Sale today!',
    });
    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const found = readCsv(join(ws.dir.path, 'reports', '2', 'violations.csv'));
    expect(found.map((r) => [r['violating_message_sid'], r['recipient']])).toEqual([
      [violating.sid, R1],
    ]);
  }, 60_000);
});
