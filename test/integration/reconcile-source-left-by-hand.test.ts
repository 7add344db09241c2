/**
 * A number a snapshot saw in another customer's subaccount (moved there by hand), where someone
 * then says STOP to it after that snapshot, and which is moved back by hand into the parent
 * before the plan: the plan finds it in the parent and records it as coming from that
 * subaccount (its list carries what it took there), and apply moves it into its own customer's
 * subaccount, which texts the person. The subaccount it came from was read only up to the
 * snapshot, and the number left it (by hand, unrecorded) no later than the plan's listing: the
 * list is not whole until that span is read. It counted as whole, and reconcile exited 0 over
 * the send (oracle seed 662 of test/integration/reconcile-hand-moves-random.test.ts, by hand;
 * built CLI, real SDK, emulator over HTTP, SQLite file).
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { inbound, moveNumberByHand, ownClient } from '../support/emulator.js';
import { planAndApply, useCliWorkspaceEach } from '../support/migration.js';
import { expectNotWholeThenNamed } from '../support/not-whole-then-named.js';

const A = '+14155550671';
const C = '+14155550673';
const R1 = '+12065550671';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a number left by hand the account the plan records it came from', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  /** Someone moves A in the console from account `from` into account `to`. */
  const moveAByHand = (from: string, to: string) => moveNumberByHand(ws.env, A, from, to);

  it('holds its list not whole until that account is read up to the plan, then names the send', async () => {
    await ws.env.seed({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A }, { phone_number: C }],
    });
    const { accounts } = await ws.env.state();
    const sidOf = (name: string) => accounts.find((a) => a.friendly_name === name)!.sid;
    const [parent, acme, beta] = [ws.env.parentSid, sidOf('Acme'), sidOf('Beta')];
    // A is moved by hand into Acme's subaccount; a snapshot of the parent and Acme's sees it
    // there.
    await moveAByHand(parent, acme);
    expect((await cli(['snapshot', '--db', db(), '--account', acme])).code).toBe(0);
    await sleep(1_100);
    // After that snapshot, R1 says STOP to A in Acme's subaccount; then A goes back by hand
    // into the parent, which never heard it.
    const stop = await inbound(ws.env, { from: R1, to: A, body: 'STOP' });
    expect(stop.account_sid).toBe(acme);
    await sleep(1_100);
    await moveAByHand(acme, parent);
    await sleep(1_100);
    // The plan finds A in the parent (from Acme's subaccount, as it records), apply moves it
    // into Beta's, which texts R1: Twilio delivers it.
    const mapping = ws.dir.file('map.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number\nbeta,Beta,${A}\nbeta,Beta,${C}\n`,
    );
    await planAndApply(cli, { mapping, db: db(), out: ws.dir.file('p.json') });
    expect((await ws.env.state()).numbers.find((n) => n.phone_number === A)!.account_sid).toBe(
      beta,
    );
    await sleep(1_100);
    const toR1 = await ownClient(ws.env, beta).messages.create({
      to: R1,
      from: A,
      body: 'Sale today!',
    });
    expect(toR1.status).not.toBe('failed');

    // Acme's subaccount was read up to the snapshot only: Beta's list is not whole.
    await expectNotWholeThenNamed(cli, db(), acme, 'beta');
  }, 90_000);
});
