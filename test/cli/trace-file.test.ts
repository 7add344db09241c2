/**
 * SUBMIGRATE_TRACE=FILE appends a line per request attempt to FILE: to a trace it wrote
 * before, never to a file that is not one (the database, a plan, someone's notes), which is
 * refused before any request and left as it was; never through a link (to a file elsewhere,
 * or to where none is yet, which was created there). A trace the disk takes no more of stops
 * with a warning: its failed write was the request's, which was blamed on the network and
 * ended the command. A path it cannot be made at is one error line, not an internal error.
 * Needs `npm run build`.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { BIN, cliEnv, runCli, type CliResult } from '../support/snapshot-harness.js';

describe('SUBMIGRATE_TRACE', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: '+14155550100' }] });
  const snapshot = (trace: string) =>
    runCli(
      ['snapshot', '--db', ws.dir.file('t.db'), '--no-export'],
      cliEnv(ws.env, { SUBMIGRATE_TRACE: trace }),
      ws.dir.path,
    );

  it('appends to a trace of its own, and refuses any other file untouched', async () => {
    const trace = ws.dir.file('trace.jsonl');
    expect((await snapshot(trace)).code).toBe(0);
    const first = readFileSync(trace, 'utf8').split('\n').filter(Boolean).length;
    expect(first).toBeGreaterThan(0);
    expect((await snapshot(trace)).code).toBe(0);
    expect(readFileSync(trace, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThan(first);

    const notes = ws.dir.file('notes.txt');
    writeFileSync(notes, 'sign-off notes\n');
    for (const foreign of [notes, ws.dir.file('t.db')]) {
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
    const trace = ws.dir.file('strict.jsonl');
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

  it('a link at the path is refused, and nothing is written where it leads', async () => {
    mkdirSync(ws.dir.file('elsewhere'));
    const nowhere = ws.dir.file('elsewhere/new.jsonl');
    symlinkSync(nowhere, ws.dir.file('to-nowhere.jsonl'));
    const earlier = ws.dir.file('elsewhere/earlier.jsonl');
    writeFileSync(earlier, '');
    symlinkSync(earlier, ws.dir.file('to-earlier.jsonl'));
    for (const link of ['to-nowhere.jsonl', 'to-earlier.jsonl']) {
      const refused = await snapshot(link);
      expect(refused.stderr).toMatch(
        new RegExp(`^error: SUBMIGRATE_TRACE .*${link} is a link; refusing to write through it`),
      );
      expect(refused.code).toBe(1);
    }
    expect(existsSync(nowhere)).toBe(false);
    expect(readFileSync(earlier, 'utf8')).toBe('');
  });

  // The link check took every path that is not a file for a link: a folder was 'a link'.
  it('a folder at the path is refused as not a trace file, not as a link', async () => {
    mkdirSync(ws.dir.file('a-folder.jsonl'));
    const refused = await snapshot(ws.dir.file('a-folder.jsonl'));
    expect(refused.stderr).toContain(
      `SUBMIGRATE_TRACE ${ws.dir.file('a-folder.jsonl')} exists and is not a trace file; refusing to replace it`,
    );
    expect(refused.stderr).not.toContain('is a link');
    expect(refused.code).toBe(1);
  });

  // A path the trace cannot be made at (a name too long here; a folder the user may not write
  // into, a read-only disk) ended in 'internal error … This is a bug' and a stack trace.
  it('a trace that cannot be made at its path: one error line, and nothing sent', async () => {
    const trace = ws.dir.file(`${'t'.repeat(300)}.jsonl`);
    const before = (await requestLog(ws.env)).length;
    const refused = await snapshot(trace);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^error: SUBMIGRATE_TRACE ${trace}: cannot make it \\(ENAMETOOLONG[^\\n]*\\); nothing was sent to Twilio\\.`,
      ),
    );
    expect(refused.stderr).not.toMatch(/internal error|This is a bug|^\s+at /m);
    expect(refused.code).toBe(1);
    expect((await requestLog(ws.env)).length).toBe(before);
  });

  it('a trace the disk takes no more of: a warning, and the command goes on', async () => {
    // A database made, then an earlier trace just short of a file-size limit (`ulimit -f`, in
    // KiB) that leaves the database room for this snapshot's few writes.
    const made = await runCli(
      ['snapshot', '--db', 'full.db', '--no-export'],
      cliEnv(ws.env),
      ws.dir.path,
    );
    expect(made.code, made.stderr).toBe(0);
    const trace = ws.dir.file('full.jsonl');
    const line = `{"started_at":"2026-01-01T00:00:00.000Z","method":"GET","url":"x","status":200,"ms":1}\n`;
    const limitKib = Math.ceil(statSync(ws.dir.file('full.db')).size / 1024) + 512;
    writeFileSync(trace, line.repeat(Math.floor((limitKib * 1024) / line.length)));
    const child = spawn(
      'sh',
      [
        '-c',
        `ulimit -f ${limitKib} && exec "$0" "$@"`,
        process.execPath,
        BIN,
        'snapshot',
        '--db',
        'full.db',
        '--no-export',
      ],
      { cwd: ws.dir.path, env: cliEnv(ws.env, { SUBMIGRATE_TRACE: trace }) },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const result = await new Promise<CliResult>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr })),
    );
    expect(stderr).toMatch(
      /^warning: SUBMIGRATE_TRACE .*full\.jsonl: cannot write it \(EFBIG[^\n]*\); it holds no request from here on/m,
    );
    expect(stderr).not.toMatch(/check the network/);
    expect(result.code, stderr).toBe(0);
  });
});
