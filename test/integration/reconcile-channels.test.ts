/**
 * After the move, a customer's app may send over RCS from a moved number: Twilio writes such
 * a send `from: rcs:+1…`, `to: rcs:+1…`. Reconcile must hold it to the number's list as it
 * holds an SMS (Twilio keeps RCS and SMS opt-outs as one per sender), and a send to someone
 * whose STOP came over RCS or WhatsApp is a violation whatever channel it goes over. On the real
 * clock (reconcile reads from the move to now). Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { planAndApply, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const A = '+14155550501';
/** Replied STOP over RCS. */
const P1 = '+12065550101';
/** Replied STOP over WhatsApp. */
const P3 = '+12065550103';
const DAY = 86_400_000;

describe('reconcile: sends over RCS, and opt-outs that came over RCS or WhatsApp', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
    messages: [
      seededStop(`rcs:${P1}`, `rcs:${A}`, Date.now() - 28 * DAY),
      seededStop(`whatsapp:${P3}`, `whatsapp:${A}`, Date.now() - 27 * DAY),
    ],
  });

  it('finds an RCS send and an SMS to people on the list', async () => {
    const { cli, dir, env } = ws;
    writeFileSync(dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    const snapshot = await cli(['snapshot', '--no-export', '--db', 'r.db']);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    // Not carried: Twilio lets the sends through, and only reconcile can tell.
    await planAndApply(cli, { mapping: 'm.csv', db: 'r.db', out: 'r.plan.json' });
    const sub = (await env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const acme = env.clientFor(sub, env.emulator.state.accounts.get(sub)!.authToken);
    const overRcs = await acme.messages.create({
      from: `rcs:${A}`,
      to: `rcs:${P1}`,
      body: 'Sale today!',
    });
    const overSms = await acme.messages.create({ from: A, to: P3, body: 'Sale today!' });

    const reconciled = await cli(['reconcile', '--db', 'r.db', '--fail-on-violation']);
    expect(reconciled.code, reconciled.stderr).toBe(3);
    const violations = readCsv(dir.file('reports/1/violations.csv'));
    expect(
      violations
        .map((v) => [v['violating_message_sid'], v['recipient'], v['sender_number']])
        .sort(),
    ).toEqual(
      [
        [overRcs.sid, P1, A],
        [overSms.sid, P3, A],
      ].sort(),
    );
  });
});
