/**
 * A number whose steps were not run because a step they wait on failed (its customer's
 * subaccount could not be created: the parent already has Twilio's 1,000 open subaccounts).
 * Its row in audit.csv must say why it did not move — its own steps have no error — and must
 * not give it a finish time, since none of its steps ran (built CLI, emulator over HTTP).
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { readCsv, useSubaccountLimit } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const [A1, B1] = ['+14155550401', '+14155550402'];

describe('audit.csv of a number not run', () => {
  // 999 open subaccounts: the first customer's is the 1,000th, the second's is refused (21480).
  const { ws, planAcmeAndBeta } = useSubaccountLimit([A1, B1], NOW);

  it('names the failed step it waited on, with its error, and no finish time', async () => {
    const { db, plan } = await planAcmeAndBeta();
    // One step at a time, in the plan's order: Acme's subaccount is made, Beta's refused.
    const applied = await ws.cli(['apply', plan, '--db', db, '--rate', '0', '--concurrency', '1']);
    expect(applied.code, applied.stderr).toBe(3);
    expect(applied.stderr).toMatch(/^failed: create_subaccount:beta: Twilio 21480: /m);

    const reports = join(ws.dir.path, 'reports', '1');
    const rows = readCsv(join(reports, 'audit.csv'));
    expect(rows.map((r) => [r.customer_id, r.status])).toEqual([
      ['acme', 'done'],
      ['beta', 'not_run'],
    ]);
    const beta = rows[1]!;
    expect(beta).toMatchObject({ attempts: '0', started_at: '', finished_at: '' });
    expect(beta.error_code).toBe('21480');
    expect(beta.error_message).toMatch(/^not run: create_subaccount:beta failed: \S/);
    const page = readFileSync(join(reports, 'report.html'), 'utf8');
    expect(page).toContain('21480 not run: create_subaccount:beta failed: ');
  }, 90_000);
});
