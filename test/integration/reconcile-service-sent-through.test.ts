/**
 * A number taken out of the parent's shared Messaging Service by hand before any snapshot, so
 * that no listing ever saw it there (seeds 533, 844 and 1177 of reconcile-hand-moves-random): P
 * said STOP through the service to another of its numbers while X was in it, and X's
 * customer later texts P from X in its subaccount. Nothing the ledger keeps of keywords and
 * refusals says X was in the service; a message X sent through it, which the snapshot read,
 * does (docs/opt-out-rules.md, "A number's suppression list"). Its list carries the service:
 * the plan counts P, the reports list P, and reconcile names the send. An opt-in through the
 * service lifts the opt-out only when Twilio dated it before X's last message through it (R
 * stays on the list, S does not). Needs `npm run build`.
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
const R = '+12065550003';
const S = '+12065550004';
const SHARED = 'MG0123456789abcdef0123456789abcdef';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const viaShared = (from: string, to: string, body: string, days: number) => ({
  from,
  to,
  body,
  direction: 'inbound' as const,
  messaging_service_sid: SHARED,
  date_sent: daysAgo(days),
});

describe('reconcile: a service a number sent through before any listing', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;

  it("holds the number's sends to the service's STOPs said while it was in it", async () => {
    await ws.env.seed({
      numbers: [
        { phone_number: X, sms_url: 'https://app.example/x' },
        { phone_number: Y, sms_url: 'https://app.example/y' },
      ],
      // X was in Shared and is in no service now (taken out by hand); Y still is.
      services: [{ friendly_name: 'Shared', sid: SHARED, phone_numbers: [Y] }],
      messages: [
        viaShared(R, Y, 'STOP', 25),
        viaShared(S, Y, 'STOP', 25),
        viaShared(P, Y, 'STOP', 20),
        // S opts back in while X is still in Shared (before X's last send through it).
        viaShared(S, Y, 'START', 17),
        // X sends through Shared: Twilio picked it from the service's pool.
        {
          from: X,
          to: Q,
          body: 'Your order shipped',
          direction: 'outbound-api',
          messaging_service_sid: SHARED,
          date_sent: daysAgo(15),
        },
        // R opts back in after X's last message through Shared: X may have left by then.
        viaShared(R, Y, 'START', 10),
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
    expect(listed.sort()).toEqual([P, R]);

    // The customer's application texts P, R and S from X, now in its subaccount.
    const sub = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const acme = ownClient(ws.env, sub);
    const toP = await acme.messages.create({ to: P, from: X, body: 'Sale today!' });
    const toR = await acme.messages.create({ to: R, from: X, body: 'Sale today!' });
    await acme.messages.create({ to: S, from: X, body: 'Sale today!' });

    const reconciled = await cli(['reconcile', '--db', db]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const rows = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(rows.map((r) => [r['recipient'], r['violating_message_sid']]).sort()).toEqual(
      [
        [P, toP.sid],
        [R, toR.sid],
      ].sort(),
    );
  });
});
