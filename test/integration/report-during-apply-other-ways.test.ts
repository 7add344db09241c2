/**
 * The run's folder while its apply is under way is the apply's to write when it ends (see
 * report-during-apply.test.ts). Two other ways wrote it half way: `report --out` naming that
 * very folder, and `reconcile`, which writes the folder of every run that moved numbers.
 * Built CLI, emulator over HTTP.
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550121', '+14155550122'];

describe("the folder of a run under way, written by other means than 'report'", () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it('is left to the apply', async () => {
    const { env, dir, cli } = ws;
    await planOneCustomer(ws, NUMBERS);

    // The subaccount is made and the first number moved; the second transfer is held.
    const apply = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 2);
    try {
      const runDir = join(dir.path, 'reports', '1');

      // reconcile writes no report into it (it tells so), while its pass is recorded.
      const reconciled = await cli(['reconcile', '--db', 'a.db', '--json']);
      expect(readdirSync(runDir)).toEqual(['.submigrate-report']);
      expect(reconciled.stderr).toMatch(/apply run 1 is under way/);
      // --out naming the run's own folder is the run's own folder.
      const same = await cli(['report', '--db', 'a.db', '--out', 'reports/1']);
      expect(same.stderr).toMatch(/^refused: apply run 1 is under way/);
      expect(same.code).toBe(4);
      expect(readdirSync(runDir)).toEqual(['.submigrate-report']);
    } finally {
      await releaseHeld(env);
    }
    const applied = await apply.done;
    expect(applied.code, applied.stderr).toBe(0);
    expect(readdirSync(join(dir.path, 'reports', '1'))).toContain('report.html');
  }, 90_000);
});
