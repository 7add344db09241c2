/**
 * `status` names the run that came after a stopped one only when that run changed something:
 * a run of another plan refused before its first step (its reports folder is someone else's)
 * wrote nothing, and the stopped run is still continued by applying its plan again.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';
const N2 = '+14155550102';

describe('status of a stopped run that a refused run of another plan came after', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }, { phone_number: N2 }] }, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('s.db');

  it('still says that applying its plan continues it', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\nacme,Acme,${N2}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const plan = ws.dir.file('m.plan.json');
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db: db(), out: plan });

    const killed = await killApplyAtHeldWrite(ws.env, ws.dir.path, plan, db(), 1, ['POST']);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(ws.env);

    // Another plan, whose run's reports folder holds a file of someone else's: refused before
    // its first step, it changed nothing.
    const again = ws.dir.file('m2.plan.json');
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db: db(), out: again });
    mkdirSync(join(ws.dir.path, 'reports', '2'), { recursive: true });
    writeFileSync(join(ws.dir.path, 'reports', '2', 'notes.txt'), 'mine\n');
    const refused = await cli(['apply', again, '--db', db(), '--rate', '1000']);
    expect(refused.code).not.toBe(0);

    const status = await cli(['status', '--db', db()]);
    expect(status.stdout).toMatch(
      /^run 1 {2}stopped .*`submigrate apply` with the plan continues it$/m,
    );
    expect(status.stdout).not.toContain('run 2 (another plan) came after it');
    const json = JSON.parse((await cli(['status', '--db', db(), '--json'])).stdout) as {
      runs: { followedBy: number | null }[];
    };
    expect(json.runs[0]?.followedBy).toBeNull();
  });
});
