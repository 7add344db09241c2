/**
 * A STOP said to a moved number after the move, in the subaccount that held it then, and the
 * number moved on by hand into another customer's subaccount (or back into its own from
 * another's): Twilio keeps the opt-out in the account that heard it, and the account the number
 * is in now delivers its send to the person. Reconcile holds that send to the STOP (oracle seed
 * 10 of test/integration/reconcile-hand-moves-random.test.ts, by hand; built CLI, real SDK,
 * emulator over HTTP, SQLite file).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { inbound, ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, useCliWorkspaceEach } from '../support/migration.js';

const A = '+14155550641';
const B = '+14155550642';
const C = '+14155550643';
const [R1, R2, R3] = ['+12065550641', '+12065550642', '+12065550643'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a STOP said after the move, then the number moved by hand into another subaccount', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  /**
   * `phones` in the parent, a snapshot, then the mapping `csv` planned and applied; the
   * emulator's state after, and `sidOf` a subaccount's SID by its name.
   */
  async function migrateMapping(phones: string[], csv: string) {
    await ws.env.seed({ numbers: phones.map((phone_number) => ({ phone_number })) });
    const mapping = ws.dir.file('map.csv');
    writeFileSync(mapping, csv);
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, { mapping, db: db(), out: ws.dir.file('p.json') });
    const state = await ws.env.state();
    const sidOf = (name: string) => state.accounts.find((a) => a.friendly_name === name)!.sid;
    return { state, sidOf };
  }

  /** A to Acme, C to Beta, moved by apply; the two subaccounts' SIDs. */
  async function migrate(): Promise<{ acme: string; beta: string }> {
    const { sidOf } = await migrateMapping(
      [A, C],
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nbeta,Beta,${C}\n`,
    );
    return { acme: sidOf('Acme'), beta: sidOf('Beta') };
  }

  /** Someone moves A in the console from subaccount `from` into subaccount `to`. */
  async function moveAByHand(from: string, to: string): Promise<void> {
    const [number] = await ownClient(ws.env, from).incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.api.v2010
      .accounts(from)
      .incomingPhoneNumbers(number!.sid)
      .update({ accountSid: to });
  }

  /** `reconcile --fail-on-violation`, and the rows of the violations.csv it wrote. */
  async function reconcile() {
    const reconciled = await cli(['reconcile', '--fail-on-violation', '--db', db()]);
    const folder = /(reports\/\d+)\/violations\.csv/.exec(reconciled.stdout)?.[1];
    const rows = folder === undefined ? [] : readCsv(join(ws.dir.path, folder, 'violations.csv'));
    return { ...reconciled, rows };
  }

  /**
   * `account` texts R1 from A (Twilio delivers it); `reconcile --fail-on-violation` exits 3 with
   * that send, from `account`, its one violation, of Acme's list (A is Acme's), naming `stop`.
   */
  async function sendToR1IsTheViolation(account: string, stop: string): Promise<void> {
    const toR1 = await ownClient(ws.env, account).messages.create({
      to: R1,
      from: A,
      body: 'Sale today!',
    });
    expect(toR1.status).not.toBe('failed');
    const reconciled = await reconcile();
    expect(reconciled.code, reconciled.stderr).toBe(3);
    expect(
      reconciled.rows.map((r) => [
        r['violating_message_sid'],
        r['recipient'],
        r['customer_id'],
        r['account_sid'],
        r['stop_message_sid'],
      ]),
    ).toEqual([[toR1.sid, R1, 'acme', account, stop]]);
  }

  it("holds the other subaccount's send to the STOP its own subaccount heard", async () => {
    const { acme, beta } = await migrate();
    await sleep(1_100);
    // In Acme's subaccount: R1 says STOP to A; R2 says STOP, then START; R3 says STOP over
    // WhatsApp.
    const stop = await inbound(ws.env, { from: R1, to: A, body: 'STOP' });
    expect(stop.account_sid).toBe(acme);
    await inbound(ws.env, { from: R2, to: A, body: 'STOP' });
    const whatsapp = await inbound(ws.env, {
      from: `whatsapp:${R3}`,
      to: `whatsapp:${A}`,
      body: 'STOP',
    });
    await sleep(1_100);
    await inbound(ws.env, { from: R2, to: A, body: 'START' });
    await sleep(1_100);
    // Acme's subaccount heard R1's STOP itself: Twilio refuses the send there. An SMS to R3 goes
    // out (WhatsApp is kept apart from SMS), and, said in the account it went from, is not held
    // to that STOP (docs/opt-out-rules.md, Channels).
    const refused = await ownClient(ws.env, acme)
      .messages.create({ to: R1, from: A, body: 'Sale today!' })
      .then(
        () => null,
        (error: { code?: number }) => error.code,
      );
    expect(refused).toBe(21610);
    const toR3There = await ownClient(ws.env, acme).messages.create({
      to: R3,
      from: A,
      body: 'Hi',
    });
    // Then, in the console, A goes into Beta's subaccount, which never heard any of it.
    await moveAByHand(acme, beta);
    await sleep(1_100);
    const sent = async (to: string) =>
      ownClient(ws.env, beta).messages.create({ to, from: A, body: 'Sale today!' });
    const toR1 = await sent(R1);
    const toR2 = await sent(R2);
    const toR3 = await sent(R3);
    expect(toR1.status).not.toBe('failed');

    const reconciled = await reconcile();
    expect(reconciled.code, reconciled.stderr).toBe(3);
    expect(reconciled.stdout).toContain('2 new violation(s)');
    // (violations.csv is in order of sent_at, then SID: the sends to R1 and R3 may fall in
    // two seconds, so both sides are put in SID order.)
    const bySid = (a: (string | undefined)[], b: (string | undefined)[]) =>
      a[0]! < b[0]! ? -1 : 1;
    expect(
      reconciled.rows
        .map((r) => [
          r['violating_message_sid'],
          r['recipient'],
          r['customer_id'],
          r['account_sid'],
          r['stop_message_sid'],
          r['evidence'],
        ])
        .sort(bySid),
    ).toEqual(
      [
        [toR1.sid, R1, 'acme', beta, stop.sid, 'keyword'],
        [toR3.sid, R3, 'acme', beta, whatsapp.sid, 'keyword'],
      ].sort(bySid),
    );
    // R2 opted back in before the send; the SMS to R3 from Acme's subaccount is Acme's own.
    const named = reconciled.rows.map((r) => r['violating_message_sid']);
    expect(named).not.toContain(toR2.sid);
    expect(named).not.toContain(toR3There.sid);
  }, 90_000);

  it("holds its own subaccount's send to the STOP said while it was in another by hand", async () => {
    const { acme, beta } = await migrate();
    // In the console, A goes into Beta's subaccount, where R1 says STOP to it; then back.
    await moveAByHand(acme, beta);
    await sleep(1_100);
    const stop = await inbound(ws.env, { from: R1, to: A, body: 'STOP' });
    expect(stop.account_sid).toBe(beta);
    await sleep(1_100);
    await moveAByHand(beta, acme);
    await sleep(1_100);
    await sendToR1IsTheViolation(acme, stop.sid);
  }, 90_000);

  it("holds the other subaccount's send to a STOP said since the move to another number of the service it was in", async () => {
    // A and B go into one Messaging Service of Acme's subaccount (the mapping names it for both).
    const { state, sidOf } = await migrateMapping(
      [A, B, C],
      'customer_id,customer_name,phone_number,messaging_service\n' +
        `acme,Acme,${A},Acme SMS\nacme,Acme,${B},Acme SMS\nbeta,Beta,${C},\n`,
    );
    const acme = sidOf('Acme');
    const beta = sidOf('Beta');
    const service = state.numbers.find((n) => n.phone_number === A)!.messaging_service_sid!;
    expect(state.numbers.find((n) => n.phone_number === B)!.messaging_service_sid).toBe(service);
    await sleep(1_100);
    // R1 says STOP to B, through the service: Twilio opts them out of the whole service, A too.
    const stop = await inbound(ws.env, { from: R1, to: B, body: 'STOP' });
    expect(stop.messaging_service_sid).toBe(service);
    await sleep(1_100);
    // In the console, A goes into Beta's subaccount (out of the service), which never heard it.
    await moveAByHand(acme, beta);
    await sleep(1_100);
    await sendToR1IsTheViolation(beta, stop.sid);
  }, 90_000);

  it("holds its own subaccount's send from the number taken out of the service a STOP there came through", async () => {
    // A goes into a Messaging Service of Acme's subaccount (the mapping names one).
    const { state, sidOf } = await migrateMapping(
      [A],
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},Acme SMS\n`,
    );
    const acme = sidOf('Acme');
    const number = state.numbers.find((n) => n.phone_number === A)!;
    expect(number.account_sid).toBe(acme);
    const service = number.messaging_service_sid!;
    expect(service).toMatch(/^MG/);
    await sleep(1_100);
    // R1 says STOP to A, through the service: Twilio keeps it on the service.
    const stop = await inbound(ws.env, { from: R1, to: A, body: 'STOP' });
    expect(stop.messaging_service_sid).toBe(service);
    await sleep(1_100);
    // In the console, A is taken out of the service; it sends on its own, and Twilio delivers.
    await ownClient(ws.env, acme).messaging.v1.services(service).phoneNumbers(number.sid).remove();
    await sendToR1IsTheViolation(acme, stop.sid);
  }, 90_000);
});
