/**
 * `report` while the apply of that run is under way (another terminal in the maintenance
 * window): the run's folder is the apply's to write when it ends. Written now, the reports
 * show the run half way (steps pending, in flight) and, written after the apply's own, would
 * stand as the record of a migration that completed. `report` is refused there, and writes
 * the run as it stands only where it is told to (`--out`); `reconcile` records its pass and
 * leaves the folder to the apply. Built CLI, emulator over HTTP.
 */

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { planOneCustomer, useCliWorkspace } from '../support/migration.js';
import { releaseHeld, startApplyHeldAtWrite } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NUMBERS = ['+14155550101', '+14155550102'];

describe('report while the run it reports is under way', () => {
  const ws = useCliWorkspace({ numbers: NUMBERS.map((phone) => ({ phone_number: phone })) }, NOW);

  it("is refused in the run's folder, and leaves it to the apply", async () => {
    const { env, dir, cli } = ws;
    await planOneCustomer(ws, NUMBERS);

    // The subaccount is made and the first number moved; the second transfer is held.
    const apply = await startApplyHeldAtWrite(env, dir.path, 'a.plan.json', 'a.db', 2);
    try {
      const runDir = join(dir.path, 'reports', '1');
      const report = await cli(['report', '--db', 'a.db']);
      expect(report.stderr).toMatch(
        /^refused: apply run 1 is under way \(pid \d+ on [^,]+, since [^)]+\): it writes reports\/1\/ itself when it ends/,
      );
      expect(report.code).toBe(4);
      expect(readdirSync(runDir)).toEqual(['.submigrate-report']);

      // reconcile leaves the folder to the apply too, and says so; its pass is recorded.
      const reconciled = await cli(['reconcile', '--db', 'a.db']);
      expect(reconciled.code, reconciled.stderr).toBe(0);
      expect(reconciled.stderr).toContain(
        'reports/1/ not written now: apply run 1 is under way, and writes its reports there',
      );
      expect(reconciled.stdout).toMatch(/^reconcile pass 1: /);
      expect(readdirSync(runDir)).toEqual(['.submigrate-report']);

      // As it stands, where asked: said to be the run part way, and not a success.
      const elsewhere = await cli(['report', '--db', 'a.db', '--out', 'half-way']);
      expect(elsewhere.stderr).toMatch(
        /^warning: apply run 1 is under way \(pid \d+ on [^,]+, since [^)]+\): these reports show it part way, not its result; it writes its own reports when it ends/m,
      );
      expect(elsewhere.code).toBe(3);
      expect(existsSync(dir.file('half-way/report.html'))).toBe(true);
      const json = await cli(['report', '--db', 'a.db', '--out', 'half-way', '--json']);
      expect(json.code).toBe(3);
      expect((JSON.parse(json.stdout) as { status: string }).status).toBe('running');
    } finally {
      await releaseHeld(env);
    }
    const applied = await apply.done;
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/Completed\. Reports: reports\/1\//);

    // Once the apply has let go, `report` writes the run's folder again, the run's result.
    const after = await cli(['report', '--db', 'a.db']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).not.toMatch(/part way/);
  }, 90_000);
});
