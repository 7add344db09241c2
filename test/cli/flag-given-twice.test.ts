/**
 * docs/commands.md: "A flag is given once: `--run 1 --run 2` … is refused by name, not read as
 * one of them. Only `snapshot --account` may repeat." yargs hands most repeats over as an
 * array, which was refused; but `--rate 0.5 --rate 1` came through as the one number 1.5, and
 * an on-or-off flag given twice as the last of them (`apply PLAN --dry-run --dry-run=false`
 * applied the plan). The built CLI refuses each before the command runs, and writes nothing.
 */

import { readdirSync } from 'node:fs';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli, tempDir } from '../support/snapshot-harness.js';

/** Credentials and an address where nothing listens: a request would fail, not reach Twilio. */
const ENV = {
  PATH: process.env['PATH'] ?? '',
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'not-a-real-token',
  SUBMIGRATE_API_URL: 'http://127.0.0.1:9',
};

describe('a flag given twice (built CLI)', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it.each([
    [['snapshot', '--rate', '0.5', '--rate', '1'], '--rate was given 2 times (0.5, 1)'],
    [['apply', 'x.plan.json', '--consent-rate', '0.5', '--consent-rate', '1'], '--consent-rate'],
    [['snapshot', '--no-export', '--export'], '--export was given 2 times (--no-export, --export)'],
    [
      ['apply', 'x.plan.json', '--dry-run', '--dry-run=false'],
      '--dry-run was given 2 times (--dry-run, --dry-run=false)',
    ],
    [['plan', '--mapping', 'm.csv', '--snapshot', '--no-snapshot'], '--snapshot was given 2'],
    [['status', '--json', '--json'], '--json was given 2 times'],
    [['snapshot', '--retentionDays', '30', '--retention-days', '40'], '(30, 40)'],
  ])('%j is refused by name', async (args, why) => {
    const result = await runCli(args, ENV, dir.path);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: --\S+ was given \d times \(.*\); give it once\.\n$/);
    expect(result.stderr).toContain(why);
    expect(readdirSync(dir.path)).toEqual([]);
  });

  it('snapshot --account may repeat', async () => {
    const result = await runCli(
      [
        'snapshot',
        '--db',
        's.db',
        '--account',
        `AC${'1'.repeat(32)}`,
        '--account',
        `AC${'2'.repeat(32)}`,
      ],
      ENV,
      dir.path,
    );
    expect(result.stderr).not.toContain('was given');
    // It went as far as asking Twilio (nothing listens there), and left no database behind.
    expect(result.stderr).toContain('connection refused');
    expect(readdirSync(dir.path)).toEqual([]);
  });
});
