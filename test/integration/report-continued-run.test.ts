/**
 * A run with a failed step, then the same plan applied again to completion: the step is done
 * and keeps no error, so the reports of the completed run must still say that it failed the
 * first time, and why (audit.json's notes, and report.html, the page a reviewer opens). Built
 * CLI, emulator over HTTP.
 */

import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { MOVING, useFullPool } from '../support/full-pool.js';
import { readCsv } from '../support/migration.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('the reports of a run completed by a second apply', () => {
  // 399 held: the first moving number joins the service, the second does not (21714).
  const pool = useFullPool(399, NOW);

  it('still tell the failure of the first apply, with its error', async () => {
    const { applied, db } = await pool.planCarryAndApply();
    const { env, service, dir } = pool;
    expect(applied.code, applied.stderr).toBe(3);
    expect(applied.stderr).toMatch(/^failed: attach_number:PN\w+: .*21714/m);

    // Room is made in the service by hand, and the same plan is applied again.
    const state = await env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const held = state.numbers.find(
      (n) => n.messaging_service_sid === service && !MOVING.includes(n.phone_number),
    )!;
    const client = ownClient(env, sub);
    await client.messaging.v1.services(service).phoneNumbers(held.sid).remove();
    const again = await pool.cli(['apply', dir.file('a.plan.json'), '--db', db, '--rate', '1000']);
    expect(again.code, again.stderr).toBe(0);

    const reports = dir.file('reports/1');
    expect(readCsv(`${reports}/audit.csv`).map((r) => [r.status, r.error_code])).toEqual([
      ['done', ''],
      ['done', ''],
    ]);
    const audit = JSON.parse(readFileSync(`${reports}/audit.json`, 'utf8')) as {
      run: { status: string; notes: { note: string }[] };
    };
    expect(audit.run.status).toBe('completed');
    const told = /continued: .*1 failed step\(s\): attach_number:PN\w+ \(Twilio 21714: /;
    expect(audit.run.notes.map((n) => n.note)).toEqual([expect.stringMatching(told)]);
    expect(again.stderr).toMatch(told);
    const page = readFileSync(`${reports}/report.html`, 'utf8');
    expect(page).toMatch(/data-run-notes/);
    expect(page).toMatch(told);
  }, 90_000);
});
