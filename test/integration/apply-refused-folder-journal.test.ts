/**
 * `apply` refuses a reports folder holding files it did not write before it sends anything,
 * and, for a run it continues, before it reopens the run: the refusal leaves a run that ended
 * `failed` as it was (not finished again, its failed step still failed with its reason), so
 * `status` and a report written elsewhere still say what failed. Once the folder is fixed, the
 * run continues.
 */

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N1 = '+14155550101';
const R1 = '+16505550001';

interface AuditJson {
  run: { id: number; status: string; finished_at: string | null };
  steps: { id: string; state: string }[];
}

describe('apply refused by its reports folder leaves the journal as it was', () => {
  const ws = useCliWorkspace(undefined, NOW);
  const { cli } = ws;
  const db = () => ws.dir.file('o.db');
  const runDir = () => join(ws.dir.path, 'reports', '1');
  const audit = async (out: string): Promise<AuditJson> => {
    const written = await cli(['report', '--db', db(), '--run', '1', '--out', out]);
    expect(written.code, written.stderr).toBe(0);
    return JSON.parse(readFileSync(join(out, 'audit.json'), 'utf8')) as AuditJson;
  };

  beforeAll(async () => {
    // The customer's subaccount exists (matched by name) and has no Consent API access:
    // the carry step fails, the run ends `failed` (exit 3).
    const seeded = await ws.env.seed({ subaccounts: [{ friendly_name: 'Acme' }] });
    await ws.env.seed({
      numbers: [{ phone_number: N1 }],
      messages: [
        {
          from: R1,
          to: N1,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 10 * DAY).toISOString(),
        },
      ],
    });
    await ws.env.control('POST', '/__emulator/settings', {
      account_sid: seeded.subaccounts[0]!.sid,
      consent_api: false,
    });
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    const planned = await cli([
      'plan',
      '--mapping',
      ws.dir.file('m.csv'),
      '--db',
      db(),
      '--out',
      ws.dir.file('m.plan.json'),
      '--carry-optouts',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const applied = await cli([
      'apply',
      ws.dir.file('m.plan.json'),
      '--db',
      db(),
      '--rate',
      '1000',
    ]);
    expect(applied.code, applied.stderr).toBe(3);
  });

  it('a refused re-run keeps the run failed and its failed step failed', async () => {
    const before = await audit(ws.dir.file('before'));
    expect(before.run.status).toBe('failed');
    expect(before.steps.find((s) => s.id === 'carry_optouts:acme')?.state).toBe('failed');

    // As a version before the mark left the folder, with a reviewer's notes put in it.
    rmSync(join(runDir(), '.submigrate-report'));
    writeFileSync(join(runDir(), 'notes.txt'), 'checked by legal on Monday\n');
    const refused = await cli([
      'apply',
      ws.dir.file('m.plan.json'),
      '--db',
      db(),
      '--rate',
      '1000',
    ]);
    expect(refused.stderr).toMatch(/already holds files submigrate did not write/);
    // Said once: the reports were refused for the very reason the run was.
    expect(refused.stderr).not.toContain('also:');
    expect(refused.code).toBe(1);

    const after = await audit(ws.dir.file('after'));
    expect.soft(after.run.status).toBe('failed');
    expect.soft(after.run.finished_at).toBe(before.run.finished_at);
    expect.soft(after.steps.find((s) => s.id === 'carry_optouts:acme')?.state).toBe('failed');

    // Once the folder is fixed, apply goes on from where the run stood.
    rmSync(join(runDir(), 'notes.txt'));
    const again = await cli(['apply', ws.dir.file('m.plan.json'), '--db', db(), '--rate', '1000']);
    expect(again.stdout).toMatch(/\(continued\)/);
    expect(again.code).toBe(3);
  });
});
