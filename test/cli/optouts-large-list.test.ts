/**
 * `optouts` over a very large suppression list, under a small heap: the rows are written as
 * SQLite hands them over (sorted by it), a chunk at a time, to stdout or to the --out file, in
 * CSV or JSON. A service's opt-out is on the list of every customer with a number in the
 * service, so 300,000 opt-out events in 10 shared services were some 10,000,000 rows; `optouts`
 * held them all, then the whole text: 3,060,000 rows stopped it with "Invalid string length"
 * (JSON at 1,020,000) under bin/submigrate.js's 512 MB heap. Here 80,002 rows under a 32 MB
 * heap, where the old code stopped with "JavaScript heap out of memory". A reader that goes
 * after its first line (`optouts | head -1`) has the command stop reading the list there: it
 * read all of it before, into a closed pipe. Built CLI, emulator over HTTP; the opt-outs are
 * copies of a snapshot's STOP to a shared service in the ledger.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { copyOptOuts, makePlan, seededStop, useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli, startCli, type CliResult } from '../support/snapshot-harness.js';

const NUMBERS = ['+14155550101', '+14155550102'];
/** Copies of the service's STOP, each on both customers' lists. */
const COPIES = 40_000;
const ROWS = 2 * (COPIES + 1);
const HEAP = 32;

describe('optouts of a very large suppression list under a small heap', () => {
  const ws = useCliWorkspace({
    numbers: NUMBERS.map((phone_number) => ({ phone_number })),
    services: [{ friendly_name: 'Shared', phone_numbers: NUMBERS }],
    messages: [seededStop('+12065550000', NUMBERS[0]!, Date.now() - 86_400_000)],
  });
  const db = () => ws.dir.file('a.db');
  const small = async (args: string[]): Promise<CliResult> => {
    const result = await runCli(
      ['optouts', '--db', db(), ...args],
      cliEnv(ws.env, { NODE_OPTIONS: `--max-old-space-size=${HEAP}` }),
      ws.dir.path,
    );
    expect(result.stderr).not.toContain('heap out of memory');
    expect(result.stderr).not.toContain('internal error');
    expect(result.code, result.stderr).toBe(0);
    return result;
  };
  const lines = (text: string) => text.trimEnd().split('\n');

  it('a snapshot and a plan of two customers in one shared service (not measured)', async () => {
    const snapshot = await ws.cli(['snapshot', '--db', db()]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${NUMBERS[0]}\nbeta,Beta,${NUMBERS[1]}\n`,
    );
    await makePlan(ws.cli, { mapping: 'm.csv', db: db(), out: 'a.plan.json' });
    copyOptOuts(db(), COPIES);
  });

  it('writes every row to stdout and to --out, the same text, each list in its order', async () => {
    const stdout = await small([]);
    const all = lines(stdout.stdout);
    expect(all).toHaveLength(1 + ROWS);
    // Each customer's rows in turn, every one the service's.
    expect(all.slice(1, COPIES + 2).every((row) => row.startsWith('acme,Acme,'))).toBe(true);
    expect(all.slice(COPIES + 2).every((row) => row.startsWith('beta,Beta,'))).toBe(true);
    expect(all.slice(1).every((row) => row.includes(',service,'))).toBe(true);
    const recipients = all.slice(1, COPIES + 2).map((row) => row.split(',')[2]!);
    expect(recipients).toEqual([...recipients].sort());

    const out = await small(['--out', 'all.csv']);
    expect(out.stderr).toContain(`wrote ${ROWS} row(s) to all.csv`);
    expect(readFileSync(ws.dir.file('all.csv'), 'utf8')).toBe(stdout.stdout);

    const acme = await small(['--customer', 'acme']);
    expect(lines(acme.stdout)).toEqual(all.slice(0, COPIES + 2));
  });

  it('stops reading the list once the reader of stdout has its line and goes (`| head -1`)', async () => {
    for (const format of ['csv', 'json']) {
      const run = startCli(
        ['optouts', '--db', db(), '--format', format],
        cliEnv(ws.env, { NODE_OPTIONS: `--max-old-space-size=${HEAP}` }),
        ws.dir.path,
      );
      const stdout = run.child.stdout!;
      stdout.on('data', (chunk: string) => {
        if (chunk.includes('\n')) stdout.destroy();
      });
      const result = await run.done;
      // Its own exit code, as for any closed pipe: the list is whole.
      expect(result.signal).toBeNull();
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toContain('internal error');
      // A chunk or two of the list's 80,002 rows read, not all of them.
      const read = Number(
        /reader went away after (\d+) row\(s\) of the list/.exec(result.stderr)?.[1],
      );
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThanOrEqual(ROWS / 20);
      if (format === 'csv') expect(result.stderr).toMatch(/^coverage: /m);
    }
  });

  it('writes the JSON export whole, to stdout and to --out', async () => {
    const stdout = await small(['--format', 'json']);
    const parsed = JSON.parse(stdout.stdout) as { coverage: unknown; optouts: unknown[] };
    expect(parsed.optouts).toHaveLength(ROWS);
    // As JSON.stringify lays the document out.
    expect(stdout.stdout).toBe(`${JSON.stringify(parsed, null, 2)}\n`);
    await small(['--format', 'json', '--out', 'all.json']);
    expect(readFileSync(ws.dir.file('all.json'), 'utf8')).toBe(stdout.stdout);
  });
});
