/**
 * A person texted STOP to a number while it was in a shared Messaging Service, which the number
 * left before any snapshot saw it there: the number's list carries that service
 * (docs/opt-out-rules.md, "A number's suppression list"), so the plan counts the person, the
 * reports list them, and reconcile must hold the number's sends from its subaccount to the same
 * list. Before, reconcile read only the service recorded for the number and missed the send.
 * Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, useCliWorkspaceEach } from '../support/migration.js';

const X = '+14155550101';
const Y = '+14155550102';
const P = '+12065550001';
const Q = '+12065550002';
const SHARED = 'MG0123456789abcdef0123456789abcdef';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

describe('reconcile: a STOP a number took in a service it has since left', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;

  it("holds the number's sends to the list its reports give it", async () => {
    await ws.env.seed({
      numbers: [
        { phone_number: X, sms_url: 'https://app.example/x' },
        { phone_number: Y, sms_url: 'https://app.example/y' },
      ],
      // X was in Shared when P said STOP to it; it is in no service now. Y still is.
      services: [{ friendly_name: 'Shared', sid: SHARED, phone_numbers: [Y] }],
      messages: [
        {
          from: P,
          to: X,
          body: 'STOP',
          direction: 'inbound',
          messaging_service_sid: SHARED,
          date_sent: daysAgo(20),
        },
        {
          from: Q,
          to: Y,
          body: 'STOP',
          direction: 'inbound',
          messaging_service_sid: SHARED,
          date_sent: daysAgo(10),
        },
      ],
    });
    const db = ws.dir.file('s.db');
    const plan = ws.dir.file('s.plan.json');
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${X}\n`);
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    await planAndApply(cli, { mapping: 'm.csv', db, out: plan });
    const listed = readCsv(`${ws.dir.file('reports/1')}/optouts/acme.csv`).map(
      (r) => r['recipient'],
    );
    expect(listed.sort()).toEqual([P, Q]);

    // The customer's application texts both from X, now in its subaccount.
    const sub = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const acme = ownClient(ws.env, sub);
    const toP = await acme.messages.create({ to: P, from: X, body: 'Sale today!' });
    const toQ = await acme.messages.create({ to: Q, from: X, body: 'Sale today!' });

    const reconciled = await cli(['reconcile', '--db', db]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const rows = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(rows.map((r) => [r['recipient'], r['violating_message_sid']]).sort()).toEqual(
      [
        [P, toP.sid],
        [Q, toQ.sid],
      ].sort(),
    );
  });
});
