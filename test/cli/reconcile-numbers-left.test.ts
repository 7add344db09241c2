/**
 * A later wave moves a customer's number on, out of the subaccount the first wave put it in,
 * before any reconcile pass read that subaccount: no pass reads it again, so its sends while
 * the number was there (one to a recipient on the number's list) were never held to the list.
 * Each pass names that span `not checked` and `--fail-on-violation` exits 3, as it does for a
 * span older than the Messages API window, rather than report "0 violations" over it.
 */

import { writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { migrateOneCustomer, planAndApply, seededStop } from '../support/migration.js';
import {
  cliEnv,
  fixedClock,
  runCli,
  snapshotInto,
  tempDir,
  type TempDir,
} from '../support/snapshot-harness.js';

const DAY = 86_400_000;
const A = '+14155550831';
const R1 = '+12025550831';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Pass {
  newViolations: number;
  violations: number;
  notChecked: { accountSid: string; start: string; end: string; reason: string }[];
}

describe('reconcile names the unread span of a subaccount its numbers have left', () => {
  let env: TestEmulator;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const db = () => dir.file('l.db');

  beforeAll(async () => {
    env = await startTestEmulator();
    await env.seed({
      numbers: [{ phone_number: A }],
      messages: [seededStop(R1, A, Date.now() - 20 * DAY)],
    });
    dir = tempDir();
    writeFileSync(dir.file('m1.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    writeFileSync(dir.file('m2.csv'), `customer_id,customer_name,phone_number\nbeta,Beta,${A}\n`);
  });
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  it('says not checked, pass after pass, and --fail-on-violation exits 3', async () => {
    const acme = await migrateOneCustomer(cli, {
      mapping: dir.file('m1.csv'),
      db: db(),
      out: dir.file('p1.plan.json'),
    });
    // Acme's subaccount texts R1, who said STOP to A before it moved: a violation.
    await sleep(1_100);
    const sentAt = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    await env.seed({
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
    await snapshotInto(db(), env.port(), fixedClock(Date.now()), {
      accounts: [acme],
      useExport: false,
    });
    await planAndApply(cli, {
      mapping: dir.file('m2.csv'),
      db: db(),
      out: dir.file('p2.plan.json'),
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
        `not checked: ${acme} from ${spans[0]!.start} to ${spans[0]!.end}, while moved numbers were in it`,
      );
    }
  });
});
