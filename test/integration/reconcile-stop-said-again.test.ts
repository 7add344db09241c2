/**
 * A number moved by hand has its sends in the subaccount judged from before a plan saw it
 * there, against its list as that plan saw it. A recipient who said STOP again after such a
 * send is on the list by that later STOP only; the opt-out stood since the first (a STOP, or a
 * send Twilio refused), and the send broke it (built CLI, real SDK, emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { SeedDocument } from '../../src/emulator/seed.js';
import { inbound, ownClient } from '../support/emulator.js';
import {
  planAndApply,
  readCsv,
  seededStop,
  useCliWorkspaceEach,
  moveOutOfSharedByHand,
} from '../support/migration.js';

const A = '+14155550401';
const B = '+14155550402';
const R2 = '+12065550002';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: an opt-out said again after a send from a number moved by hand', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  /**
   * A and B in the parent's Shared, with `history` (R2's opt-out through B, service-wide);
   * snapshot; by hand A out of Shared into Acme's subaccount, which texts R2; R2 says STOP to B
   * again; plan, apply, reconcile: the send is a violation.
   */
  async function sendThenStopAgain(
    history: NonNullable<SeedDocument['messages']>,
    inSubaccount: 'start' | 'start, then stop to B' | 'nothing' = 'nothing',
  ): Promise<void> {
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      services: [{ friendly_name: 'Shared', phone_numbers: [A, B] }],
      messages: history,
    });
    writeFileSync(
      ws.dir.file('map.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A},\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const sub = await moveOutOfSharedByHand(ws.env, A);
    await sleep(1_100);
    if (inSubaccount !== 'nothing') {
      // R2 texts START to A, now in the subaccount: opted back in to A there.
      await inbound(ws.env, { from: R2, to: A, body: 'START' });
      await sleep(1_100);
    }
    if (inSubaccount === 'start, then stop to B') {
      // and then STOP to B, still in the parent's Shared, whose opt-outs are on A's list.
      await ws.env.seed({ messages: [seededStop(R2, B, Date.now())] });
      await sleep(1_100);
    }
    const sent = await ownClient(ws.env, sub.sid).messages.create({ to: R2, from: A, body: 'Hi' });
    expect(sent.status).not.toBe('failed');
    await sleep(1_100);
    // R2, texted though opted out, says STOP again, to B: still in the parent's Shared.
    await ws.env.seed({ messages: [seededStop(R2, B, Date.now())] });
    await planAndApply(cli, {
      mapping: ws.dir.file('map.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });

    const reconciled = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    if (inSubaccount === 'start') {
      // At the send R2 had opted back in to A, after the STOP that stood then: no violation.
      expect(reconciled.code, reconciled.stderr).toBe(0);
      expect(reconciled.stdout).toContain('0 new violation(s)');
      return;
    }
    expect(reconciled.code, reconciled.stderr).toBe(3);
    const found = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(
      found.map((r) => [r['violating_message_sid'], r['recipient'], r['sender_number']]),
    ).toEqual([[sent.sid, R2, A]]);
  }

  it('opted out by a STOP before the send, on the list by the STOP after it', async () => {
    await sendThenStopAgain([seededStop(R2, B, Date.now() - DAY)]);
  }, 60_000);

  it('opted back in to the number in the subaccount after that STOP and before the send: no violation', async () => {
    await sendThenStopAgain([seededStop(R2, B, Date.now() - DAY)], 'start');
  }, 60_000);

  it('opted back in, then out again through the service, before the send: a violation', async () => {
    await sendThenStopAgain([seededStop(R2, B, Date.now() - DAY)], 'start, then stop to B');
  }, 60_000);

  it('known opted out from a send Twilio refused before the send, on the list by a STOP after it', async () => {
    // Through Shared, refused: R2 was opted out of it then (its STOP older than anything read).
    await sendThenStopAgain([
      {
        from: B,
        to: R2,
        body: 'Reminder',
        direction: 'outbound-api' as const,
        date_sent: new Date(Date.now() - DAY).toISOString(),
        status: 'failed',
        error_code: 21610,
      },
    ]);
  }, 60_000);
});
