/**
 * report.html of a second wave's run after a reconcile pass that ran between the waves, where no
 * pass has read the second wave's numbers since they moved: into a subaccount no pass has read
 * (a new customer's), or into one a pass read before they came (the same customer's first wave
 * went there, or a number the first wave moved into another customer's is moved on into it). Its page must not say "Ready to sign off" nor "Nobody on a suppression list has
 * been texted since the move": a send from the number to someone on its list is not judged yet,
 * and the next pass finds it.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, useCliWorkspaceEach } from '../support/migration.js';

const A = '+14155550761';
const C = '+14155550763';
const R1 = '+12065550161';
const R2 = '+12065550162';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

describe('report of a wave no reconcile pass has read since it moved', () => {
  const ws = useCliWorkspaceEach({
    numbers: [
      { phone_number: A, sms_url: 'https://app.example/a' },
      { phone_number: C, sms_url: 'https://app.example/c' },
    ],
    messages: [
      { from: R1, to: A, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) },
      { from: R2, to: C, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) },
    ],
  });
  const db = () => ws.dir.file('w.db');

  it.each([
    [
      'a subaccount no pass has read (a new customer)',
      `acme,Acme,${A}`,
      `cobalt,Cobalt,${C}`,
      'Cobalt',
      [C, R2],
    ],
    [
      'a subaccount a pass read before the number came (the same customer)',
      `acme,Acme,${A}`,
      `acme,Acme,${C}`,
      'Acme',
      [C, R2],
    ],
    [
      "a subaccount a pass read before the number came, moved on from another customer's (a number moved twice)",
      `acme,Acme,${A}\nbeta,Beta,${C}`,
      `beta,Beta,${A}\nbeta,Beta,${C}`,
      'Beta',
      [A, R1],
    ],
  ])('is not ready to sign off: into %s', async (_, firstWave, row, subaccountName, [from, to]) => {
    const { cli } = ws;
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const wave = async (n: number, mapping: string) => {
      writeFileSync(
        ws.dir.file(`m${n}.csv`),
        `customer_id,customer_name,phone_number\n${mapping}\n`,
      );
      await planAndApply(cli, {
        mapping: ws.dir.file(`m${n}.csv`),
        db: db(),
        out: ws.dir.file(`p${n}.json`),
      });
    };
    await wave(1, firstWave);
    const first = await cli(['reconcile', '--db', db(), '--json']);
    expect(first.code, first.stderr).toBe(0);
    await wave(2, row);

    const state = await ws.env.state();
    const named = state.accounts.filter((a) => a.friendly_name === subaccountName);
    expect(named).toHaveLength(1);
    const violating = await ownClient(ws.env, named[0]!.sid).messages.create({
      to: to!,
      from: from!,
      body: 'Sale!',
    });

    const report = await cli(['report', '--db', db(), '--run', '2']);
    expect(report.code, report.stderr).toBe(0);
    const page = readFileSync(ws.dir.file('reports/2/report.html'), 'utf8');
    expect(page).not.toContain('Nobody on a suppression list has been texted');
    expect(page).toContain('data-signoff="not-ready"');
    expect(report.stderr).toContain('span(s) since the move no reconcile pass has read');

    // What the page held back for: the next pass reads the subaccount and finds the send.
    const next = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(next.code, next.stderr).toBe(3);
    expect(readFileSync(ws.dir.file('reports/2/violations.csv'), 'utf8')).toContain(violating.sid);
  });
});
