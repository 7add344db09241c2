/**
 * An apply whose steps ran but whose reports cannot be written at the end has still changed
 * the account: what it did (the summary, each failed step, notes such as a leftover to close)
 * is printed all the same, then the error naming the report file, exit 1 (built CLI, emulator
 * over HTTP).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe('an apply whose reports cannot be written', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }] }, NOW);

  it('prints what the run did, then the error', async () => {
    const { dir, cli } = ws;
    const db = dir.file('a.db');
    const plan = dir.file('a.plan.json');
    writeFileSync(dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: dir.file('m.csv'), db, out: plan });

    // A folder where audit.csv goes: the folder is taken (it holds only report names), the
    // steps run, and the first report file cannot be written.
    mkdirSync(join(dir.path, 'reports', '1', 'audit.csv'), { recursive: true });
    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.code).toBe(1);
    expect(applied.stdout).toMatch(/^apply run 1: 2 steps: 2 done, .* Completed\./m);
    expect(applied.stdout).not.toContain('Reports:');
    expect(applied.stderr).toMatch(/^error: the report file .*audit\.csv: cannot write it/m);
    const status = await cli(['status', '--db', db]);
    expect(status.stdout).toMatch(/^run 1 {2}completed/m);
  }, 60_000);
});
