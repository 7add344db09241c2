/**
 * A run's report folder where a link stands in place of what the tool writes there: its mark
 * (`.submigrate-report`) or its `optouts/` folder linked to somewhere else. Writing the reports
 * again must not write through the link into a file or a folder that is not the tool's
 * (docs/commands.md: files the commands write replace only files submigrate wrote).
 */

import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { migrateOnce, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe('a link in a run’s report folder', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }] }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('l.db');
  const run = () => join(ws.dir.path, 'reports', '1');
  let elsewhere: string;

  beforeAll(async () => {
    await migrateOnce(ws, db(), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
  });
  beforeEach(() => {
    elsewhere = mkdtempSync(join(tmpdir(), 'submigrate-elsewhere-'));
  });
  afterEach(() => rmSync(elsewhere, { recursive: true, force: true }));

  it('the mark linked to a file elsewhere: refused, and that file is left as it was', async () => {
    const victim = join(elsewhere, 'notes.txt');
    writeFileSync(victim, 'my own notes\n');
    const mark = join(run(), '.submigrate-report');
    const markText = readFileSync(mark, 'utf8');
    rmSync(mark);
    symlinkSync(victim, mark);
    try {
      const result = await cli(['report', '--db', db(), '--run', '1']);
      expect(readFileSync(victim, 'utf8')).toBe('my own notes\n');
      expect(result.stderr).toMatch(/\.submigrate-report there is not a file submigrate wrote/);
      expect(result.code).toBe(1);
    } finally {
      rmSync(mark);
      writeFileSync(mark, markText);
    }
  });

  it('the mark linked to where no file is yet: refused, and no file is made there', async () => {
    const target = join(elsewhere, 'made-by-nobody.txt');
    const mark = join(run(), '.submigrate-report');
    const markText = readFileSync(mark, 'utf8');
    rmSync(mark);
    symlinkSync(target, mark);
    try {
      const result = await cli(['report', '--db', db(), '--run', '1']);
      expect(readdirSync(elsewhere)).toEqual([]);
      expect(result.code).toBe(1);
    } finally {
      rmSync(mark);
      writeFileSync(mark, markText);
    }
  });

  it('optouts/ linked to a folder elsewhere: refused, and nothing there is written or replaced', async () => {
    const theirs = join(elsewhere, 'lists');
    mkdirSync(theirs);
    writeFileSync(join(theirs, 'acme.csv'), 'their own acme.csv\n');
    const optouts = join(run(), 'optouts');
    rmSync(optouts, { recursive: true });
    symlinkSync(theirs, optouts);
    try {
      const result = await cli(['report', '--db', db(), '--run', '1']);
      expect(readdirSync(theirs)).toEqual(['acme.csv']);
      expect(readFileSync(join(theirs, 'acme.csv'), 'utf8')).toBe('their own acme.csv\n');
      expect(result.stderr).toMatch(/optouts is not a folder submigrate made/);
      expect(result.code).toBe(1);
    } finally {
      rmSync(optouts);
    }
    // With the link gone, the reports are written again as before, optouts/ a folder of its own.
    const again = await cli(['report', '--db', db(), '--run', '1']);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(optouts)).toEqual(['acme.csv']);
  });
});
