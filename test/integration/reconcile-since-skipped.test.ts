/**
 * reconcile --since that skips a span no pass read: a START said in that span lifts the
 * suppression of a send after it, though the --since pass did not read the START. The send is
 * judged when the next pass reads the span, and is no violation then; found once, it would
 * stay found, and `--fail-on-violation` would fail every pass after.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, useCliWorkspace } from '../support/migration.js';

const A = '+14155550701';
const R1 = '+12065550171';
const R2 = '+12065550172';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile --since after a START it skipped', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
    messages: [
      { from: R1, to: A, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) },
      { from: R2, to: A, body: 'STOP', direction: 'inbound', date_sent: daysAgo(20) },
    ],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it('judges the send once the skipped span is read: the START lifts it', async () => {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    await planAndApply(cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('p.json'),
    });
    const state = await ws.env.state();
    const sid = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const acme = ownClient(ws.env, sid);

    // R1 opts back in; the --since pass starts after that second and sees only the sends.
    await ws.env.control('POST', '/__emulator/inbound', { from: R1, to: A, body: 'START' });
    await sleep(1_100);
    const since = new Date().toISOString();
    await sleep(1_100);
    await acme.messages.create({ to: R1, from: A, body: 'Welcome back' });
    const violating = await acme.messages.create({ to: R2, from: A, body: 'Sale!' });

    // Both sends follow a span no pass read: neither is judged yet, and the pass says so; an
    // alerting job is not told "no violation" meanwhile.
    const skipped = await cli([
      'reconcile',
      '--db',
      db(),
      '--since',
      since,
      '--fail-on-violation',
      '--json',
    ]);
    expect(skipped.code, skipped.stderr).toBe(3);
    expect(JSON.parse(skipped.stdout)).toMatchObject({
      newViolations: 0,
      violations: 0,
      pending: 2,
    });
    expect(skipped.stderr).toContain('pending: 2 send(s) to a listed recipient');

    // A second --since pass, past those sends, does not read them, nor the span the first one
    // skipped (still unread, as is the one between the two passes): both sends still wait for
    // judgment, and the pass counts them as pending, kept from the first.
    await sleep(1_100);
    const later = await cli([
      'reconcile',
      '--db',
      db(),
      '--since',
      new Date().toISOString(),
      '--fail-on-violation',
      '--json',
    ]);
    expect(later.code, later.stderr).toBe(3);
    const laterJson = JSON.parse(later.stdout) as {
      pending: number;
      pendingFromEarlierPasses: number;
      unread: unknown[];
    };
    expect(laterJson.pending).toBe(2);
    expect(laterJson.pendingFromEarlierPasses).toBe(2);
    expect(later.stderr).toContain(
      'pending: 2 send(s) to a listed recipient after a span no pass read yet (--since skipped it), 2 of them kept from earlier passes',
    );
    expect(laterJson.unread).toHaveLength(2);
    expect(later.stderr).toMatch(/^not read yet: AC[0-9a-f]{32} from .* \(--since skipped it\)/m);

    // The next pass reads the span with the START: only the send to R2 breaks an opt-out.
    const next = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(next.code, next.stderr).toBe(3);
    expect(JSON.parse(next.stdout)).toMatchObject({
      newViolations: 1,
      violations: 1,
      pending: 0,
      pendingFromEarlierPasses: 0,
      unread: [],
    });
    expect(
      readCsv(ws.dir.file('reports/1/violations.csv')).map((r) => r['violating_message_sid']),
    ).toEqual([violating.sid]);
  });
});
