/**
 * A number moved by hand into another customer's subaccount before the plan, which then finds it
 * there and apply moves it on into its own customer's subaccount (its recorded source is the
 * other customer's subaccount); after the move, someone moves it back by hand into the
 * subaccount it came from, which a pass reads for that customer's numbers. Its sends from there
 * were passed over as its source's, though made after it left: Twilio there never heard the
 * STOP said to it in its own customer's subaccount since, and delivers. Reconcile holds them to
 * its list, as from any other account it was moved into by hand (oracle seed 900 of
 * test/integration/reconcile-hand-moves-random.test.ts, by hand; built CLI, real SDK, emulator
 * over HTTP, SQLite file).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { inbound, moveNumberByHand, ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, useCliWorkspaceEach } from '../support/migration.js';

const A = '+14155550661';
const C = '+14155550663';
const [R1, R2] = ['+12065550661', '+12065550662'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a number moved back by hand into the subaccount the plan found it in', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  /** Someone moves A in the console from account `from` into account `to`. */
  const moveAByHand = (from: string, to: string) => moveNumberByHand(ws.env, A, from, to);

  it("holds its sends there to the STOP its own customer's subaccount heard", async () => {
    await ws.env.seed({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A }, { phone_number: C }],
    });
    const { accounts } = await ws.env.state();
    const sidOf = (name: string) => accounts.find((a) => a.friendly_name === name)!.sid;
    const [parent, acme, beta] = [ws.env.parentSid, sidOf('Acme'), sidOf('Beta')];
    // Before any snapshot, A is moved by hand into Beta's subaccount: the plan finds it there
    // (its source), and apply moves it from there into Acme's.
    await moveAByHand(parent, beta);
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const mapping = ws.dir.file('map.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nbeta,Beta,${C}\n`,
    );
    await planAndApply(cli, { mapping, db: db(), out: ws.dir.file('p.json') });
    const moved = (await ws.env.state()).numbers.find((n) => n.phone_number === A)!;
    expect(moved.account_sid).toBe(acme);
    await sleep(1_100);
    // In Acme's subaccount, R1 says STOP to A (Twilio refuses Acme's sends to R1 from A); R2
    // says STOP, then START.
    const stop = await inbound(ws.env, { from: R1, to: A, body: 'STOP' });
    expect(stop.account_sid).toBe(acme);
    await inbound(ws.env, { from: R2, to: A, body: 'STOP' });
    await sleep(1_100);
    await inbound(ws.env, { from: R2, to: A, body: 'START' });
    await sleep(1_100);
    // Then, in the console, A goes back into Beta's subaccount, which never heard either.
    await moveAByHand(acme, beta);
    await sleep(1_100);
    const sent = async (to: string) =>
      ownClient(ws.env, beta).messages.create({ to, from: A, body: 'Sale today!' });
    const toR1 = await sent(R1);
    const toR2 = await sent(R2);
    expect(toR1.status).not.toBe('failed');

    const reconciled = await cli(['reconcile', '--fail-on-violation', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(3);
    expect(reconciled.stdout).toContain('1 new violation(s)');
    const folder = /(reports\/\d+)\/violations\.csv/.exec(reconciled.stdout)![1]!;
    expect(
      readCsv(join(ws.dir.path, folder, 'violations.csv')).map((r) => [
        r['violating_message_sid'],
        r['recipient'],
        r['customer_id'],
        r['account_sid'],
        r['stop_message_sid'],
      ]),
    ).toEqual([[toR1.sid, R1, 'acme', beta, stop.sid]]);
    // R2 opted back in before the send.
    expect(reconciled.stdout).not.toContain(toR2.sid);
  }, 90_000);
});
