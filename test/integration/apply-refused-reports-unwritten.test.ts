/**
 * An apply that stops with an error still writes its run's reports; when they cannot be
 * written either, the error the user is told is the run's own, and they are also told that the
 * reports were not written: after a killed apply, nothing else says that `reports/<run>/`
 * holds no report of the run (built CLI, emulator over HTTP).
 */

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe('an apply refused after a killed one, whose reports cannot be written', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }] }, NOW);

  it('says so beside the refusal', async () => {
    const { env, dir, cli } = ws;
    const db = dir.file('a.db');
    const plan = dir.file('a.plan.json');
    writeFileSync(dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    const planned = await cli(['plan', '--mapping', dir.file('m.csv'), '--db', db, '--out', plan]);
    expect(planned.code, planned.stderr).toBe(0);

    // Killed with the subaccount made and the transfer held: run 1 has no reports.
    const killed = await killApplyAtHeldWrite(env, dir.path, plan, db, 1);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(env);
    const reports = join(dir.path, 'reports', '1');
    expect(existsSync(join(reports, 'audit.json'))).toBe(false);

    // The reports cannot be written (a folder where audit.csv goes), and the account drifted
    // (a second subaccount with the customer's name): apply refuses.
    mkdirSync(join(reports, 'audit.csv'));
    await env.seed({ subaccounts: [{ friendly_name: 'Acme' }] });
    const refused = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toMatch(/^refused: the account changed since the plan was made/m);
    expect(refused.stderr).toContain(`the reports of apply run 1 were not written`);
    expect(refused.stderr).toContain(join(reports, 'audit.csv'));
    expect(existsSync(join(reports, 'audit.json'))).toBe(false);
  }, 60_000);
});
