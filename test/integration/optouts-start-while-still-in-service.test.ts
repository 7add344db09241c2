/**
 * A number listed twice in a shared Messaging Service, then moved out of it by hand, and a START
 * said through the service (to another of its numbers) between those two listings: the START
 * was said while the number was still in the service, so it lifted the service's opt-out for
 * that number too, and its list does not keep the person. A START said after the number left
 * still does not lift it. (Found by a review: only the first listing that saw a number in a
 * service was kept, so a START since that one was taken as said after the number left: its
 * list kept R1, the plan counted and carried it, and reconcile called a send to R1 a
 * violation.) Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import {
  moveOutOfSharedByHand,
  planAndApply,
  planInProcess,
  readCsv,
  seededStop,
  snapshotInProcess,
  useCliWorkspaceEach,
} from '../support/migration.js';

const A = '+14155550401';
const B = '+14155550402';
const R1 = '+12065550001';
const R2 = '+12065550002';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a START through a shared service between two listings that showed a number in it', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('stayed.db');

  /** When the latest listing of the parent saw A (ISO 8601, this machine's clock). */
  function listedAt(): string {
    const d = new Database(db(), { readonly: true });
    try {
      return d
        .prepare('SELECT observed_at FROM numbers WHERE phone_number = ?')
        .pluck()
        .get(A) as string;
    } finally {
      d.close();
    }
  }

  /**
   * A and B in the parent's Shared, R1's and R2's STOPs to B (service-wide); a snapshot lists
   * A in Shared. R1 says START to B, dated by Twilio a minute and 59 seconds before that
   * listing (within the two minutes Twilio's clock may be behind: after it, as far as the first
   * listing tells). A plan's refresh, two seconds on, lists A in Shared again: the START was
   * said while A was in it. A leaves Shared by hand (`into`: Acme's subaccount, or no service
   * in the parent); a snapshot; R2 says START to B (after A left); plan (`plan`: its extra
   * flags) and apply.
   */
  async function startBetweenListings(into: 'subaccount' | 'parent', plan: string[] = []) {
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      services: [{ friendly_name: 'Shared', phone_numbers: [A, B] }],
      messages: [seededStop(R1, B, Date.now() - DAY), seededStop(R2, B, Date.now() - DAY)],
    });
    writeFileSync(
      ws.dir.file('map.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\n`,
    );
    // The snapshots and the first plan in-process (their CLI is not what is tested here).
    await snapshotInProcess(ws.env, db());
    const first = Date.parse(listedAt());
    await ws.env.seed({ messages: [{ ...seededStop(R1, B, first - 119_000), body: 'START' }] });
    await sleep(2_100);
    // A plan saw A in Shared (reconcile holds A's sends from then on); its refresh listed it
    // there again, and read the START (a snapshot reaches 10 minutes back).
    await planInProcess(ws.env, { mapping: ws.dir.file('map.csv'), db: db() });
    expect(Date.parse(listedAt())).toBeGreaterThanOrEqual(first + 2_000);
    if (into === 'subaccount') {
      await moveOutOfSharedByHand(ws.env, A);
    } else {
      const [number] = await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: A });
      const [shared] = await ws.env.parent.messaging.v1.services.list();
      await ws.env.parent.messaging.v1.services(shared!.sid).phoneNumbers(number!.sid).remove();
    }
    await sleep(1_100);
    await snapshotInProcess(ws.env, db());
    // R2 texts START to B, still in Shared, after A left it.
    await ws.env.seed({ messages: [{ ...seededStop(R2, B, Date.now()), body: 'START' }] });
    await sleep(1_100);

    const { planned } = await planAndApply(cli, {
      mapping: ws.dir.file('map.csv'),
      db: db(),
      out: ws.dir.file('plan.json'),
      plan,
    });
    const listed = readCsv(join(ws.dir.path, 'reports', '1', 'optouts.csv'));
    const exported = await cli(['optouts', '--customer', 'acme', '--db', db()]);
    expect(exported.code, exported.stderr).toBe(0);
    return {
      planned,
      listed,
      exported: parse(exported.stdout, { columns: true }) as Record<string, string>[],
    };
  }

  const listR2Alone = (rows: Record<string, string>[]) =>
    expect(rows.map((row) => [row['customer_id'], row['recipient'], row['scope']])).toEqual([
      ['acme', R2, 'service'],
    ]);

  it('left for the parent: optouts.csv and optouts --customer list R2, not R1', async () => {
    const { listed, exported } = await startBetweenListings('parent');
    listR2Alone(listed);
    listR2Alone(exported);
  });

  it('the plan counts and carries R2 alone', async () => {
    const { planned } = await startBetweenListings('subaccount', ['--carry-optouts']);
    expect(planned.stdout).toMatch(/\b1 opted-out recipient/);
    const plan = JSON.parse(readFileSync(ws.dir.file('plan.json'), 'utf8')) as {
      carry_items?: { contact_id: string }[];
    };
    expect((plan.carry_items ?? []).map((item) => item.contact_id)).toEqual([R2]);
  });

  // One migration for both (they ran the same one each): the lists, then the pass.
  it('left for the subaccount: optouts.csv and optouts --customer list R2, not R1, and reconcile calls a send from A to R2 a violation, and one to R1 none', async () => {
    const { listed, exported } = await startBetweenListings('subaccount');
    listR2Alone(listed);
    listR2Alone(exported);

    const [sub] = await ws.env.parent.api.v2010.accounts.list({ friendlyName: 'Acme' });
    await sleep(1_100);
    const client = ownClient(ws.env, sub!.sid);
    await client.messages.create({ to: R1, from: A, body: 'Hi' });
    const sent = await client.messages.create({ to: R2, from: A, body: 'Hi' });
    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const found = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(found.map((r) => [r['violating_message_sid'], r['recipient']])).toEqual([
      [sent.sid, R2],
    ]);
  });
});
