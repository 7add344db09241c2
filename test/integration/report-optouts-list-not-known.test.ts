/**
 * optouts.csv after an apply with --allow-missing-snapshot: a customer with numbers from an
 * account no completed snapshot has read has a list that is not known (no
 * optouts/<customer_id>.csv, `unknown` in carry.csv, "not known" in report.html), yet the
 * opt-outs of its numbers from the account that was read are on the combined list. Each row
 * says so in `customer_list` (`not_known`), never dropped, and a whole list's rows say `whole`,
 * so a reviewer reading optouts.csv alone cannot take part of a list for all of it (built CLI,
 * emulator over HTTP).
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { planAndApply, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const SUB = `AC${'6'.repeat(32)}`;
const [ACME_N, BIRCH_READ, BIRCH_UNREAD] = ['+14155550101', '+14155550102', '+14155550105'];
const [ACME_USER, BIRCH_USER, UNREAD_USER] = ['+16505550101', '+16505550103', '+16505550102'];

describe('optouts.csv marks the rows of a customer whose list is not known', () => {
  const ws = useCliWorkspace(
    {
      subaccounts: [{ friendly_name: 'Old Birch', sid: SUB }],
      numbers: [
        { phone_number: ACME_N },
        { phone_number: BIRCH_READ },
        { phone_number: BIRCH_UNREAD, account_sid: SUB },
      ],
      messages: [
        seededStop(ACME_USER, ACME_N, NOW - 10 * DAY),
        seededStop(BIRCH_USER, BIRCH_READ, NOW - 8 * DAY),
        seededStop(UNREAD_USER, BIRCH_UNREAD, NOW - 5 * DAY, SUB),
      ],
    },
    NOW,
  );

  it('every row of the unread customer says not_known; the read one says whole', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${ACME_N}\nbirch,Birch,${BIRCH_READ}\nbirch,Birch,${BIRCH_UNREAD}\n`,
    );
    const snapshot = await ws.cli(['snapshot', '--db', 'm.db', '--account', ws.env.parentSid]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    await planAndApply(ws.cli, {
      mapping: 'm.csv',
      db: 'm.db',
      out: 'm.plan.json',
      plan: ['--no-snapshot'],
      apply: ['--allow-missing-snapshot'],
    });

    const reports = join(ws.dir.path, 'reports', '1');
    // birch's list is not known: no file of its own, as before.
    expect(existsSync(join(reports, 'optouts', 'birch.csv'))).toBe(false);
    const all = readCsv(join(reports, 'optouts.csv'));
    // No row is dropped: birch's opt-out from the account that was read stays, marked.
    expect(all.map((r) => [r['customer_id'], r['recipient'], r['customer_list']])).toEqual([
      ['acme', ACME_USER, 'whole'],
      ['birch', BIRCH_USER, 'not_known'],
    ]);
    expect(readCsv(join(reports, 'optouts', 'acme.csv')).map((r) => r['customer_list'])).toEqual([
      'whole',
    ]);
    // report.html's suppression list says the same, birch's row in red.
    const page = readFileSync(join(reports, 'report.html'), 'utf8');
    const section = page.slice(page.indexOf('id="suppression-list"'));
    const row = (recipient: string) => {
      const at = section.indexOf(`<td>${recipient}</td>`);
      return section.slice(section.lastIndexOf('<tr>', at), section.indexOf('</tr>', at));
    };
    expect(section).toContain('customer list');
    expect(row(BIRCH_USER)).toContain('<td class="bad">not known</td>');
    expect(row(ACME_USER)).toContain('<td>whole</td>');
  }, 60_000);
});
