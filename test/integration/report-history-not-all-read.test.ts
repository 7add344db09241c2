/**
 * An apply with --allow-missing-snapshot of a number whose account's history was read only in
 * part (a snapshot with --no-export: the Messages API keeps 7 days here). Twilio blocked two
 * people before the move; the list holds the one whose STOP was read, and the carry writes
 * that one only. carry.csv must not say that Twilio refuses sends to "every opt-out" without
 * saying the list itself is not whole, nor report.html show the count as if it were (built
 * CLI, emulator over HTTP). A second customer, whose number's history read holds no opt-out,
 * gets no list file: a header-only one would say nobody opted out, which nobody read.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { emulatorOptOuts } from '../support/emulator.js';
import { planAndApply, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const [N1, N2] = ['+14155550301', '+14155550302'];
const [OLD, RECENT] = ['+12065550301', '+12065550302'];

describe('reports of a customer whose account history was not all read', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: N1 }, { phone_number: N2 }],
      messages: [seededStop(OLD, N1, NOW - 20 * DAY), seededStop(RECENT, N1, NOW - 2 * DAY)],
    },
    NOW,
  );

  it('say that its list is not whole, beside what Twilio enforces', async () => {
    await ws.env.control('POST', '/__emulator/settings', { message_retention_days: 7 });
    const db = ws.dir.file('m.db');
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\nbeta,Beta,${N2}\n`,
    );
    const snapshot = await ws.cli(['snapshot', '--db', db, '--no-export', '--retention-days', '7']);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const plan = ws.dir.file('m.plan.json');
    const { applied } = await planAndApply(ws.cli, {
      mapping: ws.dir.file('m.csv'),
      db,
      out: plan,
      plan: ['--carry-optouts'],
      apply: ['--allow-missing-snapshot'],
    });
    expect(applied.stderr).toContain(
      'warning: the suppression lists of 2 customer(s) are not whole (acme, beta): part of the history',
    );
    // beta's list file is missing: the warning says why, not only that rows say not_whole.
    expect(applied.stderr).toContain(
      'one whose history read holds no opt-out gets no optouts/<customer_id>.csv',
    );

    // Twilio blocked both before the move; the subaccount now blocks the one carried only.
    const truth = await emulatorOptOuts(ws.env);
    const parent = truth.filter((o) => o.account_sid === ws.env.parentSid);
    expect(parent.map((o) => o.recipient).sort()).toEqual([OLD, RECENT]);
    expect(truth.filter((o) => o.account_sid !== ws.env.parentSid).map((o) => o.recipient)).toEqual(
      [RECENT],
    );

    const reports = join(ws.dir.path, 'reports', '1');
    expect(readCsv(join(reports, 'optouts', 'acme.csv')).map((r) => r.recipient)).toEqual([RECENT]);
    // Each row, on the combined list and the customer's own, says that list is not whole.
    for (const file of ['optouts.csv', join('optouts', 'acme.csv')]) {
      expect(readCsv(join(reports, file)).map((r) => [r.recipient, r.customer_list])).toEqual([
        [RECENT, 'not_whole'],
      ]);
    }
    const coverage = readFileSync(join(reports, 'coverage.txt'), 'utf8');
    expect(coverage).toMatch(/^not read: AC\w+ /m);
    // The span is the parent's: the advice is `snapshot` with Bulk Export, not `--account` with
    // the parent's SID "for a subaccount", which read as if the parent were one.
    const parentSpan = coverage
      .split('\n')
      .find((l) => l.startsWith(`not read: ${ws.env.parentSid}`));
    expect(parentSpan).toMatch(/: run `submigrate snapshot` with Bulk Export\)$/);
    expect(parentSpan).not.toContain('--account');
    const [carry, beta] = readCsv(join(reports, 'carry.csv'));
    expect(carry).toMatchObject({ customer_id: 'acme', list_rows: '1', twilio_enforces_rows: '1' });
    expect(existsSync(join(reports, 'optouts', 'beta.csv'))).toBe(false);
    expect(beta).toMatchObject({ customer_id: 'beta', list_rows: '0' });
    expect(beta!.protection).toMatch(/its list is not whole/);
    expect(carry!.protection).toMatch(
      /^Twilio refuses sends to every opt-out on its suppression list .*; but its list is not whole: part of the history of an account its numbers came from was never read/,
    );
    const page = readFileSync(join(reports, 'report.html'), 'utf8');
    expect(page).toContain('1 (history not all read)');

    // A folder an earlier writing left a header-only optouts/beta.csv in (a version that wrote
    // one for a list not whole and empty): written again, the reports no longer hold it.
    writeFileSync(
      join(reports, 'optouts', 'beta.csv'),
      readFileSync(join(reports, 'optouts.csv'), 'utf8').split('\n')[0] + '\n',
    );
    // A file of the reviewer's beside the lists is theirs: left as it is.
    writeFileSync(join(reports, 'optouts', 'reviewed-by-legal.csv'), 'customer_id,ok\nacme,yes\n');
    const again = await ws.cli(['report', '--db', db, '--run', '1']);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(reports, 'optouts', 'beta.csv'))).toBe(false);
    expect(existsSync(join(reports, 'optouts', 'acme.csv'))).toBe(true);
    expect(readFileSync(join(reports, 'optouts', 'reviewed-by-legal.csv'), 'utf8')).toBe(
      'customer_id,ok\nacme,yes\n',
    );
  }, 60_000);
});
