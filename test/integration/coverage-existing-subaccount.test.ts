/**
 * A customer moved into a subaccount that already existed (matched by name), whose Messaging
 * Service the mapping reuses: that service's service-wide opt-outs are on the customer's list
 * once it is there. `plan` reads the subaccount's history with the accounts the numbers come
 * from; without that (`--no-snapshot`), reconcile reads it only from the move on, and the
 * coverage statement says its history before was not read, rather than claim it whole. A
 * subaccount apply created is read from its start: no gap to report.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { planAndApply, readCsv, seededStop } from '../support/migration.js';
import { cliEnv, runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const SUB = `AC${'7'.repeat(32)}`;
const N1 = '+14155550101';
const N2 = '+14155550102';
const N5 = '+14155550105';
const R1 = '+16505550001';
const R5 = '+16505550005';

interface Exported {
  coverage: {
    windows: { account_sid: string; start: string }[];
    not_read: { account_sid: string; start: string; end: string }[];
  };
  optouts: { recipient: string; customer_id: string }[];
}

describe('opt-outs of an existing subaccount a customer moves into', () => {
  let env: TestEmulator;
  let dir: TempDir;
  let clock = NOW - 30 * DAY;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);
  const db = () => dir.file('e.db');
  const listOf = (run: string, customer: string) =>
    readCsv(join(dir.path, 'reports', run, 'optouts', `${customer}.csv`)).map(
      (r) => r['recipient'],
    );

  beforeEach(async () => {
    // The subaccount was made a month ago; the STOP to its service came after.
    clock = NOW - 30 * DAY;
    env = await startTestEmulator({ now: () => clock });
    await env.seed({ subaccounts: [{ friendly_name: 'Acme', sid: SUB }] });
    clock = NOW;
    await env.seed({
      numbers: [{ phone_number: N1 }, { phone_number: N2 }, { phone_number: N5, account_sid: SUB }],
      services: [
        {
          friendly_name: 'acmeSvc',
          account_sid: SUB,
          phone_numbers: [N5],
          use_inbound_webhook_on_number: true,
        },
      ],
      messages: [seededStop(R1, N1, NOW - 10 * DAY), seededStop(R5, N5, NOW - 20 * DAY, SUB)],
    });
    dir = tempDir();
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},acmeSvc\nbirch,Birch,${N2},birchSvc\n`,
    );
  });
  afterEach(async () => {
    await env.close();
    dir.remove();
  });

  /** `listWhole`: whether `optouts` can vouch for its list (exit 0), or says it is not whole (3). */
  async function migrate(planFlags: string[], listWhole = true): Promise<Exported> {
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, {
      mapping: dir.file('m.csv'),
      db: db(),
      out: dir.file('m.plan.json'),
      plan: planFlags,
    });
    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const exported = await cli(['optouts', '--db', db(), '--format', 'json']);
    expect(exported.code, exported.stderr).toBe(listWhole ? 0 : 3);
    if (!listWhole)
      expect(exported.stderr).toMatch(new RegExp(`^this list is not whole: .*${SUB}`, 'm'));
    return JSON.parse(exported.stdout) as Exported;
  }

  it("plan reads the subaccount's history: the service's STOP is on the customer's list", async () => {
    const doc = await migrate([]);
    expect(doc.optouts.filter((r) => r.recipient === R5).map((r) => r.customer_id)).toEqual([
      'acme',
    ]);
    expect(listOf('1', 'acme')).toEqual([R1, R5]);
    // Read from its start (a month ago), and nothing of it left unread; birch's new
    // subaccount, read from its creation by reconcile, has no gap either.
    expect(doc.coverage.windows.filter((w) => w.account_sid === SUB).map((w) => w.start)[0]).toBe(
      new Date(NOW - 30 * DAY).toISOString().replace('.000Z', 'Z'),
    );
    expect(doc.coverage.not_read).toEqual([]);
    const lists = readCsv(join(dir.path, 'reports', '1', 'optouts.csv'));
    expect(new Set(lists.map((r) => r['customer_list']))).toEqual(new Set(['whole']));
  });

  it('a subaccount a customer is pinned to later is not taken for the one an apply created for it', async () => {
    // First acme goes to a subaccount of its own, created by apply.
    writeFileSync(
      dir.file('first.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme Co,${N1}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    for (const [mapping, flags] of [
      ['first', []],
      // Then it is pinned to the subaccount that existed all along, with no plan snapshot.
      ['second', ['--no-snapshot']],
    ] as const) {
      if (mapping === 'second') {
        // The subaccount it leaves is read, as reconcile requires of a source account.
        const [row] = readCsv(join(dir.path, 'reports', '1', 'audit.csv'));
        const created = row!['to_account_sid']!;
        expect((await cli(['snapshot', '--db', db(), '--account', created])).code).toBe(0);
        writeFileSync(
          dir.file('second.csv'),
          `customer_id,customer_name,phone_number,messaging_service,subaccount_sid\nacme,Acme Co,${N1},acmeSvc,${SUB}\n`,
        );
      }
      await planAndApply(cli, {
        mapping: dir.file(`${mapping}.csv`),
        db: db(),
        out: dir.file(`${mapping}.plan.json`),
        plan: [...flags],
      });
    }
    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const exported = await cli(['optouts', '--db', db(), '--format', 'json']);
    const doc = JSON.parse(exported.stdout) as Exported;
    // Its history begins a month ago, not when apply created the other subaccount.
    expect(doc.coverage.not_read.filter((w) => w.account_sid === SUB).map((w) => w.start)).toEqual([
      new Date(NOW - 30 * DAY).toISOString().replace('.000Z', 'Z'),
    ]);
  });

  it('without the plan reading it, the coverage says its history before the move was not read', async () => {
    const doc = await migrate(['--no-snapshot'], false);
    expect(doc.optouts.map((r) => r.recipient)).not.toContain(R5);
    const gaps = doc.coverage.not_read.filter((w) => w.account_sid === SUB);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.start).toBe(new Date(NOW - 30 * DAY).toISOString().replace('.000Z', 'Z'));
    // Only that subaccount's: birch's, created by apply, is read from its start.
    expect(doc.coverage.not_read.map((w) => w.account_sid)).toEqual([SUB]);
    // Acme, moved into it, is told its list is not whole (exit 3); birch's is whole (exit 0).
    const acme = await cli(['optouts', '--db', db(), '--customer', 'acme']);
    expect(acme.code, acme.stderr).toBe(3);
    expect(acme.stderr).toMatch(
      new RegExp(`^this list is not whole: 1 span\\(s\\) of the history of ${SUB} `, 'm'),
    );
    const birch = await cli(['optouts', '--db', db(), '--customer', 'birch']);
    expect(birch.code, birch.stderr).toBe(0);
    expect(birch.stderr).not.toContain('this list is not whole');

    const report = await cli(['report', '--db', db(), '--out', dir.file('again')]);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(join(dir.path, 'again', 'coverage.txt'), 'utf8')).toMatch(
      new RegExp(`not read: ${SUB} ${gaps[0]!.start}`),
    );
    // A subaccount's span names the snapshot that reads it: `snapshot` alone reads the parent.
    expect(readFileSync(join(dir.path, 'again', 'coverage.txt'), 'utf8')).toContain(
      `run \`submigrate snapshot --account ${SUB}\` with Bulk Export)`,
    );
    expect(readFileSync(join(dir.path, 'again', 'report.html'), 'utf8')).not.toContain(
      "every account's history from its start to the last snapshot was read",
    );
    // Acme's list, in the subaccount whose earlier history was not read, is not whole there too.
    const acmeRows = readCsv(join(dir.path, 'again', 'optouts.csv')).filter(
      (r) => r['customer_id'] === 'acme',
    );
    expect(acmeRows.map((r) => [r['recipient'], r['customer_list']])).toEqual([[R1, 'not_whole']]);
  });
});
