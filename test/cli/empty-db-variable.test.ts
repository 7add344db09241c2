/**
 * SUBMIGRATE_DB set to nothing (`export SUBMIGRATE_DB=$DB` with DB unset) names no database:
 * it read as the folder the command runs in, and was refused as `--db <that folder> is a
 * folder`, a flag the user never typed. The built CLI now names the variable, and writes
 * nothing.
 */

import { readdirSync } from 'node:fs';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli, tempDir } from '../support/snapshot-harness.js';

describe('SUBMIGRATE_DB set but empty (built CLI)', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it.each([
    [['status'], {}],
    [['optouts'], {}],
    [
      ['snapshot'],
      {
        TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'not-a-real-token',
        SUBMIGRATE_API_URL: 'http://127.0.0.1:9',
      },
    ],
  ])('%j is refused naming SUBMIGRATE_DB, not --db', async (args, extra) => {
    const result = await runCli(
      args,
      { PATH: process.env['PATH'] ?? '', SUBMIGRATE_DB: '', ...extra },
      dir.path,
    );
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^error: SUBMIGRATE_DB is set but empty; nothing was read/);
    expect(result.stderr).not.toContain('--db /');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(readdirSync(dir.path)).toEqual([]);
  });

  it('a --db given beside it is used as given', async () => {
    const result = await runCli(
      ['status', '--db', 'typo.db'],
      { PATH: process.env['PATH'] ?? '', SUBMIGRATE_DB: '' },
      dir.path,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: no database at .*typo\.db\./);
  });
});
