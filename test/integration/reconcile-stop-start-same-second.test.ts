/**
 * A person who said STOP and START to a moved number in the same second, in the subaccount a
 * later wave moved the number out of: the ledger cannot order the two (whole seconds) and keeps
 * the person on the number's list, the safe reading. Reconcile must read it the same way: that
 * START does not lift the opt-out for a send from the number's new subaccount, which never
 * heard either (built CLI, real SDK, emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, useCliWorkspace } from '../support/migration.js';

const A = '+14155550711';
const B = '+14155550712';
const R = '+12065550711';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a STOP and a START in one second, in a subaccount the number left', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }, { phone_number: B }] });
  const { cli } = ws;
  const db = () => ws.dir.file('t.db');

  it('holds the send to the opt-out the list keeps', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const wave = async (n: number, rows: string) => {
      writeFileSync(ws.dir.file(`m${n}.csv`), `customer_id,customer_name,phone_number\n${rows}`);
      await planAndApply(cli, {
        mapping: ws.dir.file(`m${n}.csv`),
        db: db(),
        out: ws.dir.file(`p${n}.json`),
      });
    };
    await wave(1, `acme,Acme,${A}\nacme,Acme,${B}\n`);
    const accounts = (await ws.env.state()).accounts;
    const acme = accounts.find((a) => a.friendly_name === 'Acme')!.sid;

    // In Acme's subaccount, R says STOP and START to A in the same second.
    await sleep(1_100);
    const second = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    await ws.env.seed({
      messages: ['STOP', 'START'].map((body) => ({
        from: R,
        to: A,
        body,
        direction: 'inbound' as const,
        date_sent: second,
        account_sid: acme,
      })),
    });
    await sleep(1_100);
    // A second wave gives A to Beta (B stays Acme's): A leaves Acme's subaccount.
    await wave(2, `acme,Acme,${B}\nbeta,Beta,${A}\n`);
    const listed = await cli(['optouts', '--customer', 'beta', '--db', db()]);
    expect(listed.stdout).toContain(R);

    const beta = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Beta')!.sid;
    await sleep(1_100);
    const sent = await ownClient(ws.env, beta).messages.create({ to: R, from: A, body: 'Hi' });
    expect(sent.status).not.toBe('failed');

    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(reconciled.stdout).toContain('1 new violation(s)');
    // Beta's run (the second) moved A: its violations.csv holds the send.
    const found = readCsv(join(ws.dir.path, 'reports', '2', 'violations.csv'));
    expect(
      found.map((r) => [r['violating_message_sid'], r['recipient'], r['customer_id']]),
    ).toEqual([[sent.sid, R, 'beta']]);
  }, 90_000);
});
