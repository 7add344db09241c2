/**
 * A customer marked because a pass held its sends to a suppression list that was not whole,
 * whose subaccount a later plan changed (pinned to another: its numbers moved there): no pass
 * reads the subaccount it left for it again, so the span its numbers were there since the mark
 * is never checked over the whole list, and must be kept as such when the mark is let go, as
 * for numbers a later wave moved on to another customer. Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { movedNumbers } from '../../src/db/reconcile.js';
import { failsOnViolation } from '../../src/reconcile/result.js';
import {
  migrateOneCustomer,
  planAndApply,
  seededStop,
  useCliWorkspaceEach,
} from '../support/migration.js';
import { reconcileAt } from '../support/reconcile-pass.js';
import { fixedClock, pollUntil, readOnly, snapshotInto } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const A = '+14155550841';
const R1 = '+12025550841';
const R2 = '+12025550842';

describe('a mark on a customer whose subaccount changed', () => {
  let now = NOW;
  const ws = useCliWorkspaceEach(
    {
      numbers: [{ phone_number: A }],
      messages: [seededStop(R1, A, NOW - 20 * DAY)],
    },
    { now: () => now },
  );
  const { cli } = ws;
  const db = () => ws.dir.file('m.db');

  beforeEach(() => {
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
  });
  // The next test's emulator starts on the clock at NOW again.
  afterEach(() => {
    now = NOW;
  });

  const migrate = () =>
    migrateOneCustomer(cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('p.plan.json'),
    });

  const pass = (at: number, since: number | null = null) => {
    now = at;
    return reconcileAt(ws.env, db(), at, since);
  };

  /** The mark a pass over a list that was not whole leaves: acme, from its move. */
  const markAcme = () => {
    const since = readOnly(db(), (d) => movedNumbers(d)[0]!.moveBegan);
    const d = new Database(db());
    try {
      d.prepare('INSERT INTO reconcile_judged_not_whole (customer_id, since) VALUES (?, ?)').run(
        'acme',
        since,
      );
    } finally {
      d.close();
    }
    return since;
  };
  const marks = () =>
    readOnly(db(), (d) => d.prepare('SELECT customer_id FROM reconcile_judged_not_whole').all());

  const page = async () => {
    const written = await cli(['report', '--db', db(), '--run', '1']);
    expect(written.code, written.stderr).toBe(0);
    return readFileSync(ws.dir.file('reports/1/report.html'), 'utf8');
  };
  const expectNeverChecked = (html: string) => {
    expect(/data-signoff="([a-z-]+)"/.exec(html)?.[1]).toBe('not-ready');
    expect(html).toContain('can never be checked again');
    expect(html).not.toContain('have not been checked again since');
    expect(html).not.toContain('Nobody on a suppression list has been texted');
  };

  it('keeps the stay in the subaccount it left as never checked over the whole list', async () => {
    // Real times: the applies' journal keeps this machine's clock.
    const sub = await migrate();
    now = Date.now();
    await ws.env.seed({
      messages: [
        {
          from: A,
          to: R2,
          body: 'Sale!',
          direction: 'outbound-api',
          date_sent: new Date(now).toISOString(),
          account_sid: sub,
        },
      ],
    });
    const first = await pass(Date.now() + 1_000);
    expect(first.sendsChecked).toBe(1);
    const since = markAcme();
    await pollUntil('the clock to pass the first pass', () =>
      Date.now() >= Date.parse(first.windows[0]!.end) + 1_000 ? true : undefined,
    );

    // A later plan pins acme to another subaccount: A moves there.
    now = Date.now();
    const other = (await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Acme 2' })).sid;
    writeFileSync(
      ws.dir.file('m2.csv'),
      `customer_id,customer_name,phone_number,subaccount_sid\nacme,Acme,${A},${other}\n`,
    );
    await snapshotInto(db(), ws.env.port(), fixedClock(now), { accounts: [sub], useExport: false });
    await planAndApply(cli, {
      mapping: ws.dir.file('m2.csv'),
      db: db(),
      out: ws.dir.file('p2.plan.json'),
    });
    expect(readOnly(db(), (d) => movedNumbers(d).map((m) => m.subaccountSid))).toEqual([other]);

    const late = await pass(Date.now() + 1_000);
    expect(marks()).toEqual([]);
    // What A sent in acme's first subaccount after the mark was held only to the list that was
    // not whole, and no pass reads it there again.
    expect(
      late.notChecked.filter((s) => s.reason === 'not-whole-numbers-left' && s.accountSid === sub),
    ).toEqual([expect.objectContaining({ customerId: 'acme', start: since })]);
    expect(failsOnViolation(late, 0)).toBe(true);
    expectNeverChecked(await page());
  });
});
