/**
 * A number moved by hand out of a shared Messaging Service between two snapshots, and a START
 * said through the service (to another of its numbers) after it left: the START was said to a
 * service the number was no longer in, so it did not lift the service's opt-out the number
 * carried out of it (a STOP said to the service while it was there). Its list keeps the
 * opt-out: the plan, its carry, `optouts.csv`, `optouts --customer`, and reconcile, which holds
 * a send from it to that list. (Found by a review: the export bound the service's pairs as they
 * stand now, after the START, and listed none.) Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a START through a shared service after a number left it by hand', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('left.db');

  /**
   * A and B in the parent's Shared, R1's STOP to B (service-wide); snapshot and plan; A leaves Shared
   * by hand (`into`: on into Acme's subaccount, or staying in the parent in no service); R1
   * says START to B, still in Shared; snapshot; plan (`plan`: its extra flags) and apply.
   */
  async function startAfterLeaving(into: 'subaccount' | 'parent', plan: string[] = []) {
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      services: [{ friendly_name: 'Shared', phone_numbers: [A, B] }],
      messages: [seededStop(R1, B, Date.now() - DAY)],
    });
    writeFileSync(
      ws.dir.file('map.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\n`,
    );
    // The snapshots and the first plan in-process (their CLI is not what is tested here).
    await snapshotInProcess(ws.env, db());
    // A plan saw A in Shared: reconcile holds A's sends from then on.
    await planInProcess(ws.env, { mapping: ws.dir.file('map.csv'), db: db() });
    if (into === 'subaccount') {
      await moveOutOfSharedByHand(ws.env, A);
    } else {
      const [number] = await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: A });
      const [shared] = await ws.env.parent.messaging.v1.services.list();
      await ws.env.parent.messaging.v1.services(shared!.sid).phoneNumbers(number!.sid).remove();
    }
    await sleep(1_100);
    // R1 texts START to B, still in Shared: opted back in to the service A is no longer in.
    await ws.env.seed({ messages: [{ ...seededStop(R1, B, Date.now()), body: 'START' }] });
    await sleep(1_100);
    await snapshotInProcess(ws.env, db());

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

  for (const into of ['subaccount', 'parent'] as const) {
    // One migration for both (they ran the same one each): the lists, then the pass.
    it(`left for the ${into}: optouts.csv and optouts --customer keep R1, and reconcile calls a send from A to R1 a violation`, async () => {
      const { listed, exported } = await startAfterLeaving(into);
      for (const rows of [listed, exported]) {
        expect(rows.map((row) => [row['customer_id'], row['recipient'], row['scope']])).toEqual([
          ['acme', R1, 'service'],
        ]);
        // The evidence is the STOP said to the service while A was in it.
        expect(rows[0]!['sender_number']).toBe(B);
        expect(rows[0]!['keyword']).toBe('STOP');
      }

      const [sub] = await ws.env.parent.api.v2010.accounts.list({ friendlyName: 'Acme' });
      await sleep(1_100);
      const sent = await ownClient(ws.env, sub!.sid).messages.create({
        to: R1,
        from: A,
        body: 'Hi',
      });
      const reconciled = await cli(['reconcile', '--db', db()]);
      expect(reconciled.code, reconciled.stderr).toBe(0);
      const found = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
      expect(found.map((r) => [r['violating_message_sid'], r['recipient']])).toEqual([
        [sent.sid, R1],
      ]);
    });

    it(`left for the ${into}: the plan counts R1 and carries it`, async () => {
      const { planned } = await startAfterLeaving(into, ['--carry-optouts']);
      expect(planned.stdout).toMatch(/\b1 opted-out recipient/);
      const plan = JSON.parse(readFileSync(ws.dir.file('plan.json'), 'utf8')) as {
        carry_items?: { contact_id: string }[];
      };
      expect((plan.carry_items ?? []).map((item) => item.contact_id)).toEqual([R1]);
    });
  }
});
