/**
 * Report folders that earlier versions wrote into `reports/<run id>/`, before the
 * `.submigrate-report` mark existed, are submigrate's own: `report`, `reconcile` and a resumed
 * `apply` write into them again. Their files had other columns then (the lists without the
 * evidence columns, audit.csv without the inbound routes, violations.csv without evidence),
 * a killed write may have left `.<file>.<pid>.tmp` beside them, and a first write killed early
 * may have left audit.csv without audit.json. Each case rewrites a fresh run's folder as such
 * a version left it (same rows, the columns it had then, no mark).
 */

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { migrateOnce, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N1 = '+14155550101';
const R1 = '+16505550001';

describe('a reports folder an older version wrote (before the mark, older columns)', () => {
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

  /** Rewrites a CSV of the run's folder without `drop` columns, as an older version wrote it. */
  const withoutColumns = (file: string, drop: readonly string[]) => {
    const path = join(runDir(), file);
    const rows = parse(readFileSync(path, 'utf8')) as string[][];
    const header = rows[0]!;
    for (const column of drop) expect(header).toContain(column);
    const keep = header.map((c, i) => (drop.includes(c) ? -1 : i)).filter((i) => i >= 0);
    writeFileSync(
      path,
      stringify(
        rows.map((row) => keep.map((i) => row[i])),
        { record_delimiter: 'unix' },
      ),
      { mode: 0o600 },
    );
  };

  beforeAll(async () => {
    await migrateOnce(ws, db(), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
    // A reconcile pass, so that the run's folder holds violations.csv too.
    const reconciled = await cli(['reconcile', '--db', db()]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
  });

  beforeEach(async () => {
    // A fresh, complete folder of the current version; then the mark goes, as before 5a3c70b.
    rmSync(runDir(), { recursive: true, force: true });
    const fresh = await cli(['report', '--db', db(), '--run', '1']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(existsSync(join(runDir(), 'optouts', 'acme.csv'))).toBe(true);
    expect(existsSync(join(runDir(), 'violations.csv'))).toBe(true);
    rmSync(join(runDir(), '.submigrate-report'));
  });

  it('control: the same folder with the current columns (mark removed) is recognised', async () => {
    const result = await cli(['report', '--db', db(), '--run', '1']);
    expect(result.code, result.stderr).toBe(0);
  });

  it('suppression lists without the evidence columns (every version before e34de21): report writes again', async () => {
    for (const file of ['optouts.csv', 'optouts/acme.csv']) {
      withoutColumns(file, ['evidence', 'evidence_message_sid']);
    }
    const result = await cli(['report', '--db', db(), '--run', '1']);
    expect(result.stderr).not.toMatch(/did not write/);
    expect(result.code).toBe(0);
  });

  it('audit.csv without the inbound route columns (versions before 7a01bed): report writes again', async () => {
    withoutColumns('audit.csv', ['inbound_route_before', 'inbound_route_after']);
    const result = await cli(['report', '--db', db(), '--run', '1']);
    expect(result.stderr).not.toMatch(/did not write/);
    expect(result.code).toBe(0);
  });

  it('violations.csv without the evidence columns (b4bd39d..da64090): reconcile writes again', async () => {
    withoutColumns('violations.csv', ['evidence', 'evidence_message_sid']);
    const result = await cli(['reconcile', '--db', db()]);
    expect(result.stderr).not.toMatch(/did not write/);
    expect(result.code).toBe(0);
  });

  it('a temp file a killed write left beside the reports (.audit.csv.<pid>.tmp): report writes again', async () => {
    writeFileSync(join(runDir(), '.audit.csv.4242.tmp'), 'customer_id,customer_name,phone', {
      mode: 0o600,
    });
    const result = await cli(['report', '--db', db(), '--run', '1']);
    expect(result.stderr).not.toMatch(/did not write/);
    expect(result.code).toBe(0);
  });

  it('a folder whose first write was killed after audit.csv (audit.json not yet there): report writes again', async () => {
    // An older version wrote audit.csv first, then audit.json (reportFiles' order).
    const later = ['audit.json', 'carry.csv', 'violations.csv', 'optouts.csv', 'optouts'];
    for (const entry of [...later, 'coverage.txt', 'report.html']) {
      rmSync(join(runDir(), entry), { recursive: true, force: true });
    }
    const result = await cli(['report', '--db', db(), '--run', '1']);
    expect(result.stderr).not.toMatch(/did not write/);
    expect(result.code).toBe(0);
  });
});
