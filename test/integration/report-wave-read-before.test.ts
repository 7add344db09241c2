/**
 * report.html of a second wave's run that moved a number into a subaccount a reconcile pass
 * read before the number came (the customer's first wave went there): no pass has read that
 * subaccount since the number moved. Its page must not say "Ready to sign off" nor "Nobody on a
 * suppression list has been texted since the move": a send from the number to someone on its
 * list is not judged yet, and the next pass finds it.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, useCliWorkspace } from '../support/migration.js';

const A = '+14155550771';
const C = '+14155550773';
const R1 = '+12065550171';
const R2 = '+12065550172';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

describe("report of a wave moved into a subaccount a pass read before the wave's numbers came", () => {
  const ws = useCliWorkspace({
    numbers: [
      { phone_number: A, sms_url: 'https://app.example/a' },
      { phone_number: C, sms_url: 'https://app.example/c' },
    ],
    messages: [
      { from: R1, to: A, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) },
      { from: R2, to: C, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) },
    ],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('w.db');

  it('is not ready to sign off while no pass has read the subaccount since the number moved', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const wave = async (n: number, row: string) => {
      writeFileSync(ws.dir.file(`m${n}.csv`), `customer_id,customer_name,phone_number\n${row}\n`);
      await planAndApply(cli, {
        mapping: ws.dir.file(`m${n}.csv`),
        db: db(),
        out: ws.dir.file(`p${n}.json`),
      });
    };
    await wave(1, `acme,Acme,${A}`);
    const first = await cli(['reconcile', '--db', db(), '--json']);
    expect(first.code, first.stderr).toBe(0);
    // The customer's second number, a wave later, into the subaccount the pass read.
    await wave(2, `acme,Acme,${C}`);

    const state = await ws.env.state();
    const acme = state.accounts.filter((a) => a.friendly_name === 'Acme');
    expect(acme).toHaveLength(1);
    const violating = await ownClient(ws.env, acme[0]!.sid).messages.create({
      to: R2,
      from: C,
      body: 'Sale!',
    });

    const report = await cli(['report', '--db', db(), '--run', '2']);
    expect(report.code, report.stderr).toBe(0);
    const page = readFileSync(ws.dir.file('reports/2/report.html'), 'utf8');
    expect(page).not.toContain('Nobody on a suppression list has been texted');
    expect(page).toContain('data-signoff="not-ready"');
    expect(report.stderr).toContain('since the move no reconcile pass has read');

    // What the page held back for: the next pass reads the subaccount and finds the send.
    const next = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(next.code, next.stderr).toBe(3);
    expect(readFileSync(ws.dir.file('reports/2/violations.csv'), 'utf8')).toContain(violating.sid);
  });
});
