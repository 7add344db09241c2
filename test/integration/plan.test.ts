/**
 * `submigrate plan` through the built CLI against the emulator over real HTTP:
 * - a corpus of malformed mappings (test/fixtures/mappings) is refused with exit 1 and every
 *   offending FILE:LINE, no plan file, and not one request that is not a GET (the purely
 *   syntactic ones: no request and no database at all);
 * - on a fresh database it fills the ledger first, and its opt-out counts come from it;
 *   with --no-snapshot it sends no Messages request;
 * - the Owlie scenario's mapping plans to exactly what the scenario built, with GETs only.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { beforeEach, describe, expect, it } from 'vitest';

import { loadOwlie, owlieCustomers } from '../../src/emulator/scenarios/owlie.js';
import { readPlan, readSealedPlan } from '../../src/plan/plan-file.js';
import type { Plan } from '../../src/plan/types.js';
import { clearRequestLog, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  cliEnv,
  countMessageRequests,
  ROOT,
  runCli,
  withLedger,
} from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const FIXTURES = 'test/fixtures/mappings';
const EXPECTED = JSON.parse(readFileSync(join(ROOT, FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  number[]
>;
const hex = (c: string) => c.repeat(32);

describe('plan refuses malformed mappings (built CLI)', () => {
  const ws = useCliWorkspace(
    {
      subaccounts: [
        { friendly_name: 'Closed Co', sid: `AC${hex('c')}`, status: 'closed' },
        { friendly_name: 'Sleepy Co', sid: `AC${hex('d')}`, status: 'suspended' },
        { friendly_name: 'Twin Co' },
        { friendly_name: 'Twin Co' },
      ],
      numbers: [
        { phone_number: '+14155550101', sid: `PN${hex('1')}` },
        { phone_number: '+14155550102' },
        { phone_number: '+14155550103' },
      ],
    },
    NOW,
  );

  beforeEach(() => clearRequestLog(ws.env));

  it('holds at least 20 malformed mappings', () => {
    expect(Object.keys(EXPECTED).length).toBeGreaterThanOrEqual(20);
  });

  it.each(Object.entries(EXPECTED))(
    '%s: exit 1, every FILE:LINE, nothing written',
    async (file, lines) => {
      const name = file.replace(/[/.]/g, '-');
      const db = ws.dir.file(`${name}.db`);
      const out = ws.dir.file(`${name}.plan.json`);
      const result = await runCli(
        ['plan', '--mapping', `${FIXTURES}/${file}`, '--db', db, '--out', out],
        cliEnv(ws.env),
      );
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toBe('');
      for (const line of lines) expect(result.stderr).toContain(`${FIXTURES}/${file}:${line}: `);
      const reported = [...result.stderr.matchAll(new RegExp(`${FIXTURES}/${file}:(\\d+): `, 'g'))];
      expect(new Set(reported.map((m) => Number(m[1])))).toEqual(new Set(lines));
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(existsSync(out)).toBe(false);
      const log = await requestLog(ws.env);
      expect(log.filter((entry) => entry.method !== 'GET')).toEqual([]);
      if (file.startsWith('bad/')) {
        // Refused before anything else: no request, no database.
        expect(log).toEqual([]);
        expect(existsSync(db)).toBe(false);
      }
    },
  );

  it('a mapping file that does not exist is one line, exit 1', async () => {
    const result = await runCli(
      ['plan', '--mapping', 'no/such.csv', '--db', ws.dir.file('x.db')],
      cliEnv(ws.env),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: --mapping no/such.csv: no such file\n');
  });
});

describe('plan on the Owlie scenario (built CLI)', () => {
  const ws = useCliWorkspace(undefined, {
    now: () => NOW,
    load: (state) => loadOwlie(state, { seed: 5, messages: 6_000, now: NOW }),
  });
  const mapping = 'plans/owlie-customers.csv';

  it('on a fresh database fills the ledger first, plans what the scenario built, GETs only', async () => {
    await clearRequestLog(ws.env);
    const db = ws.dir.file('owlie.db');
    const out = ws.dir.file('owlie.plan.json');
    const result = await runCli(
      ['plan', '--mapping', mapping, '--db', db, '--out', out, '--detailed-exitcode'],
      cliEnv(ws.env),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(2);
    const log = await requestLog(ws.env);
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((entry) => entry.method === 'GET')).toBe(true);
    expect(countMessageRequests(log).total).toBeGreaterThan(0);

    const plan = readPlan(out, readFileSync(out, 'utf8'));
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const customers = owlieCustomers();
    const numbers = customers.flatMap((c) => c.numbers);
    const withService = customers.filter((c) => c.messagingService !== null);
    const shared = customers.filter((c) => c.sharedService !== null);
    expect(plan.summary).toEqual({
      subaccounts_to_create: customers.length,
      numbers_to_detach: shared.reduce((n, c) => n + c.numbers.length, 0),
      numbers_to_transfer: numbers.length,
      services_to_create: withService.length,
      numbers_to_attach: withService.reduce((n, c) => n + c.numbers.length, 0),
      // Numbers that leave a shared service for none keep its inbound URL as their own.
      webhooks_to_set: customers
        .filter((c) => c.sharedService !== null && c.messagingService === null)
        .reduce((n, c) => n + c.numbers.length, 0),
      unchanged: 0,
    });
    expect(plan.parent_account_sid).toBe(ws.env.parentSid);
    expect(plan.mapping.rows).toBe(numbers.length);
    expect(plan.steps).toHaveLength(
      plan.summary.subaccounts_to_create +
        plan.summary.numbers_to_detach +
        plan.summary.numbers_to_transfer +
        plan.summary.services_to_create +
        plan.summary.numbers_to_attach +
        plan.summary.webhooks_to_set,
    );
    expect(JSON.stringify(plan)).not.toContain(ws.env.parentToken);

    // The opt-out counts are the ledger's, which the plan filled before computing them.
    const pairs = await withLedger(db, (ledger) =>
      ledger.prepare("SELECT COUNT(*) AS n FROM snapshot_runs WHERE status = 'completed'").get(),
    );
    expect(pairs).toEqual({ n: 1 });
    expect(plan.customers.reduce((n, c) => n + c.optouts, 0)).toBeGreaterThan(0);
    expect(plan.warnings.filter((w) => w.code === 'optouts_not_snapshotted')).toEqual([]);

    // The printed plan, in its style, ends with the one-line summary.
    const lines = result.stdout.trimEnd().split('\n');
    expect(result.stdout).toMatch(/^ {2}\+ subaccount {3}falcon-flights {2}"Falcon Flights"$/m);
    expect(result.stdout).toMatch(/^ {2}~ number {7}\+1\d{10} {2}AC\w{2}…\(parent\) -> \S+$/m);
    // The last line names the plan by its seal, as apply's reports do.
    const seal = readSealedPlan(out, readFileSync(out, 'utf8')).integrity;
    expect(lines.at(-1)).toMatch(
      /^Plan file: .*owlie\.plan\.json \(integrity sha256:[0-9a-f]{12}…\)$/,
    );
    expect(lines.at(-1)).toContain(seal.slice(0, 19));
    expect(lines.at(-3)).toBe(
      `Plan: 50 subaccounts, ${numbers.length} numbers to move, ${withService.length} services, ${plan.summary.numbers_to_attach} memberships; ${plan.summary.numbers_to_detach} detaches, ${plan.summary.webhooks_to_set} sms_urls to set; 0 unchanged. ${plan.warnings.length} warnings.`,
    );
  });

  it('records the mapping: optouts --customer lists that customer’s suppression list', async () => {
    const db = ws.dir.file('owlie.db');
    const all = await runCli(['optouts', '--db', db, '--json'], cliEnv(ws.env));
    const one = await runCli(
      ['optouts', '--db', db, '--customer', 'falcon-flights', '--json'],
      cliEnv(ws.env),
    );
    expect(one.code).toBe(0);
    const rows = (JSON.parse(one.stdout) as { optouts: Record<string, string | null>[] }).optouts;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r['customer_id'] === 'falcon-flights')).toBe(true);
    expect(rows.every((r) => r['customer_name'] === 'Falcon Flights')).toBe(true);
    const plan = readPlan('p', readFileSync(ws.dir.file('owlie.plan.json'), 'utf8'));
    const falcon = plan.customers.find((c) => c.customer_id === 'falcon-flights')!;
    expect(new Set(rows.map((r) => r['recipient'])).size).toBe(falcon.optouts);
    const every = (JSON.parse(all.stdout) as { optouts: { customer_id: string | null }[] }).optouts;
    expect(every.filter((r) => r.customer_id === null)).toEqual([]);

    const unknown = await runCli(['optouts', '--db', db, '--customer', 'nobody'], cliEnv(ws.env));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: --customer nobody: no such customer_id/);
    expect(unknown.stderr).not.toContain('did you mean');
    // customer_ids are matched exactly: one typed in capitals, or a letter off, names the one meant.
    for (const typed of ['Falcon-Flights', 'falcon-flight']) {
      const near = await runCli(['optouts', '--db', db, '--customer', typed], cliEnv(ws.env));
      expect(near.code).toBe(1);
      expect(near.stderr).toMatch(
        new RegExp(
          `^error: --customer ${typed}: no such customer_id .*; did you mean falcon-flights\\?\\)\n$`,
        ),
      );
    }
  });

  it('with --no-snapshot sends no Messages request, and says so', async () => {
    await clearRequestLog(ws.env);
    const out = ws.dir.file('no-snapshot.plan.json');
    const result = await runCli(
      [
        'plan',
        '--mapping',
        mapping,
        '--db',
        ws.dir.file('fresh.db'),
        '--out',
        out,
        '--no-snapshot',
      ],
      cliEnv(ws.env),
    );
    expect(result.code).toBe(0);
    const log = await requestLog(ws.env);
    expect(log.filter((entry) => entry.path.includes('/Messages'))).toEqual([]);
    const plan = readPlan(out, readFileSync(out, 'utf8'));
    expect(plan.options.snapshot).toBe(false);
    expect(plan.warnings.map((w) => w.code)).toContain('snapshot_not_refreshed');
    // Nothing was ever snapshotted in this database: every number is flagged.
    expect(plan.warnings.filter((w) => w.code === 'optouts_not_snapshotted')).toHaveLength(50);
    expect(result.stdout).toContain('--no-snapshot');
    // Another plan of the same live state (with --carry-optouts): the same fingerprint, another
    // seal, and each listing names its own plan's seal.
    const carryOut = ws.dir.file('no-snapshot-carry.plan.json');
    const carry = await runCli(
      [
        'plan',
        '--mapping',
        mapping,
        '--db',
        ws.dir.file('fresh.db'),
        '--out',
        carryOut,
        '--no-snapshot',
        '--carry-optouts',
      ],
      cliEnv(ws.env),
    );
    expect(carry.code).toBe(0);
    const seal = readSealedPlan(out, readFileSync(out, 'utf8')).integrity;
    const other = readSealedPlan(carryOut, readFileSync(carryOut, 'utf8'));
    expect(other.plan.fingerprint).toBe(plan.fingerprint);
    expect(other.integrity).not.toBe(seal);
    expect(result.stdout).toContain(`(integrity ${seal.slice(0, 19)}…)`);
    expect(carry.stdout).toContain(`(integrity ${other.integrity.slice(0, 19)}…)`);
  });

  it('--json prints the plan; a hand-edited plan no longer reads', async () => {
    const out = ws.dir.file('json.plan.json');
    const result = await runCli(
      ['plan', '--mapping', mapping, '--db', ws.dir.file('owlie.db'), '--out', out, '--json'],
      cliEnv(ws.env),
    );
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as Plan & { integrity: string };
    expect(printed.integrity).toMatch(/^sha256:/);
    expect(readFileSync(out, 'utf8')).toBe(result.stdout);
    const edited = result.stdout.replace('"Falcon Flights"', '"Falcon Flights Inc"');
    expect(() => readPlan(out, edited)).toThrow(/changed after `submigrate plan` wrote it/);
  });
});
