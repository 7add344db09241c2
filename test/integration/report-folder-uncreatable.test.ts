/**
 * `report --out DIR` (or the default `reports/<run id>/`) where the folder cannot be made: a
 * path under a file, a symlink to nowhere; or where a report file cannot be written. One line
 * saying which folder or file and why (naming `--out` only when the user gave it), exit 1, and
 * whatever is there left as it was — not "internal error … This is a bug" with a stack trace
 * (docs/commands.md, Exit codes).
 */

import { mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { migrateOnce, useCliWorkspace } from '../support/migration.js';
import { runCli } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe('a report folder that cannot be made', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }] }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('u.db');

  beforeAll(async () => {
    await migrateOnce(ws, db(), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
  });

  it('--out under a file: one line naming the folder, and the file left as it was', async () => {
    const file = ws.dir.file('notes.txt');
    writeFileSync(file, 'mine\n');
    const result = await cli(['report', '--db', db(), '--out', join(file, 'reports')]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('internal error');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`--out ${join(file, 'reports')}`);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it('--out a symlink to a folder that does not exist: one line, the link left as it was', async () => {
    const link = ws.dir.file('dangling');
    symlinkSync(ws.dir.file('gone'), link);
    const result = await cli(['report', '--db', db(), '--out', link]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('internal error');
    expect(result.stderr).toContain(`--out ${link}`);
    expect(readlinkSync(link)).toBe(ws.dir.file('gone'));
  });

  it('the default reports/<run id>/ where `reports` is a file: one line naming it', async () => {
    const elsewhere = ws.dir.file('elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'reports'), 'not a folder\n');
    const result = await runCli(
      ['report', '--db', db()],
      { PATH: process.env['PATH'] ?? '' },
      elsewhere,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('internal error');
    expect(result.stderr).toContain(join(elsewhere, 'reports', '1'));
    expect(readFileSync(join(elsewhere, 'reports'), 'utf8')).toBe('not a folder\n');
  });

  it('a report file of the default folder that cannot be written: named, with no --out', async () => {
    const elsewhere = ws.dir.file('blocked');
    mkdirSync(join(elsewhere, 'reports', '1', 'audit.csv'), { recursive: true });
    const result = await runCli(
      ['report', '--db', db()],
      { PATH: process.env['PATH'] ?? '' },
      elsewhere,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('internal error');
    // The user gave no --out: the line must not blame one.
    expect(result.stderr).not.toContain('--out');
    expect(result.stderr).toContain(
      `the report file ${join(elsewhere, 'reports', '1', 'audit.csv')}: cannot write it`,
    );
  });
});
