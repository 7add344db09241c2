/**
 * A list file the run no longer has, made read-only by the reviewer (a report handed over):
 * `report` writes the run's reports again where an earlier writing (or an older submigrate)
 * left optouts/<customer_id>.csv for a customer whose list is now not known, and removes that
 * file — but one made read-only is the reviewer's record, which the tool refuses to replace and
 * so must not delete either: the writing is refused, and every file is left as it was. Built
 * CLI, emulator over HTTP.
 */

import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { planAndApply, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const SUB = `AC${'6'.repeat(32)}`;
const [ACME_N, BIRCH_N] = ['+14155550111', '+14155550115'];

describe('report over a read-only list the run no longer has', () => {
  const ws = useCliWorkspace(
    {
      subaccounts: [{ friendly_name: 'Old Birch', sid: SUB }],
      numbers: [{ phone_number: ACME_N }, { phone_number: BIRCH_N, account_sid: SUB }],
      messages: [
        seededStop('+16505550111', ACME_N, NOW - 10 * DAY),
        seededStop('+16505550115', BIRCH_N, NOW - 5 * DAY, SUB),
      ],
    },
    NOW,
  );

  it('refuses, and removes nothing, replaces nothing', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${ACME_N}\nbirch,Birch,${BIRCH_N}\n`,
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
    // birch's list is not known: the run has no file for it. One is there, as an older
    // submigrate left it, and the reviewer made it read-only with the rest they signed.
    const list = join(reports, 'optouts', 'birch.csv');
    expect(existsSync(list)).toBe(false);
    writeFileSync(list, 'customer_id,recipient\nbirch,+16505550199\n', { mode: 0o600 });
    chmodSync(list, 0o444);
    const audit = readFileSync(join(reports, 'audit.csv'), 'utf8');
    const auditTime = statSync(join(reports, 'audit.csv')).mtimeMs;

    const report = await ws.cli(['report', '--run', '1', '--db', 'm.db']);
    expect(report.code, report.stdout).toBe(1);
    expect(report.stderr).toMatch(/^error: .*optouts\/birch\.csv is read-only/m);
    expect(readFileSync(list, 'utf8')).toBe('customer_id,recipient\nbirch,+16505550199\n');
    expect(statSync(list).mode & 0o777).toBe(0o444);
    // All or none: not a file of the reports was written.
    expect(readFileSync(join(reports, 'audit.csv'), 'utf8')).toBe(audit);
    expect(statSync(join(reports, 'audit.csv')).mtimeMs).toBe(auditTime);

    // Made writable again, it is removed as the run's reports are written.
    chmodSync(list, 0o600);
    const again = await ws.cli(['report', '--run', '1', '--db', 'm.db']);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(list)).toBe(false);
  }, 60_000);
});
