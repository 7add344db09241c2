/**
 * A number apply moved into its customer's subaccount, then moved back by hand into the parent
 * (no step of apply's), which sends from there to someone who said STOP to it in the
 * subaccount; a new plan moves it back into the subaccount (built CLI, real SDK, emulator over
 * HTTP).
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, seededStop, useCliWorkspaceEach } from '../support/migration.js';

const A = '+14155550701';
const B = '+14155550702';
const R1 = '+12065550031';
const R2 = '+12065550032';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a number moved back by hand into the parent', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');
  const mapping = `customer_id,customer_name,phone_number\nacme,Acme,${A}\nacme,Acme,${B}\n`;

  /**
   * Snapshot, plan and apply Acme (R1 said STOP to A in the parent before), R2 says STOP to A in
   * Acme's subaccount, A is moved back by hand into the parent, and the parent texts R2 from it
   * (Twilio lets it through: the STOP was said in the subaccount). The parent's and Acme's SIDs.
   */
  async function movedBackAndSent() {
    await ws.env.seed({
      numbers: [{ phone_number: A }, { phone_number: B }],
      messages: [seededStop(R1, A, Date.now() - 3 * DAY)],
    });
    writeFileSync(ws.dir.file('map.csv'), mapping);
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, {
      mapping: ws.dir.file('map.csv'),
      db: db(),
      out: ws.dir.file('p1.json'),
    });
    const accounts = (await ws.env.state()).accounts;
    const parent = accounts.find((a) => a.sid === a.owner_account_sid)!.sid;
    const acme = accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    await sleep(1_100);
    await ws.env.seed({ messages: [seededStop(R2, A, Date.now(), acme)] });
    await sleep(1_100);
    const [number] = await ownClient(ws.env, acme).incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.api.v2010
      .accounts(acme)
      .incomingPhoneNumbers(number!.sid)
      .update({ accountSid: parent });
    await sleep(1_100);
    const sent = await ws.env.parent.messages.create({ to: R2, from: A, body: 'Sale today!' });
    expect(sent.status).not.toBe('failed');
    return { parent, acme };
  }

  it('once moved back into the same subaccount, names no span there it read as never checked', async () => {
    const { acme } = await movedBackAndSent();
    await planAndApply(cli, {
      mapping: ws.dir.file('map.csv'),
      db: db(),
      out: ws.dir.file('p2.json'),
    });
    // Acme's subaccount is read from the first move on: the number is held to it throughout.
    for (const n of [1, 2]) {
      const pass = await cli(['reconcile', '--db', db(), '--json']);
      expect(pass.code, pass.stderr).toBe(0);
      const { notChecked } = JSON.parse(pass.stdout) as { notChecked: Record<string, string>[] };
      expect(
        notChecked.filter((s) => s.accountSid === acme),
        `pass ${n}`,
      ).toEqual([]);
    }
  }, 90_000);
});
