/**
 * An apply whose drift check passed, and then someone moved a mapped number by hand as apply's
 * transfer of it left: Twilio refuses the transfer (the number is no longer in the parent), the
 * step fails, and the number sends from where the hand put it, where Twilio never heard the
 * STOP said to it in the parent. Reconcile judged none of its sends (no transfer step of it is
 * done) and exited 0 with --fail-on-violation: a false all-clear, and once the plan made again
 * was applied (moving it from where the hand put it) nothing named that span, a pass run in it
 * or not. Now a pass that finds it there names it (`number-away`, kept), and the journal names it
 * when no pass ran before the plan made again was applied. And a run whose failure moved no
 * number (a transfer refused as its subaccount was suspended, the number still in the parent,
 * moved from there by the plan made again) keeps its exit 0 (built CLI, real SDK, emulator over
 * HTTP through a proxy, SQLite file).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  makePlan,
  readCsv,
  readJournal,
  seededStop,
  useCliWorkspaceEach,
} from '../support/migration.js';
import {
  A,
  applyAsTransferArrives,
  movedByHandDuringApply,
  R1,
} from '../support/transfer-failed.js';

const C = '+14155550803';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Pass {
  notChecked: Record<string, string>[];
  newViolations: number;
  sendsChecked: number;
}

describe('reconcile after an apply whose transfer failed', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  it('failed twice, the second time with the number left where the hand put it: the span there is still named', async () => {
    const { applied, other, acme, toR1, mapping } = await movedByHandDuringApply(
      ws,
      db(),
      (s) => s.other,
    );
    expect(applied.code, applied.stderr).toBe(3);
    // Made again, the plan finds A in Other; Acme's subaccount is suspended as its transfer
    // leaves, so Twilio refuses it and A stays in Other.
    await makePlan(cli, { mapping, db: db(), out: ws.dir.file('p2.json') });
    const numberA = (await ws.env.state()).numbers.find((n) => n.phone_number === A)!.sid;
    const second = await applyAsTransferArrives(ws, db(), ws.dir.file('p2.json'), numberA, () =>
      ws.env.parent.api.v2010.accounts(acme).update({ status: 'suspended' }),
    );
    expect(second.code, second.stderr).toBe(3);
    expect((await ws.env.state()).numbers.find((n) => n.phone_number === A)!.account_sid).toBe(
      other,
    );
    // Acme's active again, the plan made a third time moves A from Other into Acme's.
    await ws.env.parent.api.v2010.accounts(acme).update({ status: 'active' });
    await sleep(1_100);
    await makePlan(cli, { mapping, db: db(), out: ws.dir.file('p3.json') });
    const third = await cli(['apply', ws.dir.file('p3.json'), '--db', db(), '--rate', '1000']);
    expect(third.code, third.stderr).toBe(0);
    expect((await ws.env.state()).numbers.find((n) => n.phone_number === A)!.account_sid).toBe(
      acme,
    );

    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    const spans = (JSON.parse(pass.stdout) as Pass).notChecked.filter(
      (s) => s.reason === 'number-away' && s.accountSid === other,
    );
    expect(spans).toHaveLength(1);
    expect(Date.parse(spans[0]!.start!)).toBeLessThanOrEqual(toR1.dateCreated.getTime());
    expect(Date.parse(spans[0]!.end!)).toBeGreaterThanOrEqual(toR1.dateCreated.getTime());
  }, 120_000);

  it('moved by hand into a subaccount of no customer: names its span there not checked, exit 3', async () => {
    const { applied, other, acme, toR1, mapping } = await movedByHandDuringApply(
      ws,
      db(),
      (s) => s.other,
    );
    expect(applied.code, applied.stderr).toBe(3);
    expect(readJournal(db()).states['failed']).toBe(1);

    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    const result = JSON.parse(pass.stdout) as Pass;
    expect(result.notChecked).toEqual([
      expect.objectContaining({
        accountSid: other,
        reason: 'number-away',
        phoneNumber: A,
        customerId: 'acme',
        subaccountSid: acme,
      }),
    ]);
    expect(pass.stderr).toMatch(new RegExp(`^not checked: ${other} from \\S+ to \\S+, while`, 'm'));
    // Kept: a later pass names it again, the number still there.
    const again = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(again.code, again.stderr).toBe(3);
    expect((JSON.parse(again.stdout) as Pass).notChecked).toEqual([
      expect.objectContaining({ accountSid: other, reason: 'number-away', phoneNumber: A }),
    ]);

    // The plan made again and applied (as apply's failure advises) moves A from Other into
    // Acme's subaccount: the span it spent in Other still stands, with the send in it.
    await sleep(1_100);
    const replanned = await makePlan(cli, { mapping, db: db(), out: ws.dir.file('p2.json') });
    expect(replanned.code).toBe(0);
    const reapplied = await cli(['apply', ws.dir.file('p2.json'), '--db', db(), '--rate', '1000']);
    expect(reapplied.code, reapplied.stderr).toBe(0);
    expect((await ws.env.state()).numbers.find((n) => n.phone_number === A)!.account_sid).toBe(
      acme,
    );
    const after = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(after.code, after.stderr).toBe(3);
    const [span, ...more] = (JSON.parse(after.stdout) as Pass).notChecked.filter(
      (s) => s.reason === 'number-away',
    );
    expect(more).toEqual([]);
    expect(span).toMatchObject({ accountSid: other, phoneNumber: A });
    expect(Date.parse(span!.start!)).toBeLessThanOrEqual(toR1.dateCreated.getTime());
    expect(Date.parse(span!.end!)).toBeGreaterThanOrEqual(
      Math.floor(toR1.dateCreated.getTime() / 1000) * 1000,
    );
  }, 90_000);

  it('no pass before the plan made again is applied: the span in the other account is named from the journal', async () => {
    const { applied, other, acme, toR1, mapping } = await movedByHandDuringApply(
      ws,
      db(),
      (s) => s.other,
    );
    expect(applied.code, applied.stderr).toBe(3);
    // Made again, the plan finds A in Other, and its apply moves it from there into Acme's.
    const replanned = await makePlan(cli, { mapping, db: db(), out: ws.dir.file('p2.json') });
    expect(replanned.code).toBe(0);
    const reapplied = await cli(['apply', ws.dir.file('p2.json'), '--db', db(), '--rate', '1000']);
    expect(reapplied.code, reapplied.stderr).toBe(0);
    expect((await ws.env.state()).numbers.find((n) => n.phone_number === A)!.account_sid).toBe(
      acme,
    );

    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    const [span, ...more] = (JSON.parse(pass.stdout) as Pass).notChecked;
    expect(more).toEqual([]);
    expect(span).toMatchObject({
      accountSid: other,
      reason: 'number-away',
      phoneNumber: A,
      customerId: 'acme',
      subaccountSid: acme,
    });
    expect(Date.parse(span!.start!)).toBeLessThanOrEqual(toR1.dateCreated.getTime());
    expect(Date.parse(span!.end!)).toBeGreaterThanOrEqual(toR1.dateCreated.getTime());
  }, 90_000);

  it('moved by hand into its own subaccount: apply adopts the move, and the send is a violation', async () => {
    const { applied, toR1 } = await movedByHandDuringApply(ws, db(), (s) => s.acme);
    expect(applied.code, applied.stderr).toBe(0);
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    const result = JSON.parse(pass.stdout) as Pass;
    expect(result.newViolations).toBe(1);
    const found = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(found.map((r) => [r['violating_message_sid'], r['recipient']])).toEqual([
      [toR1.sid, R1],
    ]);
  }, 90_000);
  it('a transfer Twilio refused with the number still in the parent: nothing named, exit 0', async () => {
    await ws.env.seed({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Beta' }],
      numbers: [{ phone_number: A }, { phone_number: C }],
      messages: [seededStop(R1, A, Date.now() - DAY)],
    });
    const { accounts, numbers } = await ws.env.state();
    const acme = accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const numberA = numbers.find((n) => n.phone_number === A)!.sid;
    const mapping = ws.dir.file('map.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nbeta,Beta,${C}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await makePlan(cli, { mapping, db: db(), out: ws.dir.file('p.json') });
    // Acme's subaccount is suspended as A's transfer leaves: Twilio refuses it (21472), and A
    // stays in the parent, where its STOP is kept. C moves into Beta's.
    const applied = await applyAsTransferArrives(ws, db(), ws.dir.file('p.json'), numberA, () =>
      ws.env.parent.api.v2010.accounts(acme).update({ status: 'suspended' }),
    );
    expect(applied.code, applied.stderr).toBe(3);
    expect(readJournal(db()).states['failed']).toBe(1);
    const state = await ws.env.state();
    expect(state.numbers.find((n) => n.phone_number === A)!.account_sid).toBe(ws.env.parentSid);
    await sleep(1_100);

    for (const pass of [1, 2]) {
      const reconciled = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
      expect(reconciled.code, `pass ${pass}: ${reconciled.stderr}`).toBe(0);
      expect((JSON.parse(reconciled.stdout) as Pass).notChecked).toEqual([]);
    }
    // Acme's active again, the plan made again moves A from the parent, where the failed
    // transfer was to take it from: no span was away from it.
    await ws.env.parent.api.v2010.accounts(acme).update({ status: 'active' });
    await makePlan(cli, { mapping, db: db(), out: ws.dir.file('p2.json') });
    const reapplied = await cli(['apply', ws.dir.file('p2.json'), '--db', db(), '--rate', '1000']);
    expect(reapplied.code, reapplied.stderr).toBe(0);
    const after = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as Pass).notChecked).toEqual([]);
  }, 90_000);
});
