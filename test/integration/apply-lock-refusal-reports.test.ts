/**
 * An apply refused because another apply holds the database writes nothing, its run's reports
 * included: the reports it would write are the other process's run half way, and written
 * after that process wrote its own at the end, they would stand as the run's record (status
 * `running`, steps in flight) of a migration that completed. The reports of a run are written
 * by the apply that holds the lock, before it lets go of it (built CLI, emulator over HTTP).
 */

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { startApplyHeldAtWrite } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550101', '+14155550102'];

describe('an apply refused by the lock writes no reports', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('a.db');
  const plan = () => ws.dir.file('a.plan.json');
  const runDir = () => join(ws.dir.path, 'reports', '1');

  beforeAll(async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\n${NUMBERS.map((p) => `acme,Acme,${p}`).join('\n')}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const planned = await cli([
      'plan',
      '--mapping',
      ws.dir.file('m.csv'),
      '--db',
      db(),
      '--out',
      plan(),
    ]);
    expect(planned.code, planned.stderr).toBe(0);
  });

  it('while the first apply is held at a write, the second is refused and leaves its folder alone', async () => {
    // The subaccount is created; the first transfer is held.
    const args = ['apply', plan(), '--db', db(), '--rate', '1000', '--concurrency', '1'];
    const first = await startApplyHeldAtWrite(ws.env, ws.dir.path, plan(), db(), 1);
    try {
      // The first apply claimed its folder before its first write: the mark is all there is.
      expect(readdirSync(runDir())).toEqual(['.submigrate-report']);

      const second = await cli(args);
      expect(second.code).toBe(4);
      expect(second.stderr).toMatch(/^refused: another apply holds this database/);
      expect(readdirSync(runDir())).toEqual(['.submigrate-report']);
    } finally {
      await ws.env.control('POST', '/__emulator/faults', { hold_after: 0, hold_methods: [] });
    }
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    const audit = JSON.parse(readFileSync(join(runDir(), 'audit.json'), 'utf8')) as {
      run: { status: string };
    };
    expect(audit.run.status).toBe('completed');
  });
});
