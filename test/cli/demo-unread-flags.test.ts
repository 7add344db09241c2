/**
 * A global flag a command does not read, typed anyway: `demo --db mine.db` ran the whole demo
 * with its own database in its --out folder and said nothing of the one named, so the user
 * looked for the demo's database where it never was. The demo (and the emulator, which keeps
 * no database) refuses such a flag before anything runs, saying where its database is, and
 * touches no file: not the one named (a file that is not a submigrate database stays as it
 * was), not its --out folder. SUBMIGRATE_DB in the environment is every command's default,
 * not a flag typed for the demo: it is not refused. Built CLI.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli, tempDir, type CliResult } from '../support/snapshot-harness.js';

const dir = tempDir();
afterAll(() => dir.remove());
const env = { PATH: process.env['PATH']! };

function expectRefused(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('a flag the command does not read, typed anyway', () => {
  it('demo --db FILE: refused, naming where the demo keeps its database; nothing made', async () => {
    const here = dir.file('db-new');
    for (const args of [
      ['demo', '--db', 'mine.db', '--out', 'demo-here', '--messages', '3000'],
      ['--db', 'mine.db', 'demo', '--out', 'demo-here'],
      ['demo', '--db=mine.db'],
    ]) {
      mkdirSync(here, { recursive: true });
      const result = await runCli(args, env, here);
      expectRefused(
        result,
        /^error: demo takes no --db: the demo keeps its own database, demo\.db in its --out folder \(\.\/submigrate-demo unless given --out\), made anew at every rehearsal, .*give --out DIR to choose where it goes\. Nothing was run; `submigrate demo --help` lists its options$/,
      );
      expect(readdirSync(here), args.join(' ')).toEqual([]);
    }
  });

  it('demo --db naming a file that is not a submigrate database: refused, the file untouched', async () => {
    const file = dir.file('notes.txt');
    writeFileSync(file, 'my own notes\n');
    const result = await runCli(['demo', '--db', file, '--out', dir.file('d2')], env, dir.path);
    expectRefused(result, /^error: demo takes no --db: /);
    expect(readFileSync(file, 'utf8')).toBe('my own notes\n');
    expect(existsSync(dir.file('d2'))).toBe(false);
  });

  it('demo --api-url and --json: refused, saying why', async () => {
    expectRefused(
      await runCli(['demo', '--api-url', 'http://127.0.0.1:9'], env, dir.path),
      /^error: demo takes no --api-url: the demo sends its requests to the emulator it starts itself\. Nothing was run/,
    );
    expectRefused(
      await runCli(['demo', '--json'], env, dir.path),
      /^error: demo takes no --json: the demo tells its story in text only\. Nothing was run/,
    );
  });

  it('emulator --db: refused before it listens', async () => {
    expectRefused(
      // A scenario that is not there: an emulator that read on past --db stops there at once
      // with that error, rather than serving until it is stopped.
      await runCli(
        ['emulator', '--port', '0', '--db', 'x.db', '--scenario', 'no-such.json'],
        env,
        dir.path,
      ),
      /^error: emulator takes no --db: the emulator keeps no database/,
    );
    expect(existsSync(join(dir.path, 'x.db'))).toBe(false);
  });

  it('SUBMIGRATE_DB in the environment is not refused: the demo reads on to its own flags', async () => {
    // --seed abc is refused after the flags the demo does not read are looked at: the error
    // is the seed's, so SUBMIGRATE_DB did not count as a --db typed for the demo.
    const result = await runCli(
      ['demo', '--seed', 'abc', '--out', 'd3'],
      { ...env, SUBMIGRATE_DB: dir.file('env.db') },
      dir.path,
    );
    expectRefused(result, /^error: --seed "abc" is not a number$/);
    expect(existsSync(dir.file('env.db'))).toBe(false);
  });
});
