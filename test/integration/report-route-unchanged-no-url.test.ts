/**
 * A number with no webhook and no service: its inbound was logged only before the move and is
 * logged only after it. apply says it reaches where it did; audit.csv marked it `[none]` and
 * report.html counted it, in red, among the "inbound routes changed" (built CLI, emulator over
 * HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { planAndApply, readCsv, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550701';

describe('the route of a number that had no webhook and still has none', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: N1 }] }, NOW);

  it('is not reported as changed', async () => {
    const db = ws.dir.file('m.db');
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`,
    );
    expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
    const { applied } = await planAndApply(ws.cli, {
      mapping: ws.dir.file('m.csv'),
      db,
      out: ws.dir.file('m.plan.json'),
    });
    expect(applied.stdout).toMatch(/Inbound routes: 1 of 1 moved numbers reach where they did/);

    const reports = join(ws.dir.path, 'reports', '1');
    const [row] = readCsv(join(reports, 'audit.csv'));
    expect([row!.inbound_route_before, row!.inbound_route_after]).toEqual([
      'no webhook (logged only)',
      'no webhook (logged only)',
    ]);
    const page = readFileSync(join(reports, 'report.html'), 'utf8');
    expect(page).toMatch(
      /<div class="figure" data-figure="routes-changed">\s*<span class="value">0<\/span>/,
    );
  }, 60_000);
});
