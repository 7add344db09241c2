/**
 * A STOP said to a moved number in its subaccount, after the move: reconcile puts it on the
 * customer's list (the ledger learns), and Twilio refuses sends to that person in the
 * subaccount, since the subaccount heard the STOP itself. The reports must say so: the row is
 * one Twilio enforces, not one "only the customer's application" stops, and carry.csv counts
 * it as such (not as a record an earlier run wrote).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { inbound, ownClient } from '../support/emulator.js';
import { readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const DAY = 86_400_000;
const A1 = '+14155550831';
const A2 = '+14155550832';
const [R1, R2, R3] = ['+12065550831', '+12065550832', '+12065550833'];

describe('a STOP said in the subaccount after the move', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A1, sms_url: 'https://acme.example/sms' }],
    messages: [seededStop(R1, A1, Date.now() - 3 * DAY)],
  });

  it('is on the list as an opt-out Twilio refuses, as Twilio does', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A1},\n`,
    );
    expect((await ws.cli(['plan', '--mapping', 'm.csv', '--out', 'p.json'])).code).toBe(0);
    const applied = await ws.cli(['apply', 'p.json', '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);

    const said = await inbound(ws.env, { from: R2, to: A1, body: 'STOP' });
    const sub = said.account_sid;
    expect(sub).not.toBe((await ws.env.state()).parent_account_sid);
    const reconciled = await ws.cli(['reconcile']);
    expect(reconciled.code, reconciled.stderr).toBe(0);

    // Twilio's own answer: R2 is refused from the subaccount, R1 (carried by no one) is not.
    const client = ownClient(ws.env, sub);
    await expect(client.messages.create({ to: R2, from: A1, body: 'Hi' })).rejects.toMatchObject({
      code: 21610,
    });
    await client.messages.create({ to: R1, from: A1, body: 'Hi' });

    const rows = readCsv(ws.dir.file('reports/1/optouts.csv'));
    expect(rows.map((r) => [r.recipient, r.account_sid === sub, r.twilio_enforces])).toEqual([
      [R1, false, 'no'],
      [R2, true, 'yes'],
    ]);
    const [carry] = readCsv(ws.dir.file('reports/1/carry.csv'));
    expect([carry!.list_rows, carry!.twilio_enforces_rows, carry!.protection]).toEqual([
      '2',
      '1',
      'Twilio refuses sends to 1 of the 2 rows of its suppression list; for the other 1, the list is the only protection (the plan was made without --carry-optouts)',
    ]);
  });
});

describe('a STOP said over WhatsApp in the subaccount after the move', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A2, sms_url: 'https://beta.example/sms' }],
  });

  it('is on the list, but as one Twilio does not refuse an SMS to, as Twilio does not', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nbeta,Beta,${A2},\n`,
    );
    expect((await ws.cli(['plan', '--mapping', 'm.csv', '--out', 'p.json'])).code).toBe(0);
    const applied = await ws.cli(['apply', 'p.json', '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);

    // R3 says STOP to the number over WhatsApp, in the subaccount: on the list (the safe
    // reading), but not an SMS opt-out Twilio keeps.
    const said = await inbound(ws.env, {
      from: `whatsapp:${R3}`,
      to: `whatsapp:${A2}`,
      body: 'STOP',
    });
    const sub = said.account_sid;
    expect(sub).not.toBe((await ws.env.state()).parent_account_sid);
    const reconciled = await ws.cli(['reconcile']);
    expect(reconciled.code, reconciled.stderr).toBe(0);

    // Twilio's own answer: an SMS to R3 from the subaccount goes out.
    const sent = await ownClient(ws.env, sub).messages.create({ to: R3, from: A2, body: 'Hi' });
    expect(sent.status).not.toBe('failed');

    const rows = readCsv(ws.dir.file('reports/1/optouts.csv'));
    expect(
      rows.map((r) => [r.recipient, r.channel, r.account_sid === sub, r.twilio_enforces]),
    ).toEqual([[R3, 'whatsapp', true, 'no']]);
    const [carry] = readCsv(ws.dir.file('reports/1/carry.csv'));
    expect([carry!.list_rows, carry!.twilio_enforces_rows, carry!.protection]).toEqual([
      '1',
      '0',
      'the suppression list is its only protection (the plan was made without --carry-optouts)',
    ]);
    const page = readFileSync(ws.dir.file('reports/1/report.html'), 'utf8');
    expect(page).not.toContain('Twilio itself refuses every send');

    // That SMS is not held against the STOP (docs/opt-out-rules.md, Channels): a violation is
    // a send to someone on the list as it was at the move, and the subaccount heard this STOP
    // itself. The next pass reads the SMS and lists it neither as a violation nor as blocked.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const again = await ws.cli(['reconcile', '--fail-on-violation']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^reconcile pass 2: .*: 0 new violation\(s\)/m);
    expect(readCsv(ws.dir.file('reports/1/violations.csv'))).toEqual([]);
  });
});
