/**
 * `submigrate reconcile --fail-on-violation` (built CLI, real SDK, emulator over HTTP, SQLite
 * file) over a moved number whose webhook was changed in the Console after the migration
 * (`date_updated` later than apply's last change): the pass reads the family's messages of the
 * number then, finds none, and exits 0, as does the next; had it sent from the parent, the pass
 * names the parent and exits 3. No credential in any output.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { NotChecked } from '../../src/reconcile/result.js';
import { ownClient } from '../support/emulator.js';
import { planAndApply, seededStop, useCliWorkspaceEach } from '../support/migration.js';

const A = '+14155550991';
const [R1, R2] = ['+12065550991', '+12065550992'];
const DAY = 86_400_000;
const AHEAD = 10 * 60_000;

describe('reconcile: a webhook changed in the Console after the migration', () => {
  // The emulator's clock runs `ahead` of this machine's while the Console changes the number:
  // later than apply's last step by more than the two minutes the clocks may differ.
  let ahead = 0;
  const ws = useCliWorkspaceEach(undefined, { now: () => Date.now() + ahead });
  const db = () => ws.dir.file('r.db');

  async function migrated() {
    await ws.env.seed({
      numbers: [{ phone_number: A, sms_url: 'https://app.example/sms' }],
      messages: [seededStop(R1, A, Date.now() - DAY)],
    });
    writeFileSync(
      ws.dir.file('map.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`,
    );
    expect((await ws.cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(ws.cli, {
      mapping: ws.dir.file('map.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    const acme = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const [number] = await ownClient(ws.env, acme).incomingPhoneNumbers.list({ phoneNumber: A });
    return { acme, numberSid: number!.sid };
  }

  const pass = async () => {
    const ran = await ws.cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    const result = JSON.parse(ran.stdout === '' ? '{}' : ran.stdout) as {
      notChecked?: NotChecked[];
    };
    return { ...ran, notChecked: result.notChecked ?? [] };
  };

  it('vouches for it and exits 0, and the next pass too', async () => {
    const { acme, numberSid } = await migrated();
    ahead = AHEAD;
    await ws.env.parent.api.v2010
      .accounts(acme)
      .incomingPhoneNumbers(numberSid)
      .update({ smsUrl: 'https://app.example/sms-new-token' });
    ahead = 0;
    const first = await pass();
    expect(first.code, first.stderr).toBe(0);
    expect(first.notChecked).toEqual([]);
    const next = await pass();
    expect(next.code, next.stderr).toBe(0);
    for (const out of [first, next]) {
      expect(out.stdout + out.stderr).not.toContain(ws.env.parentToken);
    }
  });

  it('names the parent and exits 3 when the number sent from there in the span', async () => {
    const { acme, numberSid } = await migrated();
    ahead = AHEAD;
    const number = ws.env.parent.api.v2010.accounts(acme).incomingPhoneNumbers(numberSid);
    await number.update({ accountSid: ws.env.parentSid });
    const sent = await ws.env.parent.messages.create({ from: A, to: R2, body: 'Sale!' });
    await ws.env.parent.api.v2010
      .accounts(ws.env.parentSid)
      .incomingPhoneNumbers(numberSid)
      .update({ accountSid: acme });
    ahead = 0;
    const last = await pass();
    expect(last.code, last.stderr).toBe(3);
    expect(last.notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-updated',
        phoneNumber: A,
        updatedCheck: expect.objectContaining({
          outcome: 'found',
          accountSid: ws.env.parentSid,
          messageSid: sent.sid,
        }),
      }),
    ]);
    expect(last.stderr).toContain(`; ${ws.env.parentSid} holds a message it sent or heard at `);
    expect(last.stdout + last.stderr).not.toContain(ws.env.parentToken);
  });
});
