/**
 * After the move, a customer whose numbers are in no Messaging Service (the mapping gave it
 * none): if Twilio writes one default `messaging_service_sid` on every message of the
 * subaccount sent or received without a service ("A unique default value is assigned if a
 * Messaging Service is not used"), a START to one of its numbers and a send from another carry
 * the same SID. The START told only the number it went to: a send from the other number to
 * someone on its list is still a violation. Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { inbound, ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, useCliWorkspaceEach } from '../support/migration.js';

const X = '+14155550101';
const Y = '+14155550102';
const P = '+12065550001';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

describe('reconcile: a START to another number in no service, under a default service SID', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;

  it('does not excuse a send from the number the person told to stop', async () => {
    await ws.env.seed({
      numbers: [
        { phone_number: X, sms_url: 'https://app.example/x' },
        { phone_number: Y, sms_url: 'https://app.example/y' },
      ],
      messages: [{ from: P, to: X, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) }],
    });
    const db = ws.dir.file('s.db');
    const plan = ws.dir.file('s.plan.json');
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${X}\nacme,Acme,${Y}\n`,
    );
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    await planAndApply(cli, { mapping: 'm.csv', db, out: plan });
    const listed = readCsv(`${ws.dir.file('reports/1')}/optouts/acme.csv`).map(
      (r) => r['recipient'],
    );
    expect(listed).toEqual([P]);

    // In the subaccount, every message without a service carries one default SID.
    const state = await ws.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    expect(
      state.numbers.filter((n) => n.account_sid === sub).map((n) => n.messaging_service_sid),
    ).toEqual([null, null]);
    await ws.env.control('POST', '/__emulator/settings', {
      account_sid: sub,
      default_service_sid: true,
    });
    const start = await inbound(ws.env, { from: P, to: Y, body: 'START' });
    // date_sent has whole seconds: the send comes in a later second than the START.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const acme = ownClient(ws.env, sub);
    const toP = await acme.messages.create({ to: P, from: X, body: 'Sale today!' });
    expect(toP.messagingServiceSid).toBe(start.messaging_service_sid);
    expect(toP.messagingServiceSid).toMatch(/^MG[0-9a-f]{32}$/);

    const reconciled = await cli(['reconcile', '--db', db, '--fail-on-violation']);
    expect(reconciled.code, reconciled.stderr).toBe(3);
    const rows = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(
      rows.map((r) => [r['recipient'], r['sender_number'], r['violating_message_sid']]),
    ).toEqual([[P, X, toP.sid]]);
  });
});
