/**
 * A customer marked because a pass held its sends to a suppression list that was not whole
 * (migration 022) is let go once a pass, the list whole, has read its sends again from the
 * mark. Two marks no pass can read all of again:
 * - one older than the subaccount's Messages API window by then: the pass reads what the API
 *   still shows; the part before it stays, for good, a span never checked over the whole list;
 * - one whose customer's numbers a later wave has all moved on to another customer: no pass
 *   reads that subaccount for them again, so the span they were there is kept so too (before,
 *   the mark stayed for ever, no pass said a word of it, and report.html told the engineer to
 *   run the reconcile that could never clear it).
 * Every later pass says so (`not checked again:`), `--fail-on-violation` fails, and report.html
 * is not ready and says these messages can never be checked again. Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { isoSeconds } from '../../src/clock.js';
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
const A = '+14155550821';
const R1 = '+12025550821';
const R2 = '+12025550822';

describe('a mark no pass can read all of again', () => {
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

  /** acme's send from A to R2 (on no list), made in its subaccount `sub` at `at`. */
  const sendSale = (sub: string, at: number) =>
    ws.env.seed({
      messages: [
        {
          from: A,
          to: R2,
          body: 'Sale!',
          direction: 'outbound-api',
          date_sent: new Date(at).toISOString(),
          account_sid: sub,
        },
      ],
    });

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

  it('keeps what is older than the Messages API window as never checked over the whole list', async () => {
    const sub = await migrate();
    await ws.env.control('POST', '/__emulator/settings', {
      account_sid: sub,
      message_retention_days: 30,
    });
    await snapshotInto(db(), ws.env.port(), fixedClock(NOW), {
      accounts: [sub],
      useExport: false,
      retentionDays: 30,
    });
    await sendSale(sub, NOW + 5 * DAY);
    // Passes every 20 days read the subaccount without a gap; the one at day 20 held acme's
    // sends to a list that was not whole.
    await pass(NOW + 1 * DAY);
    await pass(NOW + 20 * DAY);
    const since = markAcme();

    // Day 40, the list whole: the pass reads acme's sends again as far back as the API shows
    // (day 10). Those from the move to day 10 were never held to the whole list, and no pass
    // can read them again.
    const lost = {
      accountSid: sub,
      start: since,
      end: isoSeconds(new Date(NOW + 10 * DAY)),
      reason: 'not-whole-retention',
      customerId: 'acme',
    };
    const late = await pass(NOW + 40 * DAY);
    expect(late.windows.map((w) => w.start)).toEqual([isoSeconds(new Date(NOW + 10 * DAY))]);
    expect(late.notJudgedAgain).toBeNull();
    expect(late.notChecked).toEqual([lost]);
    expect(failsOnViolation(late, 0)).toBe(true);
    expect(marks()).toEqual([]);

    // For good: the next pass reads on from the last one, and says it again.
    const next = await pass(NOW + 41 * DAY);
    expect(next.windows[0]!.start > isoSeconds(new Date(NOW + 39 * DAY))).toBe(true);
    expect(next.notChecked).toEqual([lost]);
    expect(failsOnViolation(next, 0)).toBe(true);
    expectNeverChecked(await page());
  });

  it('keeps the stay of numbers moved on to another customer as never checked over the whole list', async () => {
    // Real times: the applies' journal keeps this machine's clock.
    const sub = await migrate();
    now = Date.now();
    await sendSale(sub, now);
    const first = await pass(Date.now() + 1_000);
    expect(first.sendsChecked).toBe(1);
    const since = markAcme();
    // The first pass read to a second ahead of the clock: the move must come after that second,
    // or no second lies between the two for a pass to have missed.
    await pollUntil('the clock to pass the first pass', () =>
      Date.now() >= Date.parse(first.windows[0]!.end) + 1_000 ? true : undefined,
    );

    // A later wave moves A on, to Beta's subaccount: acme has no number left.
    now = Date.now();
    writeFileSync(
      ws.dir.file('m2.csv'),
      `customer_id,customer_name,phone_number\nbeta,Beta,${A}\n`,
    );
    await snapshotInto(db(), ws.env.port(), fixedClock(now), { accounts: [sub], useExport: false });
    await planAndApply(cli, {
      mapping: ws.dir.file('m2.csv'),
      db: db(),
      out: ws.dir.file('p2.plan.json'),
    });
    const left = readOnly(
      db(),
      (d) =>
        (
          d
            .prepare(
              `SELECT finished_at AS at FROM apply_steps
               WHERE action = 'transfer_number' AND run_id = 2`,
            )
            .get() as { at: string }
        ).at,
    );

    // Said beside the seconds between the first pass and the move that no pass read at all.
    const late = await pass(Date.now() + 1_000);
    expect(late.notChecked).toEqual([
      {
        accountSid: sub,
        start: first.windows[0]!.end,
        end: left,
        reason: 'numbers-left',
        leftBy: 'apply',
      },
      {
        accountSid: sub,
        start: since,
        end: left,
        reason: 'not-whole-numbers-left',
        customerId: 'acme',
      },
    ]);
    expect(failsOnViolation(late, 0)).toBe(true);
    expect(marks()).toEqual([]);
    expectNeverChecked(await page());
  });
});
