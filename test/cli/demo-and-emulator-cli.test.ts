/**
 * The two commands a new user meets first, through the built CLI: `demo` runs the flow so
 * far and checks itself against the emulator's ground truth; `emulator` serves until told to
 * stop and prints what to export.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';

import { pollUntil, readOnly, runCli, startCli, tempDir } from '../support/snapshot-harness.js';

const env = { PATH: process.env['PATH'] ?? '' };

/**
 * The files and folders docs/file-formats.md's demo folder table names, as the folder's own
 * entries (`reports/1/` is `reports`).
 */
function documentedDemoFiles(): string[] {
  const doc = readFileSync(
    join(import.meta.dirname, '..', '..', 'docs', 'file-formats.md'),
    'utf8',
  );
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => line.startsWith('## Demo folder'));
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  return lines
    .slice(start, end)
    .filter((line) => line.startsWith('| `'))
    .flatMap((row) => [...row.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!))
    .map((path) => path.split('/')[0]!)
    .sort();
}

describe('submigrate demo (built CLI)', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('rehearses the whole flow on the Owlie scenario: ledger equal to the emulator, carried opt-outs refused, violations caught, webhook kept', async () => {
    const out = join(dir.path, 'demo');
    const result = await runCli(['demo', '--out', out, '--messages', '5000', '--seed', '3'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const match = /(\d[\d,]*) of (\d[\d,]*) pairs match/.exec(result.stdout);
    expect(match).not.toBeNull();
    expect(match![1]).toBe(match![2]);
    expect(Number(match![2]!.replace(/,/g, ''))).toBeGreaterThan(10);
    expect(result.stdout).toContain('a text is refused: Twilio error 21610');
    expect(result.stdout).toMatch(
      /^   An end user texts .*signed with the parent's Auth Token \(valid: yes\)/m,
    );
    // The plan is printed, with the carry; the files it names are there.
    const named =
      /^5\. .*`submigrate plan --mapping (\S+) --carry-optouts`.*\n(?:.*\n)*? {3}… [\d,]+ more lines in (\S+)$/m.exec(
        result.stdout,
      );
    expect(named).not.toBeNull();
    for (const path of named!.slice(1)) expect(existsSync(path)).toBe(true);
    // The plan file and the reviewer's page name that mapping, not the package's copy.
    const planned = JSON.parse(readFileSync(join(out, 'owlie-customers.plan.json'), 'utf8')) as {
      mapping: { path: string };
    };
    expect(planned.mapping.path).toBe(named![1]);
    expect(readFileSync(join(out, 'reports', '1', 'report.html'), 'utf8')).toContain(
      `<code>${named![1]}</code>`,
    );
    expect(result.stdout).toMatch(/^   Plan: .* opt-out records to carry\./m);
    expect(result.stdout).toMatch(
      /^   Carry: \d+ opt-out records \(one per recipient and sender\) written into the subaccounts/m,
    );
    // Apply: every step but the carry of the customer without Consent API access.
    expect(result.stdout).toMatch(/^6\. Apply .*: \d+ steps done, 1 failed\./m);
    expect(result.stdout).toMatch(/failed as expected — carry_optouts:\S+: .*no access/);
    // The campaign: refused where the opt-outs were carried, sent where they were not.
    expect(result.stdout).toMatch(
      /\(opt-outs carried\): to people on its list (refused 21610, ){2}refused 21610;/,
    );
    expect(result.stdout).toMatch(
      /\(no Consent API access\): to people on its list SENT, SENT, SENT;/,
    );
    expect(result.stdout).toMatch(
      /the same webhook as before the move, now signed with the subaccount's token \(valid with it: yes; with the parent's: no\)/,
    );
    expect(result.stdout).toMatch(
      /^9\. Reconcile: .*: 3 violation\(s\) .*, 3 refused by Twilio\./m,
    );
    const violations = parse(readFileSync(join(out, 'reports', '1', 'violations.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(violations).toHaveLength(3);
    expect(violations.every((v) => /^SM[0-9a-f]{32}$/.test(v['stop_message_sid'] ?? ''))).toBe(
      true,
    );
    const page = join(out, 'reports', '1', 'report.html');
    expect(result.stdout).toContain(`Open the report: ${page}`);
    expect(readFileSync(page, 'utf8')).toContain(violations[0]!['violating_message_sid']!);
    const text = readFileSync(join(out, 'optouts.csv'), 'utf8');
    expect(text.split('\n')[0]).toBe(
      'customer_id,customer_name,recipient,sender_number,messaging_service_sid,scope,keyword,body,opted_out_at,stop_message_sid,account_sid,evidence,evidence_message_sid,channel',
    );
    // Bodies such as "STOP\n" are quoted cells with a line break inside: parse, don't split.
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    // One row per opted-out pair and customer whose list it is on: every pair of the history is
    // there, each with its STOP, and every such row names its customer.
    const keyword = rows.filter((row) => row['evidence'] === 'keyword');
    expect(new Set(keyword.map((row) => row['stop_message_sid'])).size).toBe(
      Number(match![2]!.replace(/,/g, '')),
    );
    expect(keyword.every((row) => /^SM[0-9a-f]{32}$/.test(row['stop_message_sid'] ?? ''))).toBe(
      true,
    );
    expect(keyword.every((row) => row['evidence_message_sid'] === row['stop_message_sid'])).toBe(
      true,
    );
    expect(keyword.every((row) => row['customer_id'] !== '')).toBe(true);
    // The three sends Twilio refused in a subaccount (its carried opt-outs) are Twilio's own
    // verdict there: reconcile put them in the ledger, so those pairs are listed in the
    // subaccount's scope too, known from the refusals only (no mapped customer had that service
    // when the plan was made, so the customer columns are empty).
    const refusal = rows.filter((row) => row['evidence'] !== 'keyword');
    expect(refusal).toHaveLength(3);
    const parentAccounts = new Set(keyword.map((row) => row['account_sid']));
    for (const row of refusal) {
      expect(row).toMatchObject({ evidence: 'refusal', stop_message_sid: '', keyword: '' });
      expect(row['evidence_message_sid']).toMatch(/^SM[0-9a-f]{32}$/);
      expect(parentAccounts.has(row['account_sid'])).toBe(false);
    }
    expect(existsSync(join(out, 'reports', '1', 'audit.csv'))).toBe(true);
    expect(existsSync(join(out, 'demo.db'))).toBe(true);
    // A user looks up what the folder holds in docs/file-formats.md: it names each of them.
    expect(readdirSync(out).sort()).toEqual(documentedDemoFiles());
    // Each run says which command of the demo's made it (opened after the listing above: a
    // reader's -shm file would be one more file in the folder).
    expect(
      readOnly(join(out, 'demo.db'), (d) =>
        d.prepare('SELECT made_by FROM snapshot_runs ORDER BY id').pluck().all(),
      ),
    ).toEqual(['demo', 'plan', 'apply', 'reconcile']);
    // The emulator's own fake token is never echoed by the demo.
    expect(result.stdout).not.toMatch(/TWILIO_AUTH_TOKEN|auth_token/);
  });
});

describe('submigrate emulator (built CLI)', () => {
  it('serves the control plane, prints its URL and credentials, and stops on SIGTERM', async () => {
    const run = startCli(['emulator', '--port', '0', '--json', '--seed', '5'], env);
    let stdout = '';
    run.child.stdout?.on('data', (chunk: string) => (stdout += chunk));
    const line = await pollUntil('the emulator to print its URL', () =>
      stdout.includes('\n') ? stdout.slice(0, stdout.indexOf('\n')) : undefined,
    );
    const {
      url,
      account_sid: accountSid,
      auth_token: authToken,
    } = JSON.parse(line) as { url: string; account_sid: string; auth_token: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(accountSid).toMatch(/^AC[0-9a-f]{32}$/);
    // The credentials it prints are the ones it takes.
    const account = await fetch(`${url}/2010-04-01/Accounts/${accountSid}.json`, {
      headers: { authorization: `Basic ${btoa(`${accountSid}:${authToken}`)}` },
    });
    expect(account.status).toBe(200);
    const health = await fetch(`${url}/__emulator/health`);
    expect(health.status).toBe(200);
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(0);
  });
});
