/**
 * In the parent, R said STOP to A through the Shared Messaging Service; later Twilio refused two
 * sends of A's to R in one second, one through Shared and one without a service. A moves into
 * Acme's subaccount with no service and texts R: a violation of A's own pair (the number scope),
 * known from its refusal only. violations.csv must name that refusal as the evidence, the one
 * the hold stands from. Before, `evidence_message_sid` was the smaller SID of the two, Shared's
 * refusal when it was smaller: a real refused send, but one of the Shared pair, which stands
 * from the STOP (reconcile-random seed 3757). Needs `npm run build`.
 */

import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { migrateOnce, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const A = '+14155550921';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a refusal-only violation whose number was refused in two scopes at once', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A }],
    services: [{ friendly_name: 'Shared', phone_numbers: [A] }],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it("names the number's own refusal as the evidence, not the Shared one", async () => {
    const shared = (await ws.env.state()).services.find((s) => s.friendly_name === 'Shared')!.sid;
    const now = Date.now();
    const refusal = (to: string, service: string | null) => ({
      from: A,
      to,
      body: 'Your order shipped',
      direction: 'outbound-api' as const,
      status: 'failed',
      error_code: 21610,
      date_sent: now - DAY,
      messaging_service_sid: service,
    });
    // The emulator's SIDs are random: seed recipients until Shared's refusal has the smaller
    // SID of the second, the order that named it before.
    let found: { recipient: string; sharedRefusal: string; ownRefusal: string } | undefined;
    for (let i = 0; i < 40 && found === undefined; i += 1) {
      const recipient = `+1206555${String(1300 + i)}`;
      const seeded = await ws.env.seed({
        messages: [
          { ...seededStop(recipient, A, now - 2 * DAY), messaging_service_sid: shared },
          refusal(recipient, shared),
          refusal(recipient, null),
        ],
      });
      const [, sharedRefusal, ownRefusal] = seeded.messages.map((m) => m.sid) as [
        string,
        string,
        string,
      ];
      if (sharedRefusal < ownRefusal) found = { recipient, sharedRefusal, ownRefusal };
    }
    expect(found).toBeDefined();
    const { recipient: R, sharedRefusal, ownRefusal } = found!;
    expect(sharedRefusal < ownRefusal).toBe(true);

    await migrateOnce(ws, db(), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    const sub = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    await sleep(2_200);
    const seeded = await ws.env.seed({
      messages: [
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
    const send = seeded.messages[0]!.sid;

    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    expect(JSON.parse(pass.stdout)).toMatchObject({ newViolations: 1, violations: 1 });
    const rows = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(rows).toMatchObject([
      {
        violating_message_sid: send,
        sender_number: A,
        recipient: R,
        evidence: 'refusal',
        stop_message_sid: '',
        opted_out_at: new Date(now - DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        evidence_message_sid: ownRefusal,
      },
    ]);
  }, 90_000);
});
