/**
 * An account the mapping's numbers came from that no completed snapshot has read: its
 * opt-outs are on no list, so no list is presented as whole. `optouts` refuses (exit 1) for
 * the customers it touches and answers for the others; after an apply with
 * --allow-missing-snapshot, the reports say "unknown" for those customers, write them no
 * header-only list, and name the account in coverage.txt. (Found by a review: the account's
 * customers came out with empty lists and "no opt-outs".)
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const SUB = `AC${'5'.repeat(32)}`;

describe('an account the mapping depends on that no snapshot read (built CLI)', () => {
  const ws = useCliWorkspace(
    {
      subaccounts: [{ friendly_name: 'Old Birch', sid: SUB }],
      numbers: [
        { phone_number: '+14155550101' },
        { phone_number: '+14155550105', account_sid: SUB },
      ],
      messages: [
        {
          from: '+16505550101',
          to: '+14155550101',
          body: 'STOP',
          direction: 'inbound',
          date_sent: NOW - 10 * DAY,
        },
        {
          from: '+16505550102',
          to: '+14155550105',
          body: 'STOP',
          direction: 'inbound',
          date_sent: NOW - 5 * DAY,
          account_sid: SUB,
        },
      ],
    },
    NOW,
  );
  const { cli } = ws;
  const db = () => ws.dir.file('c.db');

  beforeAll(async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      'customer_id,customer_name,phone_number\nacme,Acme,+14155550101\nbirch,Birch,+14155550105\n',
    );
  });

  it('optouts refuses for the customers whose account nobody read, and answers for the others', async () => {
    expect((await cli(['snapshot', '--db', db(), '--account', ws.env.parentSid])).code).toBe(0);
    const planned = await cli([
      'plan',
      '--mapping',
      ws.dir.file('m.csv'),
      '--db',
      db(),
      '--out',
      ws.dir.file('c.plan.json'),
      '--no-snapshot',
    ]);
    expect(planned.code).toBe(0);

    const all = await cli(['optouts', '--db', db()]);
    expect(all.code).toBe(1);
    expect(all.stdout).toBe('');
    expect(all.stderr).toContain(`no completed snapshot has read ${SUB}`);
    expect(all.stderr).toContain('customers birch');
    expect((await cli(['optouts', '--db', db(), '--customer', 'birch'])).code).toBe(1);

    const acme = await cli(['optouts', '--db', db(), '--customer', 'acme']);
    expect(acme.code).toBe(0);
    const rows = parse(acme.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r['customer_id'], r['recipient']])).toEqual([['acme', '+16505550101']]);
    expect(acme.stderr).toContain(
      `never read: ${SUB}, where numbers of 1 customer(s) came from (birch)`,
    );
  });

  it('after apply --allow-missing-snapshot the reports say "unknown" for them, and write no empty list', async () => {
    const applied = await cli([
      'apply',
      ws.dir.file('c.plan.json'),
      '--db',
      db(),
      '--rate',
      '1000',
      '--allow-missing-snapshot',
    ]);
    expect(applied.code).toBe(0);
    // The terminal says so too: the folder holds no list for birch.
    expect(applied.stderr).toContain(
      'warning: the suppression lists of 1 customer(s) are not known (birch): no completed snapshot has read an account',
    );
    const reports = join(ws.dir.path, 'reports', '1');
    const carry = parse(readFileSync(join(reports, 'carry.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    const protection = new Map(carry.map((r) => [r['customer_id'], r['protection']]));
    expect(protection.get('birch')).toMatch(/^unknown: no completed snapshot has read the account/);
    expect(protection.get('acme')).toMatch(/suppression list is its only protection/);
    expect(existsSync(join(reports, 'optouts', 'birch.csv'))).toBe(false);
    expect(existsSync(join(reports, 'optouts', 'acme.csv'))).toBe(true);
    expect(readFileSync(join(reports, 'coverage.txt'), 'utf8')).toContain(`never read: ${SUB}`);
    const page = readFileSync(join(reports, 'report.html'), 'utf8');
    expect(page).toContain(`No completed snapshot has read`);
  });

  it('report --run 1 keeps the names the run moved its customers under, after a later plan renamed one', async () => {
    writeFileSync(
      ws.dir.file('renamed.csv'),
      'customer_id,customer_name,phone_number\nacme,Acme Renamed,+14155550101\nbirch,Birch,+14155550105\n',
    );
    const again = await cli([
      'plan',
      '--mapping',
      ws.dir.file('renamed.csv'),
      '--db',
      db(),
      '--out',
      ws.dir.file('renamed.plan.json'),
      '--no-snapshot',
    ]);
    expect(again.code, again.stderr).toBe(0);
    const out = ws.dir.file('again');
    expect((await cli(['report', '--db', db(), '--run', '1', '--out', out])).code).toBe(0);
    const rows = parse(readFileSync(join(out, 'optouts.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(rows.map((r) => [r['customer_id'], r['customer_name']])).toEqual([['acme', 'Acme']]);
  });

  it("report --run 1 still says unknown for birch after a later plan gives birch's number to another customer", async () => {
    // Months later, cedar takes over birch's number (a plan only, not applied): the mapping
    // last recorded no longer names birch as the customer of a number from the unread account.
    writeFileSync(
      ws.dir.file('handover.csv'),
      'customer_id,customer_name,phone_number\nacme,Acme,+14155550101\ncedar,Cedar,+14155550105\n',
    );
    const again = await cli([
      'plan',
      '--mapping',
      ws.dir.file('handover.csv'),
      '--db',
      db(),
      '--out',
      ws.dir.file('handover.plan.json'),
      '--no-snapshot',
    ]);
    expect(again.code, again.stderr).toBe(0);
    const out = ws.dir.file('after-handover');
    const report = await cli(['report', '--db', db(), '--run', '1', '--out', out]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toContain(
      'warning: the suppression lists of 1 customer(s) are not known (birch)',
    );
    // Run 1 moved +14155550105 for birch from an account no snapshot has read: its list is
    // still unknown, never an empty file that reads as "nobody opted out".
    expect(existsSync(join(out, 'optouts', 'birch.csv'))).toBe(false);
    const carry = parse(readFileSync(join(out, 'carry.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(carry.find((r) => r['customer_id'] === 'birch')?.['protection']).toMatch(
      /^unknown: no completed snapshot has read the account/,
    );
    expect(readFileSync(join(out, 'coverage.txt'), 'utf8')).toContain(
      `never read: ${SUB}, where numbers of 1 customer(s) came from (birch)`,
    );
  });
});
