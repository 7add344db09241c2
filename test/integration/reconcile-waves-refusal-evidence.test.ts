/**
 * A violation whose opt-out is known only from a send Twilio refused with 21610 in the parent,
 * before wave 1, by a number wave 2 moved on (parent → acme → beta): violations.csv names that
 * refused send as its evidence. The lookup searched the number's latest recorded source (acme's
 * subaccount, which the number left last) and found nothing there: evidence_message_sid was
 * empty. It is found in the account the number was in at the time. So too when the send is
 * from the customer's RCS agent (no number of its own: held to the lists of its moved numbers).
 * Built CLI, emulator over HTTP.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, useCliWorkspace } from '../support/migration.js';

const N = '+14155550721';
const REFUSED_TO = '+12065550721';
const DAY = 86_400_000;

/** Until the clock's second has turned: journal times and message dates have whole seconds. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

describe('a refusal-only opt-out in the parent, its number moved on by a second wave', () => {
  // The real clock: the CLI reads it.
  const ws = useCliWorkspace();
  let refusedSid = '';
  const { cli } = ws;
  const db = () => ws.dir.file('w.db');

  beforeAll(async () => {
    const seeded = await ws.env.seed({
      numbers: [{ phone_number: N }],
      messages: [
        {
          from: N,
          to: REFUSED_TO,
          body: 'Your order shipped',
          direction: 'outbound-api',
          date_sent: Math.floor((Date.now() - 3 * DAY) / 1000) * 1000,
          status: 'failed',
          error_code: 21610,
        },
      ],
    });
    refusedSid = seeded.messages[0]!.sid;
  });

  const wave = async (n: number, row: string) => {
    writeFileSync(ws.dir.file(`m${n}.csv`), `customer_id,customer_name,phone_number\n${row}\n`);
    const { applied } = await planAndApply(cli, {
      mapping: ws.dir.file(`m${n}.csv`),
      db: db(),
      out: ws.dir.file(`p${n}.json`),
    });
    expect(applied.code, applied.stderr).toBe(0);
  };

  it("names the parent's refused send as the evidence in violations.csv", async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await wave(1, `acme,Acme,${N}`);
    await nextSecond();
    await wave(2, `beta,Beta,${N}`);

    const state = await ws.env.state();
    const beta = state.accounts.find((a) => a.friendly_name === 'Beta')!.sid;
    const client = ownClient(ws.env, beta);
    const sent = await client.messages.create({ to: REFUSED_TO, from: N, body: 'Hello again' });

    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.stdout).toMatch(/In all: 1 violation\(s\), 0 blocked\./);
    const [violation, ...more] = readCsv(join(ws.dir.path, 'reports', '2', 'violations.csv'));
    expect(more).toEqual([]);
    expect(violation).toMatchObject({
      violating_message_sid: sent.sid,
      recipient: REFUSED_TO,
      customer_id: 'beta',
      evidence: 'refusal',
      evidence_message_sid: refusedSid,
    });
  }, 120_000);

  it("names it too for a send from beta's RCS agent, which has no number to look it up by", async () => {
    const state = await ws.env.state();
    const beta = state.accounts.find((a) => a.friendly_name === 'Beta')!.sid;
    await nextSecond();
    const [agentSend] = (
      await ws.env.seed({
        messages: [
          {
            from: 'rcs:beta_brand_agent',
            to: `rcs:${REFUSED_TO}`,
            body: 'Hello over RCS',
            direction: 'outbound-api',
            date_sent: new Date().toISOString(),
            account_sid: beta,
          },
        ],
      })
    ).messages;

    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.stdout).toMatch(/In all: 2 violation\(s\), 0 blocked\./);
    const byAgent = readCsv(join(ws.dir.path, 'reports', '2', 'violations.csv')).find(
      (v) => v['violating_message_sid'] === agentSend!.sid,
    );
    expect(byAgent).toMatchObject({
      recipient: REFUSED_TO,
      sender_number: 'rcs:beta_brand_agent',
      customer_id: 'beta',
      evidence: 'refusal',
      evidence_message_sid: refusedSid,
    });
  }, 120_000);
});
