/**
 * report.html after a reconcile pass whose --since skipped a span since the move: the lists are
 * whole (a snapshot read the subaccount), no violation is known and nothing is pending, but a
 * send in the skipped span was never judged. The page must not say "Ready to sign off" nor
 * "Nobody on a suppression list has been texted since the move", and `report` says so beside
 * the files: the next pass without --since finds the violation there.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, useCliWorkspace } from '../support/migration.js';

const A = '+14155550731';
const R = '+12065550173';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('report after a reconcile --since that skipped a span', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
    messages: [{ from: R, to: A, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) }],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it('is not ready to sign off, and never says nobody was texted', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    await planAndApply(cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    const state = await ws.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const violating = await ownClient(ws.env, sub).messages.create({
      to: R,
      from: A,
      body: 'Sale!',
    });
    await sleep(1_100);

    // The subaccount read to now: the lists stay whole whatever the pass skips.
    const read = await cli(['snapshot', '--db', db(), '--account', sub, '--json']);
    expect(read.code, read.stderr).toBe(0);
    const windows = (JSON.parse(read.stdout) as { windows: { windowEnd: string }[] }).windows;
    const since = windows.map((w) => w.windowEnd).sort()[0]!;

    const pass = await cli(['reconcile', '--db', db(), '--since', since, '--json']);
    expect(pass.code, pass.stderr).toBe(0);
    expect(JSON.parse(pass.stdout)).toMatchObject({
      violations: 0,
      pending: 0,
      notWhole: null,
      notJudgedAgain: null,
    });
    expect(pass.stderr).toMatch(/^not read yet: .*\(--since skipped it\)/m);

    const report = await cli(['report', '--db', db()]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toContain('span(s) since the move no reconcile pass has read');
    const page = readFileSync(ws.dir.file('reports/1/report.html'), 'utf8');
    expect(page).toContain('data-signoff="not-ready"');
    expect(page).not.toContain('Ready to sign off');
    expect(page).not.toContain('Nobody on a suppression list has been texted');
    expect(page).not.toContain('None: no message after the move went to anyone');
    expect(page).toContain('were never read by a reconcile pass');
    expect(page).toContain('after the move (not all judged yet)');

    // What the page held back for: the next pass reads the span and finds the send.
    const next = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(next.code, next.stderr).toBe(3);
    expect(JSON.parse(next.stdout)).toMatchObject({ newViolations: 1, unread: [] });
    expect(readFileSync(ws.dir.file('reports/1/violations.csv'), 'utf8')).toContain(violating.sid);
    const after = readFileSync(ws.dir.file('reports/1/report.html'), 'utf8');
    expect(after).not.toContain('were never read by a reconcile pass');
  });
});
