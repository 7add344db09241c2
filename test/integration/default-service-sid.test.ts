/**
 * Twilio's spec says a Message's `messaging_service_sid` gets "A unique default value … if a
 * Messaging Service is not used", without saying what it looks like. If it is one synthetic
 * `MG` SID per account, every message to a number in no service carries the same SID: a STOP
 * from P to bare number A and a later START from P to bare number B (same account) look like
 * an opt-out and an opt-in of one service. Twilio still holds P opted out of A (its scope is
 * the number), so A's customer must keep P on its list and carry it; the START told B only.
 * The emulator's `default_service_sid` setting gives every bare message such a SID. Needs
 * `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { emulatorOptOuts, inbound } from '../support/emulator.js';
import { makePlan, readCsv, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const A = '+14155550101';
const B = '+14155550102';
const P = '+12065550001';

describe('a START to one number in no service, where bare messages carry a default service SID', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }, { phone_number: B }] }, NOW);

  it("does not take the person off another bare number's list", async () => {
    const { cli, dir, env } = ws;
    await env.control('POST', '/__emulator/settings', { default_service_sid: true });
    const stop = await inbound(env, {
      from: P,
      to: A,
      body: 'STOP',
      date_sent: new Date(NOW - 20 * DAY).toISOString(),
    });
    const start = await inbound(env, {
      from: P,
      to: B,
      body: 'START',
      date_sent: new Date(NOW - 10 * DAY).toISOString(),
    });
    // Both carry the account's one synthetic SID, which is no service of the account.
    expect(stop.messaging_service_sid).toMatch(/^MG[0-9a-f]{32}$/);
    expect(start.messaging_service_sid).toBe(stop.messaging_service_sid);
    expect((await env.state()).services).toEqual([]);
    // Twilio's own verdict: P is still opted out of A.
    expect(
      (await emulatorOptOuts(env)).map((o) => [o.scope, o.sender_number, o.recipient]),
    ).toEqual([['number', A, P]]);

    const db = dir.file('s.db');
    const plan = dir.file('s.plan.json');
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nbeta,Beta,${B}\n`,
    );
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: 'm.csv', db, out: plan, plan: ['--carry-optouts'] });
    const made = JSON.parse(readFileSync(plan, 'utf8')) as {
      customers: { customer_id: string; optouts: number }[];
    };
    expect(made.customers.find((c) => c.customer_id === 'acme')!.optouts).toBe(1);

    const listed = await cli(['optouts', '--db', db, '--customer', 'acme', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = (JSON.parse(listed.stdout) as { optouts: { recipient: string }[] }).optouts;
    expect(rows.map((r) => r.recipient)).toEqual([P]);

    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    const acmeList = readCsv(dir.file('reports/1/optouts/acme.csv'));
    expect(acmeList.map((r) => [r['recipient'], r['stop_message_sid']])).toEqual([[P, stop.sid]]);
    // Carried: Twilio itself refuses A's sends to P in Acme's subaccount.
    const subOfA = (await env.state()).numbers.find((n) => n.phone_number === A)!.account_sid;
    const enforced = (await emulatorOptOuts(env)).filter((o) => o.account_sid === subOfA);
    expect(enforced.map((o) => [o.sender_number, o.recipient])).toEqual([[A, P]]);
  });
});
