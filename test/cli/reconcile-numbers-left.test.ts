/**
 * A later wave moves a customer's number on, out of the subaccount the first wave put it in,
 * before any reconcile pass read that subaccount: a pass holds a number's sends to its list
 * only where it is now, so its sends there while it was there (one to a recipient on the
 * number's list) are never held to the list — whether no number is left in that subaccount
 * (no pass reads it again) or another still is (a pass reads it, and skips them). Each pass
 * names that span `not checked` and `--fail-on-violation` exits 3, as for a span older than
 * the Messages API window, rather than report "0 violations" over it.
 */

import { writeFileSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import {
  migrateOneCustomer,
  planAndApply,
  seededStop,
  useCliWorkspace,
} from '../support/migration.js';
import { cliEnv, fixedClock, runCli, snapshotInto, tempDir } from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const A = '+14155550831';
const R1 = '+12025550831';
const B = '+14155550832';
const D = '+14155550833';
const R2 = '+12025550832';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Pass {
  newViolations: number;
  violations: number;
  notChecked: { accountSid: string; start: string; end: string; reason: string }[];
}

describe('reconcile names the unread span of a subaccount its numbers have left', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A }, { phone_number: B }, { phone_number: D }],
    messages: [seededStop(R1, A, Date.now() - 20 * DAY), seededStop(R2, B, Date.now() - 20 * DAY)],
  });
  const { cli } = ws;
  const db = () => ws.dir.file('l.db');

  beforeAll(async () => {
    writeFileSync(
      ws.dir.file('m1.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`,
    );
    writeFileSync(
      ws.dir.file('m2.csv'),
      `customer_id,customer_name,phone_number\nbeta,Beta,${A}\n`,
    );
    writeFileSync(
      ws.dir.file('m3.csv'),
      `customer_id,customer_name,phone_number\ncobalt,Cobalt,${B}\ncobalt,Cobalt,${D}\n`,
    );
    writeFileSync(
      ws.dir.file('m4.csv'),
      `customer_id,customer_name,phone_number\ndelta,Delta,${B}\n`,
    );
  });

  it('says not checked, pass after pass, and --fail-on-violation exits 3', async () => {
    const acme = await migrateOneCustomer(cli, {
      mapping: ws.dir.file('m1.csv'),
      db: db(),
      out: ws.dir.file('p1.plan.json'),
    });
    // Acme's subaccount texts R1, who said STOP to A before it moved: a violation.
    await sleep(1_100);
    const sentAt = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    await ws.env.seed({
      messages: [
        {
          from: A,
          to: R1,
          body: 'Sale!',
          direction: 'outbound-api',
          date_sent: sentAt,
          account_sid: acme,
        },
      ],
    });
    // A second wave moves A on to Beta's subaccount before any reconcile pass.
    await sleep(1_100);
    await snapshotInto(db(), ws.env.port(), fixedClock(Date.now()), {
      accounts: [acme],
      useExport: false,
    });
    await planAndApply(cli, {
      mapping: ws.dir.file('m2.csv'),
      db: db(),
      out: ws.dir.file('p2.plan.json'),
    });

    for (const n of [1, 2]) {
      const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
      expect(pass.code, `pass ${n}: ${pass.stderr}`).toBe(3);
      const json = JSON.parse(pass.stdout) as Pass;
      expect(json.violations).toBe(0);
      const spans = json.notChecked.filter((s) => s.accountSid === acme);
      expect(spans, `pass ${n}`).toHaveLength(1);
      expect(spans[0]!.reason).toBe('numbers-left');
      // The span holds the send, from the first move until the number left.
      expect(spans[0]!.start <= sentAt.replace('.000Z', 'Z')).toBe(true);
      expect(spans[0]!.end >= sentAt.replace('.000Z', 'Z')).toBe(true);
      expect(pass.stderr).toContain(
        `not checked: ${acme} from ${spans[0]!.start} to ${spans[0]!.end}, while a moved number was in it that a later apply has moved on since`,
      );
    }
  });

  it('says not checked for a number moved on out of a subaccount another number still holds', async () => {
    // A folder of its own: the reports of another database's run 1 are in the first one's.
    const own = tempDir();
    const cli = (args: string[]) => runCli(args, cliEnv(ws.env), own.path);
    const db = own.file('h.db');
    try {
      const cobalt = await migrateOneCustomer(cli, {
        mapping: ws.dir.file('m3.csv'),
        db,
        out: ws.dir.file('p3.plan.json'),
      });
      // Cobalt's subaccount texts R2 from B, who said STOP to B before it moved: a violation.
      await sleep(1_100);
      const sentAt = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
      await ws.env.seed({
        messages: [
          {
            from: B,
            to: R2,
            body: 'Sale!',
            direction: 'outbound-api',
            date_sent: sentAt,
            account_sid: cobalt,
          },
        ],
      });
      // A second wave moves B on to Delta's subaccount. D stays in Cobalt's, which the pass
      // reads, B's send among its messages: but B is Delta's now, its send there not held to
      // the list it had in Cobalt's.
      await sleep(1_100);
      await snapshotInto(db, ws.env.port(), fixedClock(Date.now()), {
        accounts: [cobalt],
        useExport: false,
      });
      await planAndApply(cli, {
        mapping: ws.dir.file('m4.csv'),
        db,
        out: ws.dir.file('p4.plan.json'),
      });

      const pass = await cli(['reconcile', '--db', db, '--fail-on-violation', '--json']);
      expect(pass.code, pass.stderr).toBe(3);
      const json = JSON.parse(pass.stdout) as Pass;
      expect(json.violations).toBe(0);
      const spans = json.notChecked.filter((s) => s.accountSid === cobalt);
      expect(spans).toHaveLength(1);
      expect(spans[0]!.reason).toBe('numbers-left');
      expect(spans[0]!.start <= sentAt.replace('.000Z', 'Z')).toBe(true);
      expect(spans[0]!.end >= sentAt.replace('.000Z', 'Z')).toBe(true);
    } finally {
      own.remove();
    }
  });
});
