/**
 * A number the first plan found in another customer's subaccount (Acme's: moved there by hand),
 * told STOP there after that plan's refresh, then moved by hand into the parent before apply
 * ran: apply refuses the plan as drift (nothing written), the plan is made again (it finds the
 * number in the parent), and apply moves it into Beta's subaccount, which texts the person.
 * The second plan recorded the number as coming from the parent, where it is, so Acme's
 * subaccount, read only up to the first plan's refresh and holding the STOP, dropped out of
 * the list's coverage and reconcile --fail-on-violation exited 0. It came from Acme's: the
 * list is not whole until Acme's is read up to the listing that saw the number elsewhere
 * (built CLI, real SDK, emulator over HTTP, SQLite file).
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { inbound, moveNumberByHand, ownClient } from '../support/emulator.js';
import { makePlan, planAndApply, useCliWorkspaceEach } from '../support/migration.js';
import { expectNotWholeThenNamed } from '../support/not-whole-then-named.js';

const A = '+14155550681';
const C = '+14155550683';
const R1 = '+12065550681';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a number an earlier plan recorded, moved by hand before its apply', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  it('holds its list not whole until the source is read up to the plan that found it elsewhere', async () => {
    await ws.env.seed({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A }, { phone_number: C }],
    });
    const { accounts } = await ws.env.state();
    const sidOf = (name: string) => accounts.find((a) => a.friendly_name === name)!.sid;
    const [parent, acme, beta] = [ws.env.parentSid, sidOf('Acme'), sidOf('Beta')];
    await moveNumberByHand(ws.env, A, parent, acme);
    const mapping = ws.dir.file('map.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number\nbeta,Beta,${A}\nbeta,Beta,${C}\n`,
    );
    // The first plan finds A in Acme's subaccount: its transfer is out of Acme's.
    await makePlan(cli, { mapping, db: db(), out: ws.dir.file('p1.json') });
    await sleep(1_100);
    // R1 says STOP to A in Acme's subaccount, then A goes by hand into the parent.
    const stop = await inbound(ws.env, { from: R1, to: A, body: 'STOP' });
    expect(stop.account_sid).toBe(acme);
    await sleep(1_100);
    await moveNumberByHand(ws.env, A, acme, parent);
    await sleep(1_100);
    // Apply of the first plan refuses it: A is not where the plan found it.
    const failed = await cli(['apply', ws.dir.file('p1.json'), '--db', db(), '--rate', '1000']);
    expect(failed.code, failed.stdout).not.toBe(0);
    // Made again, the plan finds A in the parent; apply moves it into Beta's.
    await sleep(1_100);
    const again = await planAndApply(cli, {
      mapping,
      db: db(),
      out: ws.dir.file('p2.json'),
    });
    expect(again.applied.code).toBe(0);
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

    // Acme's subaccount was read up to the first plan only: Beta's list is not whole.
    await expectNotWholeThenNamed(cli, db(), acme, 'beta');
  }, 90_000);
});
