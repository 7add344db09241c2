/**
 * reconcile's "messages read" counts each message of a pass's windows once. Unlike a snapshot,
 * a pass reads each subaccount in one window, page after page, with no slices sharing a
 * second: a message on the window's last second, or paged over, is counted once. A later pass
 * counts its own window, as a later snapshot run does: the 10 minutes it reads again included.
 */

import { writeFileSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { migrateOneCustomer, useCliWorkspace } from '../support/migration.js';
import { reconcileAt } from '../support/reconcile-pass.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const A = '+14155550821';
const user = (n: number) => `+1206556${String(n).padStart(4, '0')}`;

describe('reconcile counts each message of a pass once', () => {
  let now = NOW;
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }] }, { now: () => now });
  const { cli } = ws;

  beforeAll(async () => {
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
  });

  it('over pages and on the window’s last second once; a later pass counts its own window', async () => {
    const db = ws.dir.file('c.db');
    const sub = await migrateOneCustomer(cli, {
      mapping: ws.dir.file('m.csv'),
      db,
      out: ws.dir.file('c.plan.json'),
    });
    const inbound = (n: number, at: number) => ({
      from: user(n),
      to: A,
      body: 'hello',
      direction: 'inbound' as const,
      date_sent: new Date(at).toISOString(),
      account_sid: sub,
    });
    const pass = (at: number) => {
      now = at;
      return reconcileAt(ws.env, db, at);
    };
    // 1,500 messages (two pages) in the hour after the move, one 5 minutes before the pass
    // and one on its last second: 1,502.
    const first = NOW + 3 * HOUR;
    await ws.env.seed({
      messages: [
        ...Array.from({ length: 1500 }, (_, i) => inbound(i, NOW + HOUR + i * 2000)),
        inbound(1500, first - 5 * MINUTE),
        inbound(1501, first),
      ],
    });
    expect((await pass(first)).messagesRead).toBe(1502);

    // The next pass reads on from 10 minutes before the first ended: the message 5 minutes
    // before it and the one on its last second are read, and counted, again; two are new.
    await ws.env.seed({
      messages: [inbound(1502, NOW + 4 * HOUR), inbound(1503, NOW + 4 * HOUR + MINUTE)],
    });
    expect((await pass(NOW + 5 * HOUR)).messagesRead).toBe(4);
  });
});
