/**
 * A send judged pending (a `--since` pass skipped the span before it, where a START could have
 * lifted it) that no pass will ever read again is judged with what is known — a violation
 * (the fail-safe reading), listed and counted — rather than dropped from every list:
 * - when its span, and the send itself, fall out of the subaccount's Messages API window first
 *   (found by test/integration/reconcile-random.test.ts, seed 2002);
 * - when a later wave moves its number on to another customer's subaccount.
 * Until it is judged, report.html is not ready to sign off and does not say nobody was texted.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { withDb } from '../../src/db/open.js';
import { listViolations } from '../../src/db/reconcile.js';
import { failsOnViolation } from '../../src/reconcile/result.js';
import {
  migrateOneCustomer,
  planAndApply,
  seededStop,
  useCliWorkspaceEach,
} from '../support/migration.js';
import { reconcileAt } from '../support/reconcile-pass.js';
import { fixedClock, MIGRATIONS_DIR, snapshotInto } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const A = '+14155550811';
const R1 = '+12025550811';
const R2 = '+12025550812';
/** Acme's brand's RCS agent: no phone number, sending for A (docs/opt-out-rules.md, Channels). */
const AGENT = 'rcs:acme_agent';

describe('reconcile judges a pending send no pass will read again', () => {
  let now = NOW;
  // Each test moves A into a subaccount of its own: a fresh emulator and folder each.
  const ws = useCliWorkspaceEach(
    {
      numbers: [{ phone_number: A }],
      messages: [seededStop(R1, A, NOW - 20 * DAY), seededStop(R2, A, NOW - 20 * DAY)],
    },
    { now: () => now },
  );
  const { cli } = ws;
  const db = () => ws.dir.file('p.db');

  beforeEach(() => {
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
  });
  // The next test's emulator starts on the clock at NOW again.
  afterEach(() => {
    now = NOW;
  });

  /** Acme's numbers moved (snapshot, plan, apply): its subaccount. */
  const migrate = () =>
    migrateOneCustomer(cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('p.plan.json'),
    });

  /** A reconcile pass at `at`, from `since` (null: every span not yet read). */
  const pass = (at: number, since: number | null) => {
    now = at;
    return reconcileAt(ws.env, db(), at, since);
  };

  const listed = (at: number) =>
    withDb({ path: db(), migrationsDir: MIGRATIONS_DIR, clock: fixedClock(at) }, (d) =>
      listViolations(d),
    );

  /** Acme's subaccount texts `to` from A (or `from`) three hours after the move. */
  const sale = (sub: string, to: string, from = A) => ({
    from,
    to,
    body: 'Sale!',
    direction: 'outbound-api' as const,
    date_sent: new Date(NOW + 3 * HOUR).toISOString(),
    account_sid: sub,
  });

  it('lists it once no pass can read the span before it', async () => {
    const sub = await migrate();
    await ws.env.control('POST', '/__emulator/settings', {
      account_sid: sub,
      message_retention_days: 7,
    });
    // The subaccount texts R1 and R2, who said STOP to A before it moved; R2 said START to A
    // in the hour a --since pass skips.
    const seeded = await ws.env.seed({
      messages: [
        {
          from: R2,
          to: A,
          body: 'START',
          direction: 'inbound',
          date_sent: new Date(NOW + 1.5 * HOUR).toISOString(),
          account_sid: sub,
        },
        sale(sub, R1),
        sale(sub, R2),
      ],
    });
    const toR1 = seeded.messages[1]!.sid;
    // A snapshot of the subaccount records its 7 days (and reads R2's START into the ledger).
    now = NOW + 2 * HOUR;
    await snapshotInto(db(), ws.env.port(), fixedClock(now), {
      accounts: [sub],
      useExport: false,
      retentionDays: 7,
    });
    // The --since pass skips the first two hours after the move: the send to R1 is pending
    // (a START in the span it skipped could lift it); R2's is lifted by the START the ledger
    // holds.
    const skipped = await pass(NOW + 4 * HOUR, NOW + 2 * HOUR);
    expect(skipped).toMatchObject({ newViolations: 0, pending: 1 });
    expect(skipped.unread).toHaveLength(1);

    // Nine days on, the span it skipped and the sends after it are older than the 7 days the
    // subaccount's Messages API keeps: no pass will read them again. The send to R1 is judged
    // now with what is known: a violation; the send to R2 is not, for R2's START before it
    // is in the ledger (the snapshot read it).
    const late = await pass(NOW + 9 * DAY, null);
    expect(late.notChecked).toHaveLength(2);
    expect(late.unread).toEqual([]);
    expect(late.newViolations).toBe(1);
    expect(failsOnViolation(late, 1)).toBe(true);
    expect((await listed(NOW + 9 * DAY)).map((v) => [v.violatingMessageSid, v.recipient])).toEqual([
      [toR1, R1],
    ]);
    // Judged once: a later pass finds nothing new.
    const later = await pass(NOW + 10 * DAY, null);
    expect(later.newViolations).toBe(0);
  });

  it('counts it as pending at every pass until one judges it', async () => {
    const sub = await migrate();
    // The subaccount texts R1, who said STOP to A before it moved.
    const seeded = await ws.env.seed({ messages: [sale(sub, R1)] });
    // The --since pass skips the first two hours after the move: the send to R1 is pending.
    const skipped = await pass(NOW + 4 * HOUR, NOW + 2 * HOUR);
    expect(skipped).toMatchObject({ newViolations: 0, pending: 1 });
    // Another --since pass, from after the send: it does not read the send, which still waits
    // for the span before it to be read. It is pending still, kept from the earlier pass.
    const again = await pass(NOW + 5 * HOUR, NOW + 4 * HOUR);
    expect(again.pending).toBe(1);
    expect(again).toMatchObject({ newViolations: 0, pendingFromEarlierPasses: 1 });
    expect(skipped.pendingFromEarlierPasses).toBe(0);
    expect(again.unread).toHaveLength(1);
    expect(failsOnViolation(again, 0)).toBe(true);
    // A pass without --since reads the span and judges the send: nothing pending.
    const judged = await pass(NOW + 6 * HOUR, null);
    expect(judged).toMatchObject({ newViolations: 1, pending: 0, pendingFromEarlierPasses: 0 });
    expect((await listed(NOW + 6 * HOUR)).map((v) => v.violatingMessageSid)).toEqual([
      seeded.messages[0]!.sid,
    ]);
  });

  it('holds report.html back while it is pending, and says nobody texted only once judged', async () => {
    const sub = await migrate();
    await ws.env.seed({ messages: [sale(sub, R1)] });
    const skipped = await pass(NOW + 4 * HOUR, NOW + 2 * HOUR);
    expect(skipped).toMatchObject({ newViolations: 0, pending: 1 });
    const page = async () => {
      const written = await cli(['report', '--db', db(), '--run', '1']);
      expect(written.code, written.stderr).toBe(0);
      return readFileSync(ws.dir.file('reports/1/report.html'), 'utf8');
    };

    // The span the pass skipped leaves acme's list not whole; the page says to run a snapshot,
    // which reads it. Only a pass holds the send to the list: it is pending still.
    now = NOW + 5 * HOUR;
    await snapshotInto(db(), ws.env.port(), fixedClock(now), { accounts: [sub], useExport: false });
    const pending = await page();
    expect(pending).toContain('data-signoff="not-ready"');
    expect(pending).toContain(
      '1 message(s) sent after the move to people on a list are not judged yet',
    );
    expect(pending).not.toContain('Nobody on a suppression list has been texted since the move');

    // A pass without --since judges it: a violation, which holds the page back in its own words.
    await pass(NOW + 6 * HOUR, null);
    const judged = await page();
    expect(judged).not.toContain('not judged yet');
    expect(judged).toContain('1 message(s) were sent after the move to people who had opted out');
  });

  it('lists it once its number has moved on', async () => {
    const sub = await migrate();
    // The subaccount texts R1, who said STOP to A before it moved.
    const seeded = await ws.env.seed({ messages: [sale(sub, R1)] });
    const toR1 = seeded.messages[0]!.sid;
    // The --since pass skips the first two hours after the move: the send to R1 is pending.
    const skipped = await pass(NOW + 4 * HOUR, NOW + 2 * HOUR);
    expect(skipped).toMatchObject({ newViolations: 0, pending: 1 });

    // A later wave moves A on, to Beta's subaccount.
    now = NOW + 5 * HOUR;
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

    // No pass reads Acme's subaccount again, nor the span the --since pass skipped there: the
    // send to R1 is judged now, with what is known.
    const late = await pass(NOW + 6 * HOUR, null);
    expect(late.newViolations).toBe(1);
    expect(
      (await listed(NOW + 6 * HOUR)).map((v) => [v.violatingMessageSid, v.recipient, v.customerId]),
    ).toEqual([[toR1, R1, 'acme']]);
    // Judged once: a later pass finds nothing new.
    const later = await pass(NOW + 7 * HOUR, null);
    expect(later.newViolations).toBe(0);
  });

  it('judges a send from an RCS agent as pending, then lists it once A has moved on', async () => {
    const sub = await migrate();
    // Acme's RCS agent texts R1, who said STOP to A before it moved.
    const seeded = await ws.env.seed({ messages: [sale(sub, `rcs:${R1}`, AGENT)] });
    const toR1 = seeded.messages[0]!.sid;
    const skipped = await pass(NOW + 4 * HOUR, NOW + 2 * HOUR);
    expect(skipped).toMatchObject({ newViolations: 0, pending: 1 });
    expect(failsOnViolation(skipped, 0)).toBe(true);

    now = NOW + 5 * HOUR;
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

    const late = await pass(NOW + 6 * HOUR, null);
    expect(late).toMatchObject({ newViolations: 1, pending: 0 });
    expect(
      (await listed(NOW + 6 * HOUR)).map((v) => [
        v.violatingMessageSid,
        v.recipient,
        v.senderNumber,
        v.customerId,
      ]),
    ).toEqual([[toR1, R1, AGENT, 'acme']]);
  });
});
