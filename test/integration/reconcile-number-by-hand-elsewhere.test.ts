/**
 * A number moved by hand out of a shared service of the parent's, into a subaccount the mapping
 * does not name, before any plan; apply then moves it from there into its customer's. The
 * service-wide STOP said to another number of the service is on its list, and reconcile holds
 * its sends to it (built CLI, real SDK, emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, seededStop, useCliWorkspaceEach } from '../support/migration.js';

const A = '+14155550701';
const B = '+14155550702';
const R2 = '+12065550032';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a number moved by hand into a subaccount the mapping does not name', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  it("holds its sends to the shared service's STOP", async () => {
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      services: [{ friendly_name: 'Shared', phone_numbers: [A, B] }],
      messages: [seededStop(R2, B, Date.now() - DAY)],
    });
    const mapping = ws.dir.file('map.csv');
    writeFileSync(mapping, `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    // By hand: A out of Shared, into a subaccount of no customer's.
    const other = await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Other' });
    const [number] = await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: A });
    const [shared] = await ws.env.parent.messaging.v1.services.list();
    await ws.env.parent.messaging.v1.services(shared!.sid).phoneNumbers(number!.sid).remove();
    await ws.env.parent.incomingPhoneNumbers(number!.sid).update({ accountSid: other.sid });

    const { planned } = await planAndApply(cli, { mapping, db: db(), out: ws.dir.file('p.json') });
    expect(planned.stdout).toContain('1 opted-out recipient(s) on its numbers');
    // Apply's list gives R2 for A, as one Twilio does not enforce; so does the customer's list.
    const listed = readCsv(join(ws.dir.path, 'reports', '1', 'optouts.csv'));
    expect(listed.map((r) => [r['recipient'], r['scope'], r['twilio_enforces']])).toEqual([
      [R2, 'service', 'no'],
    ]);
    const customerList = await cli(['optouts', '--customer', 'acme', '--db', db()]);
    expect(customerList.code, customerList.stderr).toBe(0);
    expect(customerList.stdout).toContain(R2);
    const acme = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    await sleep(1_100);
    const violating = await ownClient(ws.env, acme).messages.create({
      to: R2,
      from: A,
      body: 'Sale today!',
    });
    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const found = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(found.map((r) => [r['violating_message_sid'], r['recipient']])).toEqual([
      [violating.sid, R2],
    ]);
  }, 60_000);

  it("back in the parent's shared service after a snapshot saw it elsewhere: the service's STOP is on its list", async () => {
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      services: [{ friendly_name: 'Shared', phone_numbers: [B] }],
      messages: [seededStop(R2, B, Date.now() - DAY)],
    });
    const mapping = ws.dir.file('map.csv');
    writeFileSync(mapping, `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    // By hand: A into a subaccount of no customer's, where the snapshot sees it; then back.
    const other = await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Other' });
    const [number] = await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.incomingPhoneNumbers(number!.sid).update({ accountSid: other.sid });
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await ws.env.parent.api.v2010
      .accounts(other.sid)
      .incomingPhoneNumbers(number!.sid)
      .update({ accountSid: ws.env.parent.accountSid });
    const [shared] = await ws.env.parent.messaging.v1.services.list();
    await ws.env.parent.messaging.v1
      .services(shared!.sid)
      .phoneNumbers.create({ phoneNumberSid: number!.sid });

    const planned = await cli([
      'plan',
      '--mapping',
      mapping,
      '--db',
      db(),
      '--out',
      ws.dir.file('p.json'),
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const customerList = await cli(['optouts', '--customer', 'acme', '--db', db()]);
    expect(customerList.code, customerList.stderr).toBe(0);
    expect(customerList.stdout).toContain(R2);
  }, 60_000);
});
