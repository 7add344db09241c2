/**
 * A run stopped part way (its apply killed), then a run of another plan for other customers
 * (the next wave of the migration): `status` and `report --run` took any later run that sent a
 * step for one that made the stopped run's plan obsolete, told "run 2 (another plan) came
 * after it" and "applying its plan no longer continues it", and named no command. But the
 * drift check of the stopped run's plan looks only at its own numbers, subaccounts and
 * services, which the other wave did not touch: applying that plan again continues the run.
 * Only a later run that sent a step for one of the stopped run's customers (a plan made again
 * for them) now counts; here the command that continues the run is named again, and it does.
 * Built CLI, emulator over HTTP, a real SQLite file.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550171';
const N2 = '+14155550172';
const N3 = '+14155550173';

describe('status of a stopped run after a run of another wave', () => {
  const ws = useCliWorkspace(
    { numbers: [{ phone_number: N1 }, { phone_number: N2 }, { phone_number: N3 }] },
    NOW,
  );
  const { cli } = ws;
  const db = () => ws.dir.file('w.db');

  it('still names the command that continues it, which does', async () => {
    writeFileSync(
      ws.dir.file('acme.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\nacme,Acme,${N2}\n`,
    );
    writeFileSync(
      ws.dir.file('beta.csv'),
      `customer_id,customer_name,phone_number\nbeta,Beta,${N3}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const acme = ws.dir.file('acme.plan.json');
    await makePlan(cli, { mapping: ws.dir.file('acme.csv'), db: db(), out: acme });

    // Acme's apply killed at its first transfer (its subaccount created).
    const killed = await killApplyAtHeldWrite(ws.env, ws.dir.path, acme, db(), 1, ['POST']);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(ws.env);

    // The next wave: beta alone, planned and applied (run 2).
    const beta = ws.dir.file('beta.plan.json');
    await makePlan(cli, { mapping: ws.dir.file('beta.csv'), db: db(), out: beta });
    const second = await cli(['apply', beta, '--db', db(), '--rate', '1000']);
    expect(second.code, second.stderr).toBe(0);

    const status = await cli(['status', '--db', db()]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      /^run 1 {2}stopped .*`submigrate apply .*acme\.plan\.json --db .*w\.db` \(.*acme\.plan\.json as its apply named its plan\) continues it$/m,
    );
    expect(status.stdout).not.toContain('came after it');
    const json = JSON.parse((await cli(['status', '--db', db(), '--json'])).stdout) as {
      runs: { followedBy: number | null }[];
    };
    expect(json.runs.map((r) => r.followedBy)).toEqual([null, null]);
    const report = await cli(['report', '--db', db(), '--run', '1', '--out', 'r1']);
    expect(report.stderr).toContain('continues it and writes its reports');
    expect(report.stderr).not.toContain('no longer continues it');

    // And it does: the same plan applied again continues run 1 and finishes it.
    const continued = await cli(['apply', acme, '--db', db(), '--rate', '1000']);
    expect(continued.code, continued.stderr).toBe(0);
    expect(continued.stdout).toMatch(/^apply run 1 \(continued\)/m);
  });
});
