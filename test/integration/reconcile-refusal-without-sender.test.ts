/**
 * After the move, the customer's application sends through its Messaging Service in the
 * subaccount, and the service refuses (21610) a send to someone on the list before it chooses
 * a sender: Twilio records it with `from` null. It is the moved numbers' send all the same
 * (docs/opt-out-rules.md): reconcile counts it as blocked by Twilio, for the customer, and its
 * refusal joins the ledger. Before, a send with no `from` was skipped. Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { planAndApply, useCliWorkspace } from '../support/migration.js';

const A = '+14155550901';
const LISTED = '+12065550191';
const NOT_LISTED = '+12065550192';
const PARENT_SERVICE = 'MG' + '2'.repeat(32);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a send the customer’s service refused before it chose a sender', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A }],
    services: [
      {
        friendly_name: 'Reminders',
        sid: PARENT_SERVICE,
        phone_numbers: [A],
        inbound_request_url: 'https://app.example/sms',
      },
    ],
    messages: [
      {
        from: LISTED,
        to: A,
        body: 'STOP',
        direction: 'inbound',
        messaging_service_sid: PARENT_SERVICE,
        date_sent: daysAgo(20),
      },
    ],
  });
  const { cli } = ws;
  let sub: string;
  const db = () => ws.dir.file('s.db');

  it('counts it as blocked by Twilio, for the customer, and keeps its refusal', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},Acme Reminders\n`,
    );
    await planAndApply(cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    const state = await ws.env.state();
    sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const service = state.services.find((s) => s.account_sid === sub)!.sid;
    await sleep(1_100);

    const refused = (to: string) => ({
      from: null as unknown as string,
      to,
      body: 'Your table is ready',
      direction: 'outbound-api' as const,
      date_sent: new Date().toISOString(),
      status: 'failed',
      error_code: 21610,
      account_sid: sub,
      messaging_service_sid: service,
    });
    const seeded = await ws.env.seed({ messages: [refused(LISTED), refused(NOT_LISTED)] });
    const [toListed, toOther] = seeded.messages.map((m) => m.sid);

    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(0);
    expect(JSON.parse(pass.stdout)).toMatchObject({
      sendsChecked: 2,
      newBlocked: 1,
      blocked: 1,
      newViolations: 0,
      violations: 0,
    });

    const sqlite = new Database(db(), { readonly: true });
    try {
      expect(
        sqlite
          .prepare(
            'SELECT message_sid AS sid, recipient, sender_number AS sender, customer_id AS customer, account_sid AS account FROM blocked_sends',
          )
          .all(),
      ).toEqual([{ sid: toListed, recipient: LISTED, sender: '', customer: 'acme', account: sub }]);
      // Both refusals are evidence, for the service they went through.
      expect(
        sqlite
          .prepare(
            "SELECT message_sid AS sid, messaging_service_sid AS service, twilio_number AS number FROM ledger_events WHERE kind = 'refused' ORDER BY end_user",
          )
          .all(),
      ).toEqual([
        { sid: toListed, service, number: '' },
        { sid: toOther, service, number: '' },
      ]);
    } finally {
      sqlite.close();
    }

    // Read again (the next pass reaches back 10 minutes): not counted twice.
    const again = await cli(['reconcile', '--db', db(), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ newBlocked: 0, blocked: 1 });
  });
  it('through a service the customer made since (no apply put a number in it): held to every moved number of the subaccount', async () => {
    const seeded = await ws.env.seed({
      services: [{ friendly_name: 'Hand made', account_sid: sub }],
    });
    const handMade = seeded.services[0]!.sid;
    await sleep(1_100);
    const { messages } = await ws.env.seed({
      messages: [
        {
          from: null as unknown as string,
          to: LISTED,
          body: 'Back in stock',
          direction: 'outbound-api',
          date_sent: new Date().toISOString(),
          status: 'failed',
          error_code: 21610,
          account_sid: sub,
          messaging_service_sid: handMade,
        },
      ],
    });
    const pass = await cli(['reconcile', '--db', db(), '--json']);
    expect(pass.code, pass.stderr).toBe(0);
    expect(JSON.parse(pass.stdout)).toMatchObject({ newBlocked: 1, blocked: 2 });
    const sqlite = new Database(db(), { readonly: true });
    try {
      expect(
        sqlite
          .prepare('SELECT customer_id AS customer FROM blocked_sends WHERE message_sid = ?')
          .get(messages[0]!.sid),
      ).toEqual({ customer: 'acme' });
    } finally {
      sqlite.close();
    }
  });
});
