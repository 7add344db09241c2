/**
 * An apply with --allow-missing-snapshot and no snapshot at all: its reports hold no suppression
 * list (coverage.txt says why). The engineer reading the terminal, not the folder, must be told
 * so by apply and by `report`, in text and in --json, not shown a list of files that reads as
 * complete. Built CLI, emulator over HTTP.
 */

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { planAndApply, useCliWorkspace } from '../support/migration.js';

const NUMBER = '+14155550141';

describe('reports with no suppression list (no snapshot, the gate overridden)', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: NUMBER }] });

  it('are written with a warning from apply and from report, in text and --json', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${NUMBER}\n`,
    );
    const { applied } = await planAndApply(ws.cli, {
      mapping: 'm.csv',
      db: 'a.db',
      out: 'a.plan.json',
      plan: ['--no-snapshot'],
      apply: ['--allow-missing-snapshot'],
    });
    const warning =
      /^warning: no suppression list in the reports: no completed snapshot has read any account/m;
    expect(applied.stderr).toMatch(warning);
    expect(applied.stderr).toContain('`submigrate report --run 1`');
    expect(existsSync(join(ws.dir.path, 'reports', '1', 'optouts.csv'))).toBe(false);

    const report = await ws.cli(['report', '--db', 'a.db', '--out', 'again']);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toMatch(warning);
    const json = await ws.cli(['report', '--db', 'a.db', '--out', 'again', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const told = JSON.parse(json.stdout) as { listWarnings: string[] };
    expect(told.listWarnings).toHaveLength(1);
    expect(told.listWarnings[0]).toMatch(/^no suppression list in the reports/);
  });
});
