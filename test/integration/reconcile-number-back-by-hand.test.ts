/**
 * A number apply moved into its customer's subaccount, then moved back by hand into the parent
 * (no step of apply's), which sends from there to someone who said STOP to it in the
 * subaccount: the parent no longer knows that STOP. A pass reads the number's sends only in
 * the subaccount, so it must name the parent's span as not checked (exit 3 with
 * --fail-on-violation, report.html not ready), before a new plan, after it, and after that plan
 * is applied (built CLI, real SDK, emulator over HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';

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

  /** A pass that names A's span in the parent as not checked, exits 3, and leaves the page not ready. */
  async function namesTheParentSpan(parent: string, acme: string) {
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    const result = JSON.parse(pass.stdout) as { notChecked: Record<string, string>[] };
    expect(result.notChecked).toEqual([
      expect.objectContaining({
        accountSid: parent,
        reason: 'number-away',
        phoneNumber: A,
        customerId: 'acme',
        subaccountSid: acme,
      }),
    ]);
    expect(pass.stderr).toContain(
      `while moved number ${A} of acme was there, out of its subaccount ${acme} with no step of apply's (moved by hand): no pass reads its sends there`,
    );
    const report = await cli(['report', '--db', db()]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toContain(parent);
    // Not sent round to reconcile, which cannot read it: the customer checks those messages.
    expect(report.stderr).toContain(
      `span(s) while a number of the mapping was where no step of apply's put it, moved there by hand (${A} in ${parent} `,
    );
    expect(report.stderr).not.toContain('no reconcile pass has read');
    // As a browser shows it: the page's text wraps where its source does.
    const page = readFileSync(ws.dir.file('reports/1/report.html'), 'utf8').replace(/\s+/g, ' ');
    expect(page).toContain('data-signoff="not-ready"');
    expect(page).toContain('no reconcile pass reads its messages there, and none will');
    expect(page).not.toContain('Ready to sign off');
    expect(page).not.toContain('Nobody on a suppression list has been texted');
  }

  it('names the span it sent from the parent, with no new plan', async () => {
    const { parent, acme } = await movedBackAndSent();
    await namesTheParentSpan(parent, acme);
  }, 60_000);

  it('plans to move it again, and names the span before and after that plan is applied', async () => {
    const { parent, acme } = await movedBackAndSent();
    const planned = await cli([
      'plan',
      '--mapping',
      ws.dir.file('map.csv'),
      '--db',
      db(),
      '--out',
      ws.dir.file('p2.json'),
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(new RegExp(`~ number +\\${A} +AC\\w{2}…\\(parent\\) -> acme`));
    expect(planned.stdout).toContain(
      'acme: 2 opted-out recipient(s) on its numbers, whom the subaccount will not know',
    );
    await namesTheParentSpan(parent, acme);
    const applied = await cli(['apply', ws.dir.file('p2.json'), '--db', db(), '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    const [back] = await ownClient(ws.env, acme).incomingPhoneNumbers.list({ phoneNumber: A });
    expect(back?.phoneNumber).toBe(A);
    // Moved back into Acme's subaccount: the parent's span is still one no pass read.
    await namesTheParentSpan(parent, acme);
  }, 90_000);

  it('names the span from the journal when no pass ran while it was in the parent', async () => {
    const { parent, acme } = await movedBackAndSent();
    await planAndApply(cli, {
      mapping: ws.dir.file('map.csv'),
      db: db(),
      out: ws.dir.file('p2.json'),
    });
    await namesTheParentSpan(parent, acme);
  }, 90_000);

  it('moved back by hand into its subaccount after a pass found it away, names the span up to the first pass that no longer found it', async () => {
    const { parent, acme } = await movedBackAndSent();
    await namesTheParentSpan(parent, acme);
    // After that pass, the parent texts R2 from A again, then A goes back by hand into Acme's.
    await sleep(1_100);
    const again = await ws.env.parent.messages.create({ to: R2, from: A, body: 'Last call!' });
    expect(again.status).not.toBe('failed');
    await sleep(1_100);
    const [number] = await ownClient(ws.env, parent).incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.api.v2010
      .accounts(parent)
      .incomingPhoneNumbers(number!.sid)
      .update({ accountSid: acme });
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    const { notChecked } = JSON.parse(pass.stdout) as { notChecked: Record<string, string>[] };
    const away = notChecked.filter((s) => s.reason === 'number-away');
    expect(away).toHaveLength(1);
    // The second send from the parent is inside the span named, not after it.
    expect(Date.parse(away[0]!.end!)).toBeGreaterThanOrEqual(
      Math.floor(again.dateCreated.getTime() / 1000) * 1000,
    );
  }, 90_000);

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
