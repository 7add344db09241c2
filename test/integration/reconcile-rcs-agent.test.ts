/**
 * After the move, the customer's application texts over RCS from its brand's agent through
 * its Messaging Service, which holds the moved number: Twilio lists such a send with
 * `from: rcs:<agent id>`, no phone number, and the customer's service. Twilio keeps RCS and SMS
 * opt-outs as one per sender or service (since 16 March 2026), and the agent texts for the
 * service whose numbers carried the list: a send to someone on one of their lists is a
 * violation (docs/opt-out-rules.md, Channels). Before, a send from an agent was not judged at
 * all, and `--fail-on-violation` passed it. Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { planAndApply, readCsv, useCliWorkspace } from '../support/migration.js';

const A = '+14155550961';
/** Said STOP through the parent's service A was in: on A's list. */
const LISTED = '+12065550961';
/** Said STOP to A with no service: on A's list too. */
const LISTED_BY_NUMBER = '+12065550962';
const NOT_LISTED = '+12065550963';
const PARENT_SERVICE = 'MG' + '3'.repeat(32);
const AGENT = 'rcs:acme_brand_agent';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a send from an RCS agent through the customer’s service', () => {
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
      {
        from: LISTED_BY_NUMBER,
        to: A,
        body: 'STOP',
        direction: 'inbound',
        messaging_service_sid: null as unknown as string,
        date_sent: daysAgo(19),
      },
    ],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');
  let sub: string;
  let service: string;

  /** The agent's send to `to`, now, through the customer's service in its subaccount. */
  const fromAgent = (to: string, refused = false) => ({
    from: AGENT,
    to: `rcs:${to}`,
    body: 'Your order shipped',
    direction: 'outbound-api' as const,
    date_sent: new Date().toISOString(),
    status: refused ? 'failed' : 'delivered',
    ...(refused ? { error_code: 21610 } : {}),
    account_sid: sub,
    messaging_service_sid: service,
  });

  it('is a violation to someone on a moved number’s list, blocked when Twilio refused it', async () => {
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
    service = state.services.find((s) => s.account_sid === sub)!.sid;
    await sleep(1_100);

    const seeded = await ws.env.seed({
      messages: [
        fromAgent(LISTED),
        fromAgent(LISTED_BY_NUMBER),
        fromAgent(NOT_LISTED),
        fromAgent(LISTED, true),
      ],
    });
    const [toListed, toListedByNumber, , refused] = seeded.messages.map((m) => m.sid);

    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    expect(JSON.parse(pass.stdout)).toMatchObject({
      sendsChecked: 4,
      newViolations: 2,
      newBlocked: 1,
    });
    const violations = readCsv(ws.dir.file('reports/1/violations.csv'));
    expect(
      violations
        .map((v) => [
          v['violating_message_sid'],
          v['recipient'],
          v['sender_number'],
          v['customer_id'],
        ])
        .sort(),
    ).toEqual(
      [
        [toListed, LISTED, AGENT, 'acme'],
        [toListedByNumber, LISTED_BY_NUMBER, AGENT, 'acme'],
      ].sort(),
    );
    expect(violations.map((v) => v['violating_message_sid'])).not.toContain(refused);
  });

  it('is lifted by a START the person said through the service after the move', async () => {
    await ws.env.seed({
      messages: [
        {
          from: `rcs:${LISTED}`,
          to: AGENT,
          body: 'START',
          direction: 'inbound',
          date_sent: new Date().toISOString(),
          account_sid: sub,
          messaging_service_sid: service,
        },
      ],
    });
    await sleep(1_100);
    await ws.env.seed({ messages: [fromAgent(LISTED)] });
    const pass = await cli(['reconcile', '--db', db(), '--json']);
    expect(pass.code, pass.stderr).toBe(0);
    expect(JSON.parse(pass.stdout)).toMatchObject({ newViolations: 0, violations: 2 });
  });
});

describe('reconcile: an RCS agent’s send to someone known from a refusal only', () => {
  /** The parent's send from A to them was refused (21610): on A's list, with no STOP. */
  const REFUSED_BEFORE = '+12065550964';
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }] });
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it('names the refused send its list came from as the evidence', async () => {
    const seeded = await ws.env.seed({
      messages: [
        {
          from: A,
          to: REFUSED_BEFORE,
          body: 'Your order shipped',
          direction: 'outbound-api',
          status: 'failed',
          error_code: 21610,
          date_sent: daysAgo(18),
        },
      ],
    });
    const refusedSid = seeded.messages[0]!.sid;
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
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const service = state.services.find((s) => s.account_sid === sub)!.sid;
    await sleep(1_100);
    await ws.env.seed({
      messages: [
        {
          from: AGENT,
          to: `rcs:${REFUSED_BEFORE}`,
          body: 'Your order shipped',
          direction: 'outbound-api',
          date_sent: new Date().toISOString(),
          status: 'delivered',
          account_sid: sub,
          messaging_service_sid: service,
        },
      ],
    });

    const pass = await cli(['reconcile', '--db', db(), '--json']);
    expect(pass.code, pass.stderr).toBe(0);
    expect(JSON.parse(pass.stdout)).toMatchObject({ newViolations: 1 });
    const [violation] = readCsv(ws.dir.file('reports/1/violations.csv'));
    expect(violation).toMatchObject({
      recipient: REFUSED_BEFORE,
      sender_number: AGENT,
      evidence: 'refusal',
      evidence_message_sid: refusedSid,
    });
  });
});
