/**
 * An apply whose transfer of a number failed because someone moved it by hand, as the transfer
 * arrived, into another customer's subaccount, one the passes read (its own numbers moved
 * there). The number sends from there with the STOPs said to it in the parent forgotten.
 * Reconcile named it not checked (`number-away`) and judged none of its sends there: a send to
 * someone who had said STOP to it was never named a violation. Its sends there are now held to
 * its list, as a moved number's moved on by hand into such a subaccount are (built CLI, real
 * SDK, emulator over HTTP through a proxy, SQLite file).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { inbound, moveNumberByHand, ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, readJournal, useCliWorkspaceEach } from '../support/migration.js';
import { A, C, movedByHandDuringApply, R1 } from '../support/transfer-failed.js';

const R2 = '+12065550802';

interface Pass {
  notChecked: Record<string, string>[];
  newViolations: number;
  sendsChecked: number;
}

describe('reconcile after a transfer that failed, the number moved by hand into a read subaccount', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  it('names its send from there to someone who said STOP to it in the parent, and not its other send', async () => {
    const { applied, other, toR1 } = await movedByHandDuringApply(ws, db(), (s) => s.other, true);
    expect(applied.code, applied.stderr).toBe(3);
    expect(readJournal(db()).states['failed']).toBe(1);
    const toR2 = await ownClient(ws.env, other).messages.create({ to: R2, from: A, body: 'Hi' });
    expect(toR2.status).not.toBe('failed');

    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    const result = JSON.parse(pass.stdout) as Pass;
    expect(result.newViolations).toBe(1);
    // Read there from before the run began, its list whole: judged, not named not checked.
    expect(result.notChecked).toEqual([]);
    const found = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(found.map((r) => [r['violating_message_sid'], r['recipient']])).toEqual([
      [toR1.sid, R1],
    ]);
    const again = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(again.code, again.stderr).toBe(3);
    expect((JSON.parse(again.stdout) as Pass).newViolations).toBe(0);
    expect((JSON.parse(again.stdout) as Pass).notChecked).toEqual([]);
    // The run's reports, written again from the database, name it too.
    const report = await cli(['report', '--db', db(), '--out', ws.dir.file('again')]);
    expect(report.code, report.stderr).toBe(0);
    expect(
      readCsv(join(ws.dir.path, 'again', 'violations.csv')).map((r) => r['violating_message_sid']),
    ).toEqual([toR1.sid]);
    expect(readFileSync(join(ws.dir.path, 'again', 'report.html'), 'utf8')).toContain(toR1.sid);
  }, 90_000);

  it('sent there only to someone who never said STOP: judged clean, exit 0', async () => {
    const { applied } = await movedByHandDuringApply(ws, db(), (s) => s.other, true, R2);
    expect(applied.code, applied.stderr).toBe(3);
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(0);
    const result = JSON.parse(pass.stdout) as Pass;
    expect(result).toMatchObject({ newViolations: 0, notChecked: [] });
    // A's send, held to its list.
    expect(result.sendsChecked).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('a pass with --since after the send cannot vouch for it: named not checked, for good', async () => {
    const { applied, other, toR1 } = await movedByHandDuringApply(ws, db(), (s) => s.other, true);
    expect(applied.code, applied.stderr).toBe(3);
    const since = new Date(toR1.dateCreated.getTime() + 1_000).toISOString();
    const skipped = await cli(['reconcile', '--db', db(), '--since', since, '--json']);
    expect(skipped.code, skipped.stderr).toBe(0);
    const named = (JSON.parse(skipped.stdout) as Pass).notChecked.filter(
      (s) => s.reason === 'number-away',
    );
    expect(named).toEqual([
      expect.objectContaining({ accountSid: other, phoneNumber: A, customerId: 'acme' }),
    ]);
    // A pass without --since reads the send and names it; the span stays named.
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    const result = JSON.parse(pass.stdout) as Pass;
    expect(result.newViolations).toBe(1);
    expect(result.notChecked).toEqual([
      expect.objectContaining({ accountSid: other, reason: 'number-away', phoneNumber: A }),
    ]);
  }, 90_000);

  it('says of a number it names away in a read subaccount neither that apply moved it nor that its sends there went unjudged', async () => {
    const { applied, acme, parent, toR1 } = await movedByHandDuringApply(
      ws,
      db(),
      (s) => s.other,
      true,
    );
    expect(applied.code, applied.stderr).toBe(3);
    const since = new Date(toR1.dateCreated.getTime() + 1_000).toISOString();
    expect((await cli(['reconcile', '--db', db(), '--since', since])).code).toBe(0);
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation']);
    expect(pass.code, pass.stderr).toBe(3);
    // The same pass named the violation of its send from Other, held to its list.
    expect(pass.stdout + pass.stderr).toContain('1 new violation(s)');
    const line = pass.stderr.split('\n').find((l) => l.includes(A))!;
    expect(line).not.toContain('moved number');
    expect(line).not.toContain(`out of its subaccount ${acme}`);
    expect(line).not.toContain('held to no list');
    expect(line).toContain(
      `whose transfer out of the parent account ${parent} into its customer's subaccount ${acme} failed or was not run, was there, out of the parent account ${parent}, where it comes from`,
    );
    expect(line).toContain('its sends there are held to its list');
    const json = await cli(['reconcile', '--db', db(), '--json']);
    expect((JSON.parse(json.stdout) as Pass).notChecked).toEqual([
      expect.objectContaining({
        reason: 'number-away',
        subaccountSid: acme,
        transferFrom: { accountSid: parent, kind: 'parent' },
        sendsHeld: true,
      }),
    ]);
    // The run's reports, written again, say the same: not that no pass reads its sends there.
    const report = await cli(['report', '--db', db(), '--out', ws.dir.file('again')]);
    expect(report.code, report.stderr).toBe(0);
    const text = readFileSync(join(ws.dir.path, 'again', 'report.html'), 'utf8')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ');
    expect(text).toContain(
      '1 span(s) while a number whose transfer failed or was not run was in an account the reconcile passes read',
    );
    expect(text).toContain('its sends there are held to its suppression list');
    expect(text).not.toContain('no reconcile pass reads its messages there');
    expect(report.stdout + report.stderr).toContain('its sends there are held to its list');
    expect(report.stdout + report.stderr).not.toContain('no reconcile pass reads its messages');
  }, 90_000);

  it('says its sends in a subaccount passes read were held to its list only where a pass read them', async () => {
    // Other is no customer's: no pass reads it while A is there.
    const { applied, other } = await movedByHandDuringApply(ws, db(), (s) => s.other);
    expect(applied.code, applied.stderr).toBe(3);
    const first = await cli(['reconcile', '--db', db(), '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as Pass).notChecked).toEqual([
      expect.objectContaining({ accountSid: other, reason: 'number-away', phoneNumber: A }),
    ]);
    // A leaves Other by hand (into X); then a later wave moves customer other's C into Other,
    // which passes read from then on.
    const x = (await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'X' })).sid;
    await moveNumberByHand(ws.env, A, other, x);
    await ws.env.seed({ numbers: [{ phone_number: C }] });
    writeFileSync(
      ws.dir.file('m2.csv'),
      `customer_id,customer_name,phone_number,messaging_service,subaccount_sid\nother,Other,${C},,${other}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, {
      mapping: ws.dir.file('m2.csv'),
      db: db(),
      out: ws.dir.file('p2.json'),
    });
    const lineIn = (stderr: string) =>
      stderr.split('\n').find((l) => l.includes(A) && l.includes(`not checked: ${other}`))!;
    // A pass with --since after A was there reads none of its time there.
    const since = new Date(Date.now() - 1_000).toISOString();
    const skipped = await cli(['reconcile', '--db', db(), '--since', since]);
    expect(lineIn(skipped.stderr)).toContain(
      'no pass reads its sends there, which were held to no list',
    );
    expect(lineIn(skipped.stderr)).not.toContain('its sends there are held to its list');
    // A pass without it reads Other from before (C's customer's history) and holds them.
    const pass = await cli(['reconcile', '--db', db()]);
    expect(lineIn(pass.stderr)).toContain('its sends there are held to its list');
  }, 120_000);

  it('moved by hand through a subaccount no pass reads on its way there, where it texted R1: not vouched for', async () => {
    // X: a subaccount of the parent that no customer's mapping uses.
    const x = (await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'X' })).sid;
    let stopOver = '';
    const { applied, other } = await movedByHandDuringApply(
      ws,
      db(),
      (s) => s.other,
      true,
      R2,
      async (parent, into) => {
        await moveNumberByHand(ws.env, A, parent, x);
        const sent = await ownClient(ws.env, x).messages.create({ to: R1, from: A, body: 'Sale!' });
        expect(sent.status).not.toBe('failed');
        stopOver = sent.sid;
        await moveNumberByHand(ws.env, A, x, into);
      },
    );
    expect(applied.code, applied.stderr).toBe(3);
    expect(stopOver).not.toBe('');
    // Its listing in Other dates only the last move, within the clocks' allowance of the
    // refusal: only the family's messages show where it was before.
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    const result = JSON.parse(pass.stdout) as Pass;
    expect(result.notChecked).toEqual([
      expect.objectContaining({ accountSid: other, reason: 'number-away', phoneNumber: A }),
    ]);
    // Kept named: a later pass still cannot vouch for it.
    const again = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(again.code, again.stderr).toBe(3);
    expect((JSON.parse(again.stdout) as Pass).notChecked).toEqual([
      expect.objectContaining({ accountSid: other, reason: 'number-away', phoneNumber: A }),
    ]);
  }, 90_000);

  it("moved back into the parent within the clocks' allowance of the refusal, told STOP there, and on into Other again: not vouched for", async () => {
    const { applied, parent, other } = await movedByHandDuringApply(
      ws,
      db(),
      (s) => s.other,
      true,
      R2,
    );
    expect(applied.code, applied.stderr).toBe(3);
    // Seconds after Twilio refused the transfer (apply's read of the parent ended before):
    // A goes back into the parent, where R2 says STOP, and on into Other again, which never
    // heard it. Its listing in Other dates that last move, within the allowance of the refusal.
    await moveNumberByHand(ws.env, A, other, parent);
    const stop = await inbound(ws.env, { from: R2, to: A, body: 'STOP' });
    expect(stop.account_sid).toBe(parent);
    await moveNumberByHand(ws.env, A, parent, other);
    const toR2 = await ownClient(ws.env, other).messages.create({ to: R2, from: A, body: 'Hi' });
    expect(toR2.status).not.toBe('failed');
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    expect((JSON.parse(pass.stdout) as Pass).notChecked).toEqual([
      expect.objectContaining({ accountSid: other, reason: 'number-away', phoneNumber: A }),
    ]);
  }, 90_000);

  it('moved through such a subaccount and sent nothing there: the family read, judged, exit 0', async () => {
    const x = (await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'X' })).sid;
    const { applied } = await movedByHandDuringApply(
      ws,
      db(),
      (s) => s.other,
      true,
      R2,
      async (parent, into) => {
        await moveNumberByHand(ws.env, A, parent, x);
        await moveNumberByHand(ws.env, A, x, into);
      },
    );
    expect(applied.code, applied.stderr).toBe(3);
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(0);
    expect(JSON.parse(pass.stdout) as Pass).toMatchObject({ newViolations: 0, notChecked: [] });
  }, 90_000);
});
