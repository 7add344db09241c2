/**
 * An apply whose transfer of A failed (someone moved A by hand into Other as the transfer left),
 * A texted R1 (who had said STOP to it in the parent) from Other, and someone moved A back into
 * the parent before any pass: the pass found A where it comes from and named nothing, and the
 * journal had nothing to name, so reconcile --fail-on-violation exited 0. Twilio dates the move
 * back (`date_updated` later than the apply began): the pass now reads the family's messages of
 * the span, finds the send in Other and names it (`number-updated`, exit 3); one only changed in
 * the Console where it comes from is vouched for, exit 0 (built CLI, real SDK, emulator over HTTP
 * through a proxy, SQLite file).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { moveNumberByHand } from '../support/emulator.js';
import { makePlan, seededStop, useCliWorkspaceEach } from '../support/migration.js';
import {
  A,
  applyAsTransferArrives,
  B,
  movedByHandDuringApply,
  R1,
} from '../support/transfer-failed.js';

const DAY = 86_400_000;
const AHEAD = 10 * 60_000;
interface Pass {
  notChecked: Record<string, unknown>[];
}

describe('reconcile after an apply whose transfer failed', () => {
  // The emulator's clock runs `ahead` of this machine's while the number is moved back (or
  // changed in the Console): later than apply's last step by more than the clocks may differ.
  let ahead = 0;
  const ws = useCliWorkspaceEach(undefined, { now: () => Date.now() + ahead });
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  it('moved by hand back into the parent before any pass: the send from where it was is named, exit 3', async () => {
    const { applied, other, parent, toR1 } = await movedByHandDuringApply(ws, db(), (s) => s.other);
    expect(applied.code, applied.stderr).toBe(3);
    // A texted R1 from Other; then someone moves it back into the parent, where it came from.
    ahead = AHEAD;
    await moveNumberByHand(ws.env, A, other, parent);
    ahead = 0;
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    expect((JSON.parse(pass.stdout) as Pass).notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-updated',
        accountSid: parent,
        phoneNumber: A,
        updatedCheck: expect.objectContaining({
          outcome: 'found',
          accountSid: other,
          messageSid: toR1.sid,
        }),
      }),
    ]);
  }, 90_000);

  it('moved back into the parent: the line, --json and report.html name the parent as where it comes from, not as its subaccount', async () => {
    const { applied, acme, other, parent, toR1 } = await movedByHandDuringApply(
      ws,
      db(),
      (s) => s.other,
    );
    // Apply looked in the parent and Acme's subaccount only: it does not say A is in no account
    // of the family (it was in Other).
    const failure = `${A} is neither in ${parent}, where it was, nor in ${acme}, where it was going (moved elsewhere by hand, or released)`;
    expect(applied.stderr).toContain(failure);
    ahead = AHEAD;
    await moveNumberByHand(ws.env, A, other, parent);
    ahead = 0;
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(pass.code, pass.stderr).toBe(3);
    expect(pass.stderr).toContain(
      `not checked: number ${A} of acme, whose transfer into its customer's subaccount failed or was not run, from `,
    );
    expect(pass.stderr).toContain(
      `: a pass listed it in the parent account ${parent}, where it comes from, but Twilio says it was changed there at `,
    );
    expect(pass.stderr).not.toContain('its subaccount');
    // A later pass names the span from what the database kept, the same way.
    const again = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(again.code, again.stderr).toBe(3);
    expect((JSON.parse(again.stdout) as Pass).notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-updated',
        accountSid: parent,
        comesFrom: 'parent',
        updatedCheck: expect.objectContaining({ accountSid: other, messageSid: toR1.sid }),
      }),
    ]);
    expect(again.stderr).toContain(`a pass listed it in the parent account ${parent}, where it`);
    // The run's report.html names the span (A is this run's number), and does not say nobody
    // was texted.
    expect((await cli(['report', '--db', db()])).code).toBe(0);
    const page = readFileSync(join(ws.dir.path, 'reports', '1', 'report.html'), 'utf8');
    expect(page).toContain(`${A} in ${other} (a message of it there)`);
    expect(page).not.toContain('Nobody on a suppression list has been texted');
    expect(page).toContain(failure);
    expect(page).not.toContain('no account of this family');
  }, 90_000);

  it('still in the parent, changed there in the Console: vouched for, exit 0', async () => {
    await ws.env.seed({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A }, { phone_number: B }],
      messages: [seededStop(R1, A, Date.now() - DAY)],
    });
    const { accounts, numbers } = await ws.env.state();
    const acme = accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const numberA = numbers.find((n) => n.phone_number === A)!.sid;
    const mapping = ws.dir.file('map.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nbeta,Beta,${B}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await makePlan(cli, { mapping, db: db(), out: ws.dir.file('p.json') });
    // Acme's subaccount is suspended as A's transfer leaves: Twilio refuses it, A stays in the
    // parent. B moves into Beta's.
    const applied = await applyAsTransferArrives(ws, db(), ws.dir.file('p.json'), numberA, () =>
      ws.env.parent.api.v2010.accounts(acme).update({ status: 'suspended' }),
    );
    expect(applied.code, applied.stderr).toBe(3);
    ahead = AHEAD;
    await ws.env.parent.api.v2010
      .accounts(ws.env.parentSid)
      .incomingPhoneNumbers(numberA)
      .update({ smsUrl: 'https://app.example/sms-new' });
    ahead = 0;
    for (const n of [1, 2]) {
      const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
      expect(pass.code, `pass ${n}: ${pass.stderr}`).toBe(0);
      expect((JSON.parse(pass.stdout) as Pass).notChecked).toEqual([]);
    }
  }, 90_000);
});
