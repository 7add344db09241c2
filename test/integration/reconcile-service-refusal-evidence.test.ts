/**
 * After the move, Twilio refuses (21610) a send of B's through the customer's Messaging Service
 * to R: R is opted out of the whole service. A, in the same service, texts R without it, and
 * Twilio delivers: a violation (docs/opt-out-rules.md, "A STOP said after the move, in another
 * account"), known from that refusal only. violations.csv must name the refused send as its
 * evidence. Before, `evidence_message_sid` was empty when A's own evidence never came through
 * the service and no listing saw it there: the lookup tried only the services a listing saw it
 * in or its own evidence came through, not the one apply put it in (reconcile-random seed
 * 3274). Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { planAndApply, readCsv, useCliWorkspace } from '../support/migration.js';

const A = '+14155550911';
const B = '+14155550912';
const R = '+12065550193';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("reconcile: a refusal through the customer's service, another number's", () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }, { phone_number: B }] });
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it('is named as the evidence of the violation it makes of a send without the service', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},Acme Alerts\nacme,Acme,${B},Acme Alerts\n`,
    );
    await planAndApply(cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    const state = await ws.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const service = state.services.find((s) => s.account_sid === sub)!.sid;
    await sleep(2_200);
    const refusedAt = new Date(Date.now() - 1_100).toISOString();
    const seeded = await ws.env.seed({
      messages: [
        {
          from: B,
          to: R,
          body: 'Sale!',
          direction: 'outbound-api',
          status: 'failed',
          error_code: 21610,
          date_sent: refusedAt,
          account_sid: sub,
          messaging_service_sid: service,
        },
        {
          from: A,
          to: R,
          body: 'Sale!',
          direction: 'outbound-api',
          status: 'delivered',
          date_sent: new Date().toISOString(),
          account_sid: sub,
          messaging_service_sid: null,
        },
      ],
    });
    const [refusal, send] = seeded.messages.map((m) => m.sid);

    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    expect(JSON.parse(pass.stdout)).toMatchObject({ newViolations: 1, violations: 1 });
    const rows = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(rows).toMatchObject([
      {
        violating_message_sid: send,
        sender_number: A,
        recipient: R,
        messaging_service_sid: '',
        evidence: 'refusal',
        stop_message_sid: '',
        evidence_message_sid: refusal,
      },
    ]);
  });
});
