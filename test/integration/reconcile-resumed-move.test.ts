/**
 * A move that finished in Twilio but was journaled only when a later apply resumed it (the
 * first was killed with its transfer in flight): a send from the subaccount in between came
 * after the number moved, and reconcile holds it to the list like any other.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { makePlan, useCliWorkspace } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

const A = '+14155550601';
const R1 = '+12065550201';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile after a resumed transfer', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
    messages: [
      {
        from: R1,
        to: A,
        body: 'STOP',
        direction: 'inbound',
        date_sent: new Date(Date.now() - 20 * 86_400_000).toISOString(),
      },
    ],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('c.db');

  it('checks a send made between the transfer and the apply that recorded it', async () => {
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db: db(), out: ws.dir.file('p.json') });
    // The subaccount is created; the transfer is held, apply killed, and the transfer let through.
    const killed = await killApplyAtHeldWrite(ws.env, ws.dir.path, ws.dir.file('p.json'), db(), 1);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(ws.env);

    const state = await ws.env.state();
    expect(state.numbers.find((n) => n.phone_number === A)?.account_sid).not.toBe(ws.env.parentSid);
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const acme = ownClient(ws.env, sub);
    const sent = await acme.messages.create({ to: R1, from: A, body: 'Sale!' });
    await sleep(1_100);

    const resumed = await cli(['apply', ws.dir.file('p.json'), '--db', db(), '--rate', '1000']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = await cli(['reconcile', '--db', db(), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as { violations: number; sendsChecked: number };
    expect(json).toMatchObject({ violations: 1, sendsChecked: 1 });
    expect(sent.sid).toMatch(/^SM/);
  });
});
