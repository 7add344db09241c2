/**
 * A wrong auth token is refused at the first request (401 / 20003). `snapshot` and `plan`
 * had already created the database (mode 0600, nothing in it but its schema) and left it
 * there: a stray file for a typo, which a later look takes for a snapshot attempted. A
 * database the command created and wrote nothing into is removed on that failure; one that
 * was there before is kept. Needs `npm run build`.
 */

import { readdirSync, writeFileSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const WRONG = { TWILIO_AUTH_TOKEN: 'f'.repeat(32) };
const NUMBER = '+14155550101';

describe('a wrong auth token leaves no database behind (built CLI)', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: NUMBER }] });
  const cli = (args: string[], extra: Record<string, string | undefined> = {}) =>
    runCli(args, cliEnv(ws.env, extra), ws.dir.path);
  /** The files in the folder whose names begin with `name` (the database, its -wal, -shm). */
  const filesOf = (name: string) => readdirSync(ws.dir.path).filter((f) => f.startsWith(name));

  beforeAll(async () => {
    writeFileSync(
      ws.dir.file('mapping.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${NUMBER}\n`,
    );
  });

  it.each([
    ['snapshot', ['snapshot']],
    ['plan', ['plan', '--mapping', 'mapping.csv']],
    ['plan --no-snapshot', ['plan', '--mapping', 'mapping.csv', '--no-snapshot']],
  ])('%s: the database it created is removed', async (name, args) => {
    const db = `${name.replace(/\W+/g, '-')}.db`;
    const result = await cli([...args, '--db', db], WRONG);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^error: Twilio 20003 \(HTTP 401\)/);
    expect(filesOf(db)).toEqual([]);
  });

  it('a database that was there before is kept, its snapshot with it', async () => {
    const db = 'kept.db';
    const made = await cli(['snapshot', '--db', db, '--no-export']);
    expect(made.code, made.stderr).toBe(0);
    for (const args of [['snapshot'], ['plan', '--mapping', 'mapping.csv']]) {
      const result = await cli([...args, '--db', db], WRONG);
      expect(result.code, result.stderr).toBe(1);
      expect(filesOf(db)).toContain(db);
    }
    const listed = await cli(['optouts', '--db', db]);
    expect(listed.code, listed.stderr).toBe(0);
  });
});
