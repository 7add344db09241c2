/**
 * docs/file-formats.md is what a compliance reviewer reads to know what a report's columns
 * mean: its column tables must list exactly the columns the files have, in their order. The
 * headers are read from files a real run wrote (built CLI, emulator over HTTP): `optouts`,
 * and apply's and reconcile's `reports/<run id>/`; the lists are parsed from the doc's tables.
 * A scheduled `reconcile --json` (and `snapshot --json`, `apply --json`, `status --json`,
 * `report --json`, `routes --json`) is read by a script the same way: docs/commands.md names
 * each member they print.
 */

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { planAndApply, seededStop, useCliWorkspace } from '../support/migration.js';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'file-formats.md'), 'utf8');

/** The text of the section whose heading line is `heading`, up to the next heading. */
function section(heading: string): string {
  const lines = DOC.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`docs/file-formats.md has no heading ${JSON.stringify(heading)}`);
  const end = lines.findIndex((line, i) => i > start && /^#{1,3} /.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/**
 * The columns a section's `| column | meaning |` table lists, in order: every back-quoted name
 * in a row's first cell (`customer_id`, `customer_name` is two).
 */
function documentedColumns(heading: string): string[] {
  const rows = section(heading)
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  return rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

/** The header row of a CSV file, as column names. */
const header = (path: string) => readFileSync(path, 'utf8').split('\n')[0]!.split(',');

const A = '+14155550701';
const R1 = '+12065550301';

describe('docs/file-formats.md lists the columns the files have', () => {
  // On the real clock: reconcile reads the subaccount from the move to now.
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
    messages: [seededStop(R1, A, Date.now() - 20 * 86_400_000)],
  });
  const reports = () => join(ws.dir.path, 'reports', '1');

  beforeAll(async () => {
    const { cli, dir } = ws;
    const mapping = `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`;
    writeFileSync(dir.file('m.csv'), mapping);
    expect((await cli(['snapshot', '--db', 'f.db'])).code).toBe(0);
    await planAndApply(cli, {
      mapping: 'm.csv',
      db: 'f.db',
      out: 'f.plan.json',
      plan: ['--carry-optouts'],
    });
    const reconciled = await cli(['reconcile', '--db', 'f.db']);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const exported = await cli(['optouts', '--db', 'f.db', '--out', 'optouts.csv']);
    expect(exported.code, exported.stderr).toBe(0);
  }, 120_000);

  it('the suppression list (`submigrate optouts`)', () => {
    expect(header(ws.dir.file('optouts.csv'))).toEqual(
      documentedColumns('## Suppression list (`submigrate optouts`)'),
    );
  });

  it('audit.csv', () => {
    expect(header(join(reports(), 'audit.csv'))).toEqual(documentedColumns('### `audit.csv`'));
  });

  it('carry.csv', () => {
    expect(header(join(reports(), 'carry.csv'))).toEqual(documentedColumns('### `carry.csv`'));
  });

  it('violations.csv', () => {
    expect(header(join(reports(), 'violations.csv'))).toEqual(
      documentedColumns('### `violations.csv`'),
    );
  });

  it("optouts.csv and optouts/<customer_id>.csv: the suppression list's, then twilio_enforces and customer_list, channel last", () => {
    const text = section('### `optouts.csv`, `optouts/<customer_id>.csv`, `coverage.txt`');
    expect(text).toContain('plus `twilio_enforces`');
    expect(text).toContain('Then comes `customer_list`');
    expect(text).toContain('Last comes `channel`');
    const list = documentedColumns('## Suppression list (`submigrate optouts`)');
    // `channel` was added last of all: after the report's own columns too.
    expect(list.at(-1)).toBe('channel');
    const expected = [...list.slice(0, -1), 'twilio_enforces', 'customer_list', 'channel'];
    expect(header(join(reports(), 'optouts.csv'))).toEqual(expected);
    expect(header(join(reports(), 'optouts', 'acme.csv'))).toEqual(expected);
  });

  // passId, subaccounts, windows, sendsChecked, newViolations, newBlocked, evidenceAdded,
  // violations and blocked were named nowhere: a job alerting on `violations` had to guess
  // whether it was this pass's or every pass's.
  it('reconcile --json: every member is named in docs/commands.md under reconcile', async () => {
    const result = await ws.cli(['reconcile', '--db', 'f.db', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const commands = readFileSync(
      join(import.meta.dirname, '..', '..', 'docs', 'commands.md'),
      'utf8',
    );
    const text = commands.slice(commands.indexOf('\n## reconcile'), commands.indexOf('\n## demo'));
    const members = Object.keys(JSON.parse(result.stdout) as Record<string, unknown>);
    expect(members).toContain('violations');
    expect(members.filter((key) => !text.includes(`\`${key}\``))).toEqual([]);
  });

  // runId, resumed, slices, pagesRead, exportDays, eventsAdded, ledger, optedOutPairs,
  // keywords, seconds and requests (snapshot), runId, resumed and routeFailures (apply) were
  // named nowhere.
  it.each([
    ['snapshot', ['snapshot', '--db', 'f.db', '--json'], '## snapshot', '## plan'],
    [
      'apply',
      ['apply', 'f.plan.json', '--db', 'f.db', '--rate', '1000', '--json'],
      '## apply',
      '## Carrying opt-outs',
    ],
  ])(
    '%s --json: every member is named in its section of docs/commands.md',
    async (_, args, from, to) => {
      const result = await ws.cli(args);
      expect(result.code, result.stderr).toBe(0);
      const commands = readFileSync(
        join(import.meta.dirname, '..', '..', 'docs', 'commands.md'),
        'utf8',
      );
      const text = commands.slice(commands.indexOf(`\n${from}`), commands.indexOf(`\n${to}`));
      const members = Object.keys(JSON.parse(result.stdout) as Record<string, unknown>);
      expect(members).toContain('runId');
      expect(members.filter((key) => !text.includes(`\`${key}\``))).toEqual([]);
    },
  );

  // README's Reports paragraph is where a reviewer first learns which files a run's folder
  // holds: it named no `optouts.csv`, the one file with every customer's list.
  it("README's Reports paragraph names every file of a run's folder", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const paragraph = readme.slice(
      readme.indexOf('- **Reports**'),
      readme.indexOf('\nThe database'),
    );
    const files = readdirSync(reports(), { recursive: true, encoding: 'utf8' })
      .filter((name) => /\.(csv|html|json|txt)$/.test(name))
      .map((name) =>
        name
          .split(sep)
          .join('/')
          .replace(/^optouts\/[^/]+\.csv$/, 'optouts/<customer_id>.csv'),
      );
    expect(files).toContain('optouts.csv');
    const named = (file: string) => paragraph.includes(`\`${file}\``);
    expect(files.filter((file) => !named(file))).toEqual([]);
  });

  // A script that checks a run's status reads `.runs[0].run.status`: runs, steps, counts and
  // run, and the members of a run and a step, were named nowhere.
  it('status --json (and --run): every member, of a run and a step too, is named under status', async () => {
    const commands = readFileSync(
      join(import.meta.dirname, '..', '..', 'docs', 'commands.md'),
      'utf8',
    );
    const text = commands.slice(commands.indexOf('\n### status'), commands.indexOf('\n### report'));
    const unnamed = (keys: string[]) => keys.filter((key) => !text.includes(`\`${key}\``));
    const all = await ws.cli(['status', '--db', 'f.db', '--json']);
    expect(all.code, all.stderr).toBe(0);
    const status = JSON.parse(all.stdout) as { runs: Record<string, object>[] };
    expect(unnamed(Object.keys(status))).toEqual([]);
    expect(unnamed(Object.keys(status.runs[0]!))).toEqual([]);
    expect(unnamed(Object.keys(status.runs[0]!['run']!))).toEqual([]);
    const one = await ws.cli(['status', '--db', 'f.db', '--json', '--run', '1']);
    expect(one.code, one.stderr).toBe(0);
    const steps = (JSON.parse(one.stdout) as { steps: object[] }).steps;
    expect(unnamed(Object.keys(steps[0]!))).toEqual([]);
  });

  // `run` and `files` were named nowhere.
  it('report --json: every member is named under report', async () => {
    const commands = readFileSync(
      join(import.meta.dirname, '..', '..', 'docs', 'commands.md'),
      'utf8',
    );
    const text = commands.slice(
      commands.indexOf('\n### report\n'),
      commands.indexOf('\n### Memory'),
    );
    const result = await ws.cli(['report', '--db', 'f.db', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const members = Object.keys(JSON.parse(result.stdout) as Record<string, unknown>);
    expect(members.filter((key) => !text.includes(`\`${key}\``))).toEqual([]);
  });

  // `run`, and a check's customerId, phoneNumber, numberSid and checkedAt, were named nowhere.
  it('routes --json: every member, of a check too, is named under routes', async () => {
    const commands = readFileSync(
      join(import.meta.dirname, '..', '..', 'docs', 'commands.md'),
      'utf8',
    );
    const text = commands.slice(commands.indexOf('\n## routes'), commands.indexOf('\n## status'));
    const unnamed = (keys: string[]) => keys.filter((key) => !text.includes(`\`${key}\``));
    const result = await ws.cli(['routes', '--db', 'f.db', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const routes = JSON.parse(result.stdout) as { checks: object[] };
    expect(unnamed(Object.keys(routes))).toEqual([]);
    expect(unnamed(Object.keys(routes.checks[0]!))).toEqual([]);
  });

  it('audit.json: every top-level member and run option is named in its section', () => {
    const text = section('### `audit.json`');
    const named = new Set([...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    const audit = JSON.parse(readFileSync(join(reports(), 'audit.json'), 'utf8')) as {
      run: { options: Record<string, unknown> };
    } & Record<string, unknown>;
    expect(Object.keys(audit).filter((key) => !named.has(key))).toEqual([]);
    expect(Object.keys(audit.run.options).filter((key) => !named.has(key))).toEqual([]);
    expect(Object.keys(audit)).toEqual(['run', 'plan', 'counts', 'customers', 'steps', 'carry']);
  });
});
