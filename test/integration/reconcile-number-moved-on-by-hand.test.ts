/**
 * A number apply moved into one customer's subaccount, then moved by hand into another
 * customer's when the mapping gave it to that customer: no transfer step of the second move.
 * Twilio forgot the STOP the parent took as it moved, and the service-wide STOP the first
 * customer's service took while it was in it, and the plan made again finds it in place. Its
 * sends from the second subaccount are held to its list (built CLI, real SDK, emulator over
 * HTTP).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, seededStop, useCliWorkspaceEach } from '../support/migration.js';

const A = '+14155550601';
const B = '+14155550602';
const C = '+14155550603';
const R1 = '+12065550021';
const R3 = '+12065550023';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a number apply moved, then moved on by hand', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  /**
   * reconcile --fail-on-violation: exit 3 with one new violation; its violations.csv rows as
   * [violating_message_sid, recipient, customer_id, account_sid].
   */
  async function reconcileFindsOne() {
    const reconciled = await cli(['reconcile', '--fail-on-violation', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(3);
    expect(reconciled.stdout, reconciled.stderr).toContain('1 new violation(s)');
    const folder = /(reports\/\d+)\/violations\.csv/.exec(reconciled.stdout)![1]!;
    const found = readCsv(join(ws.dir.path, folder, 'violations.csv')).map((r) => [
      r['violating_message_sid'],
      r['recipient'],
      r['customer_id'],
      r['account_sid'],
    ]);
    return { ...reconciled, found };
  }

  /** The subaccounts apply made for Acme and Beta. */
  async function subaccounts(): Promise<{ acme: string; beta: string }> {
    const accounts = (await ws.env.state()).accounts;
    return {
      acme: accounts.find((a) => a.friendly_name === 'Acme')!.sid,
      beta: accounts.find((a) => a.friendly_name === 'Beta')!.sid,
    };
  }

  /** The first wave: A and B to Acme, C to Beta, R1 having said STOP to A in the parent. */
  async function firstWave(): Promise<{ acme: string; beta: string }> {
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }, { phone_number: C }],
      messages: [seededStop(R1, A, Date.now() - 3 * DAY)],
    });
    const first = ws.dir.file('map1.csv');
    writeFileSync(
      first,
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nacme,Acme,${B}\nbeta,Beta,${C}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, { mapping: first, db: db(), out: ws.dir.file('p1.json') });
    return subaccounts();
  }

  /** Someone moves A in the console from subaccount `from` into subaccount `to`. */
  async function moveAByHand(from: string, to: string): Promise<void> {
    const [number] = await ownClient(ws.env, from).incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.api.v2010
      .accounts(from)
      .incomingPhoneNumbers(number!.sid)
      .update({ accountSid: to });
  }

  /**
   * Plans and applies `mapping` again (A is in place: Beta's), then checks that the plan warns of
   * Beta's opt-outs, that Beta's list holds `recipient`, and that reconcile finds A's send to them
   * from Beta's subaccount, and only it, a violation.
   */
  async function planAgainFindsViolation(mapping: string, beta: string, recipient: string) {
    const second = ws.dir.file('map2.csv');
    writeFileSync(second, mapping);
    const { planned } = await planAndApply(cli, {
      mapping: second,
      db: db(),
      out: ws.dir.file('p2.json'),
    });
    expect(planned.stdout).toContain(
      "1 opted-out recipient(s) on its numbers, whom the subaccount will not know: the customer's app must enforce `submigrate optouts --customer beta`",
    );
    const listed = await cli(['optouts', '--customer', 'beta', '--db', db()]);
    expect(listed.stdout).toContain(recipient);

    await sleep(1_100);
    const violating = await ownClient(ws.env, beta).messages.create({
      to: recipient,
      from: A,
      body: 'Sale today!',
    });
    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const folder = /(reports\/\d+)\/violations\.csv/.exec(reconciled.stdout)![1]!;
    const found = readCsv(join(ws.dir.path, folder, 'violations.csv'));
    expect(found.map((r) => [r['violating_message_sid'], r['recipient']])).toEqual([
      [violating.sid, recipient],
    ]);
    return reconciled;
  }

  it("holds its sends in the second subaccount to the parent's STOP", async () => {
    const { acme, beta } = await firstWave();
    // A is Beta's now, and someone moves it in the console from Acme's subaccount into Beta's.
    await moveAByHand(acme, beta);
    const reconciled = await planAgainFindsViolation(
      `customer_id,customer_name,phone_number\nacme,Acme,${B}\nbeta,Beta,${A}\nbeta,Beta,${C}\n`,
      beta,
      R1,
    );
    expect(reconciled.stdout).toContain('1 sends from moved numbers checked: 1 new violation(s)');
    // What A sent in Acme's subaccount after the last pass read it there: no apply moved it out.
    expect(reconciled.stderr).toContain(`not checked: ${acme} from `);
    expect(reconciled.stderr).toContain(
      'while a moved number was in it that no apply moved out of it and that reconcile holds to another subaccount now (moved there by hand',
    );
    expect(reconciled.stderr).not.toContain('a later apply has moved on');
  }, 60_000);

  it("holds its sends in the second subaccount to the first customer's service-wide STOP", async () => {
    await ws.env.seed({ numbers: [{ phone_number: A }, { phone_number: B }, { phone_number: C }] });
    const first = ws.dir.file('map1.csv');
    writeFileSync(
      first,
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},AcmeSvc\nacme,Acme,${B},AcmeSvc\nbeta,Beta,${C},\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, { mapping: first, db: db(), out: ws.dir.file('p1.json') });
    const { acme, beta } = await subaccounts();
    const [service] = await ownClient(ws.env, acme).messaging.v1.services.list();
    // R3 says STOP to B through AcmeSvc, while A is in it too: service-wide.
    await sleep(1_100);
    await ws.env.seed({
      messages: [{ ...seededStop(R3, B, Date.now(), acme), messaging_service_sid: service!.sid }],
    });
    await sleep(1_100);
    // By hand: A out of AcmeSvc, into Beta's subaccount; the mapping gives it to Beta.
    const [number] = await ownClient(ws.env, acme).incomingPhoneNumbers.list({ phoneNumber: A });
    await ownClient(ws.env, acme)
      .messaging.v1.services(service!.sid)
      .phoneNumbers(number!.sid)
      .remove();
    await moveAByHand(acme, beta);
    await planAgainFindsViolation(
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${B},AcmeSvc\nbeta,Beta,${A},\nbeta,Beta,${C},\n`,
      beta,
      R3,
    );
  }, 60_000);

  it('holds its sends to its list when no plan has seen it there yet', async () => {
    const { acme, beta } = await firstWave();
    // In the console, in the window: A out of Acme's subaccount into Beta's; no plan since.
    await moveAByHand(acme, beta);
    await sleep(1_100);
    // Beta's subaccount never had R1's STOP: Twilio lets the send through.
    const violating = await ownClient(ws.env, beta).messages.create({
      to: R1,
      from: A,
      body: 'Sale today!',
    });
    const reconciled = await reconcileFindsOne();
    expect(reconciled.stdout).toContain('1 sends from moved numbers checked: 1 new violation(s)');
    expect(reconciled.found).toEqual([[violating.sid, R1, 'acme', beta]]);
  }, 60_000);

  it('holds its sends to its list once moved by hand back into a subaccount a later apply moved it out of', async () => {
    const { acme, beta } = await firstWave();
    // A second wave gives A to Beta: apply moves it from Acme's subaccount into Beta's.
    const second = ws.dir.file('map2.csv');
    writeFileSync(
      second,
      `customer_id,customer_name,phone_number\nacme,Acme,${B}\nbeta,Beta,${A}\nbeta,Beta,${C}\n`,
    );
    await planAndApply(cli, { mapping: second, db: db(), out: ws.dir.file('p2.json') });
    // Then someone moves A by hand back into Acme's subaccount (B keeps it read), which texts R1.
    await sleep(1_100);
    await moveAByHand(beta, acme);
    await sleep(1_100);
    const violating = await ownClient(ws.env, acme).messages.create({
      to: R1,
      from: A,
      body: 'Sale today!',
    });
    expect(violating.status).not.toBe('failed');
    const reconciled = await reconcileFindsOne();
    expect(reconciled.found).toEqual([[violating.sid, R1, 'beta', acme]]);
  }, 90_000);
});
