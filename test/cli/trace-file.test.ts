/**
 * SUBMIGRATE_TRACE=FILE appends a line per request attempt to FILE: to a trace it wrote
 * before, never to a file that is not one (the database, a plan, someone's notes), which is
 * refused before any request and left as it was. Needs `npm run build`.
 */

import { readFileSync, statSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { cliEnv, runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';

describe('SUBMIGRATE_TRACE', () => {
  let env: TestEmulator;
  let dir: TempDir;
  const snapshot = (trace: string) =>
    runCli(
      ['snapshot', '--db', dir.file('t.db'), '--no-export'],
      cliEnv(env, { SUBMIGRATE_TRACE: trace }),
      dir.path,
    );

  beforeAll(async () => {
    env = await startTestEmulator();
    await env.seed({ numbers: [{ phone_number: '+14155550100' }] });
    dir = tempDir();
  });
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  it('appends to a trace of its own, and refuses any other file untouched', async () => {
    const trace = dir.file('trace.jsonl');
    expect((await snapshot(trace)).code).toBe(0);
    const first = readFileSync(trace, 'utf8').split('\n').filter(Boolean).length;
    expect(first).toBeGreaterThan(0);
    expect((await snapshot(trace)).code).toBe(0);
    expect(readFileSync(trace, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThan(first);

    const notes = dir.file('notes.txt');
    writeFileSync(notes, 'sign-off notes\n');
    for (const foreign of [notes, dir.file('t.db')]) {
      const before = readFileSync(foreign);
      const refused = await snapshot(foreign);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `SUBMIGRATE_TRACE ${foreign} exists and is not a trace file; refusing to replace it`,
      );
      expect(readFileSync(foreign).equals(before)).toBe(true);
    }
  });
  // Made 0400 under it, the trace was refused as read-only by the next run.
  it('under a umask of 0277: made 0600, and appended to the next time', async () => {
    const trace = dir.file('strict.jsonl');
    const umask = process.umask(0o277);
    try {
      expect((await snapshot(trace)).code).toBe(0);
      expect(statSync(trace).mode & 0o777).toBe(0o600);
      const second = await snapshot(trace);
      expect(second.stderr).not.toContain('read-only');
      expect(second.code).toBe(0);
    } finally {
      process.umask(umask);
    }
  });
});
