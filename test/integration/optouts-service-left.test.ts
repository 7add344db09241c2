/**
 * A person texted STOP to a number while it was in a shared Messaging Service: Twilio scoped
 * the opt-out to the service. The number then left the service, before any snapshot saw it
 * there, and is migrated on its own. The person told that number to stop, so its customer
 * must keep them suppressed (docs/opt-out-rules.md, "A number's suppression list"): the
 * number's list carries the services its own opt-outs came through, not only the one it is
 * in now. Before, the STOP was listed with no customer, counted for nobody in the plan, not
 * carried, and missing from the customer's reports. Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { emulatorOptOuts } from '../support/emulator.js';
import { makePlan, readCsv, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const X = '+14155550101';
const Y = '+14155550102';
const P = '+12065550001';
const Q = '+12065550002';
const SHARED = 'MG0123456789abcdef0123456789abcdef';

describe('a STOP a number took in a service it has since left', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: X }, { phone_number: Y }],
      // X was in Shared when P said STOP to it; it is in no service now. Y still is.
      services: [{ friendly_name: 'Shared', sid: SHARED, phone_numbers: [Y] }],
      messages: [
        {
          from: P,
          to: X,
          body: 'STOP',
          direction: 'inbound',
          messaging_service_sid: SHARED,
          date_sent: new Date(NOW - 20 * DAY).toISOString(),
        },
        {
          from: Q,
          to: Y,
          body: 'STOP',
          direction: 'inbound',
          messaging_service_sid: SHARED,
          date_sent: new Date(NOW - 10 * DAY).toISOString(),
        },
      ],
    },
    NOW,
  );

  it("stays on the number's customer's list: counted, carried, reported", async () => {
    const { cli, dir } = ws;
    const db = dir.file('s.db');
    const plan = dir.file('s.plan.json');
    writeFileSync(dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${X}\n`);
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: 'm.csv', db, out: plan, plan: ['--carry-optouts'] });
    const made = JSON.parse(readFileSync(plan, 'utf8')) as {
      customers: { optouts: number; numbers: { optout_services: string[] }[] }[];
    };
    expect(made.customers[0]!.optouts).toBe(2);
    expect(made.customers[0]!.numbers[0]!.optout_services).toEqual([SHARED]);

    const listed = await cli(['optouts', '--db', db, '--customer', 'acme', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = (
      JSON.parse(listed.stdout) as { optouts: { recipient: string; customer_id: string }[] }
    ).optouts;
    // P said STOP to X. Q said it to Y, another number of the service: Shared's list is
    // X's too, as for any number that was in a service.
    expect(rows.map((r) => r.recipient).sort()).toEqual([P, Q]);

    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    const reports = dir.file('reports/1');
    expect(
      readCsv(`${reports}/optouts/acme.csv`)
        .map((r) => r['recipient'])
        .sort(),
    ).toEqual([P, Q]);
    expect(readCsv(`${reports}/optouts/acme.csv`).map((r) => r['twilio_enforces'])).toEqual([
      'yes',
      'yes',
    ]);
    expect(readCsv(`${reports}/carry.csv`)).toMatchObject([
      { customer_id: 'acme', optouts_to_carry: '2', written: '2' },
    ]);
    // Twilio itself now refuses X's sends to both in the customer's subaccount.
    const { env } = ws;
    const sub = (await env.state()).numbers.find((n) => n.phone_number === X)!.account_sid;
    const enforced = (await emulatorOptOuts(env)).filter((o) => o.account_sid === sub);
    expect(enforced.map((o) => [o.sender_number, o.recipient]).sort()).toEqual([
      [X, P],
      [X, Q],
    ]);
  });
});
