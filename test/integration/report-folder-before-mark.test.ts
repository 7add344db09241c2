/**
 * Report folders that an earlier submigrate wrote, before the `.submigrate-report`
 * mark existed, are submigrate's own output. `report`, `reconcile` and a resumed `apply` must
 * go on writing into them (docs/commands.md: files the commands write replace "only files
 * submigrate wrote"), not refuse them as someone else's.
 */

import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { migrateOnce, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N1 = '+14155550101';
const R1 = '+16505550001';

describe('a reports folder written before the mark existed', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: N1 }],
      messages: [seededStop(R1, N1, NOW - 10 * DAY)],
    },
    NOW,
  );
  const { cli } = ws;
  const db = () => ws.dir.file('o.db');
  const runDir = () => join(ws.dir.path, 'reports', '1');
  /** What the version before the mark left: the same report files, no mark. */
  const asOlderVersionLeftIt = () => rmSync(join(runDir(), '.submigrate-report'), { force: true });

  beforeAll(async () => {
    await migrateOnce(ws, db(), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
    expect(readdirSync(runDir())).toContain('report.html');
  });

  it("report (default folder reports/<run id>) writes the run's reports again", async () => {
    asOlderVersionLeftIt();
    const result = await cli(['report', '--db', db(), '--run', '1']);
    expect(result.code, result.stderr).toBe(0);
  });

  it("reconcile writes violations.csv beside the run's reports", async () => {
    asOlderVersionLeftIt();
    rmSync(join(runDir(), 'violations.csv'), { force: true });
    const result = await cli(['reconcile', '--db', db()]);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(runDir(), 'violations.csv'))).toBe(true);
  });

  it('apply of the same plan again (a resumed or repeated run) ends with its reports', async () => {
    asOlderVersionLeftIt();
    const result = await cli(['apply', ws.dir.file('m.plan.json'), '--db', db(), '--rate', '1000']);
    expect(result.code, result.stderr).toBe(0);
  });
});
