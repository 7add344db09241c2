/**
 * `plan --out` in a folder that does not exist is refused before anything happens: no request,
 * no database, no mapping recorded. It used to be found only when the plan was written, after
 * the whole account had been read and the mapping recorded. Needs `npm run build`.
 */

import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const A = '+14155550101';

describe('plan --out in a missing folder', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: A }] });
  const { cli } = ws;

  it('is refused in one line before any request or database', async () => {
    const mapping = ws.dir.file('m.csv');
    writeFileSync(mapping, `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    const db = ws.dir.file('p.db');
    await clearRequestLog(ws.env);
    const result = await cli([
      'plan',
      '--mapping',
      mapping,
      '--db',
      db,
      '--out',
      ws.dir.file('missing/p.plan.json'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the folder');
    expect(result.stderr).toContain('does not exist');
    expect(existsSync(db)).toBe(false);
    expect(await requestLog(ws.env)).toEqual([]);
  });

  it('the default folder (plans/) that cannot be made is refused the same way', async () => {
    const mapping = ws.dir.file('m.csv');
    writeFileSync(mapping, `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    // A file where the default folder of plans would be made.
    writeFileSync(ws.dir.file('plans'), 'notes\n');
    const db = ws.dir.file('q.db');
    await clearRequestLog(ws.env);
    const result = await cli(['plan', '--mapping', mapping, '--db', db]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*plans.* is not a folder\.?\n$/);
    expect(existsSync(db)).toBe(false);
    expect(await requestLog(ws.env)).toEqual([]);
  });

  it('the default folder (plans/) is made private, as the plan file in it is', async () => {
    const cwd = ws.dir.file('fresh');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'm.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    const result = await runCli(
      ['plan', '--mapping', 'm.csv', '--db', 'f.db'],
      cliEnv(ws.env),
      cwd,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(statSync(join(cwd, 'plans')).mode & 0o777).toBe(0o700);
    expect(statSync(join(cwd, 'plans', 'm.plan.json')).mode & 0o777).toBe(0o600);
  });
});
