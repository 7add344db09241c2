/**
 * A mapped number that reached its customer's subaccount with no transfer step — moved by hand
 * in the console between a plan and the next, or before any plan — has lost its opt-outs all
 * the same: Twilio forgot the STOP the parent took as the number moved. The plan warns of the
 * list, apply's optouts.csv gives it (Twilio does not enforce it), and reconcile reads the
 * number's sends from when an applied plan first saw it there and holds them to that list
 * (built CLI, real SDK, emulator over HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import {
  planAndApply,
  readCsv,
  seededStop,
  useCliWorkspaceEach,
  moveOutOfSharedByHand,
} from '../support/migration.js';

const A = '+14155550401';
const B = '+14155550402';
const R1 = '+12065550001';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a number that reached its subaccount by hand', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');
  const mapping = () => ws.dir.file('map.csv');

  /** A and B in the parent, R1 opted out of A; snapshot; the mapping gives both to Acme. */
  async function begin() {
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      messages: [seededStop(R1, A, Date.now() - 3 * DAY)],
    });
    writeFileSync(
      mapping(),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\nacme,Acme,${B},\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
  }

  /** Someone makes Acme's subaccount in the console and moves A into it. */
  async function moveAByHand(): Promise<string> {
    const sub = await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Acme' });
    const [number] = await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.incomingPhoneNumbers(number!.sid).update({ accountSid: sub.sid });
    return sub.sid;
  }

  /** A, from `sub`, texts `to` after the move; reconcile; violations.csv gives that send. */
  async function sendFindsViolation(sub: string, to: string) {
    await sleep(1_100);
    const violating = await ownClient(ws.env, sub).messages.create({
      to,
      from: A,
      body: 'Sale today!',
    });
    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const found = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(
      found.map((r) => [r['violating_message_sid'], r['recipient'], r['sender_number']]),
    ).toEqual([[violating.sid, to, A]]);
  }

  /** Plan (B moves, A is found in place) and apply; A sends to R1; reconcile. */
  async function applyThenSendAndReconcile(sub: string) {
    const planned = await planAndApply(cli, {
      mapping: mapping(),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    // The plan says A's list is not known to the subaccount.
    expect(planned.planned.stdout).toContain(
      "1 opted-out recipient(s) on its numbers, whom the subaccount will not know: the customer's app must enforce `submigrate optouts --customer acme`",
    );
    // Apply's list gives R1 for A, as one Twilio does not enforce.
    const listed = readCsv(join(ws.dir.path, 'reports', '1', 'optouts.csv'));
    expect(listed.map((r) => [r['recipient'], r['sender_number'], r['twilio_enforces']])).toEqual([
      [R1, A, 'no'],
    ]);
    expect(readFileSync(join(ws.dir.path, 'reports', '1', 'report.html'), 'utf8')).toContain(R1);
    await sendFindsViolation(sub, R1);
  }

  it('moved by hand between the plan and the plan made again: its send to R1 is a violation', async () => {
    await begin();
    const first = await cli([
      'plan',
      '--mapping',
      mapping(),
      '--db',
      db(),
      '--out',
      ws.dir.file('p0.json'),
    ]);
    expect(first.code, first.stderr).toBe(0);
    const sub = await moveAByHand();
    await applyThenSendAndReconcile(sub);
  }, 60_000);

  it('moved by hand out of a shared service before any plan: the service-wide STOP is on its list', async () => {
    // A and B in the parent's Shared; R2 says STOP to B, through Shared: service-wide.
    const R2 = '+12065550002';
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      services: [{ friendly_name: 'Shared', phone_numbers: [A, B] }],
      messages: [seededStop(R2, B, Date.now() - DAY)],
    });
    writeFileSync(
      mapping(),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    // By hand: A out of Shared, into Acme's subaccount.
    const sub = await moveOutOfSharedByHand(ws.env, A);

    const { planned } = await planAndApply(cli, {
      mapping: mapping(),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    expect(planned.stdout).toContain('1 opted-out recipient(s) on its numbers');
    const listed = readCsv(join(ws.dir.path, 'reports', '1', 'optouts.csv'));
    expect(listed.map((r) => [r['recipient'], r['scope'], r['twilio_enforces']])).toEqual([
      [R2, 'service', 'no'],
    ]);
    await sendFindsViolation(sub.sid, R2);
  }, 60_000);

  it('moved by hand before any plan: its send to R1 is a violation', async () => {
    await begin();
    const sub = await moveAByHand();
    await applyThenSendAndReconcile(sub);
  }, 60_000);

  it('moved by hand before any plan: a send to R1 it made before a plan saw it there is a violation too', async () => {
    // Twilio forgot R1's STOP when A reached the subaccount, not when a plan first saw it
    // there: the send in between went out, and no pass may call it clean.
    await begin();
    const sub = await moveAByHand();
    await sleep(1_100);
    const early = await ownClient(ws.env, sub).messages.create({ to: R1, from: A, body: 'Hi' });
    expect(early.status).not.toBe('failed');
    await sleep(1_100);
    await planAndApply(cli, { mapping: mapping(), db: db(), out: ws.dir.file('p.json') });
    const reconciled = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(reconciled.code, reconciled.stderr).toBe(3);
    expect(reconciled.stdout).toContain('1 new violation(s)');
    const found = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(found.map((r) => [r['violating_message_sid'], r['recipient']])).toEqual([
      [early.sid, R1],
    ]);
  }, 60_000);
});

describe('reconcile: a number moved by hand into a subaccount older than what Twilio shows', () => {
  // The emulator's clock stands a month back while the subaccount is made in the console.
  let back = 30 * DAY;
  const ws = useCliWorkspaceEach(undefined, { now: () => Date.now() - back });
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  // Its own evidence in the parent 3 days old, or 60 (older than the subaccount's window):
  // either way the snapshot just before the move listed it there.
  it.each([3, 60])(
    'reads its sends from the last it was known elsewhere, and names no span before it (STOP %i days old)',
    async (days) => {
      back = 30 * DAY;
      const sub = await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Acme' });
      back = 0;
      await ws.env.seed({
        numbers: [{ phone_number: A }],
        messages: [seededStop(R1, A, Date.now() - days * DAY)],
      });
      writeFileSync(
        ws.dir.file('map.csv'),
        `customer_id,customer_name,phone_number,subaccount_sid\nacme,Acme,${A},${sub.sid}\n`,
      );
      expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
      // Twilio shows the subaccount's last 7 days only; it was made 30 days ago.
      const narrowed = await cli([
        'snapshot',
        '--account',
        sub.sid,
        '--retention-days',
        '7',
        '--db',
        db(),
      ]);
      expect(narrowed.code, narrowed.stderr).toBe(0);
      // By hand: A into the subaccount, which texts R1 before any plan sees A there.
      const [number] = await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: A });
      await ws.env.parent.incomingPhoneNumbers(number!.sid).update({ accountSid: sub.sid });
      await sleep(1_100);
      const early = await ownClient(ws.env, sub.sid).messages.create({
        to: R1,
        from: A,
        body: 'Hi',
      });
      await sleep(1_100);
      await planAndApply(cli, {
        mapping: ws.dir.file('map.csv'),
        db: db(),
        out: ws.dir.file('p.json'),
      });

      const reconciled = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
      expect(reconciled.code, reconciled.stderr).toBe(3);
      const found = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
      expect(found.map((r) => r['violating_message_sid'])).toEqual([early.sid]);
      // The snapshot listed A in the parent just before it moved: no span of the month before
      // is its, however old its own evidence there.
      expect(reconciled.stderr).not.toContain('not checked');
    },
    60_000,
  );
});
