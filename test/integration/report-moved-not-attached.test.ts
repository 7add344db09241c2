/**
 * Numbers transferred into the customer's subaccount whose attach to its service failed (the
 * service's pool of 400 is full): they have moved — Twilio's state says so, and apply counts
 * them among the moved numbers —, and the parent's opt-outs no longer hold for them.
 * report.html must not say that none moved, which reads as "still where Twilio enforces
 * their opt-outs" (built CLI, emulator over HTTP).
 */

import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { MOVING, useFullPool } from '../support/full-pool.js';
import { readCsv } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('report.html after numbers moved but failed to join the service', () => {
  const pool = useFullPool(400, NOW);

  it('counts them as moved, as apply and the emulator do', async () => {
    const { applied } = await pool.planCarryAndApply();
    expect(applied.code).toBe(3);
    expect(applied.stdout).toMatch(/Inbound routes: 2 of 2 moved numbers/);

    const state = await pool.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    for (const phone of MOVING) {
      expect(state.numbers.find((n) => n.phone_number === phone)!.account_sid).toBe(sub);
    }
    const reports = pool.dir.file('reports/1');
    expect(readCsv(`${reports}/audit.csv`).map((r) => [r.status, r.to_account_sid])).toEqual([
      ['failed', sub],
      ['failed', sub],
    ]);
    const page = readFileSync(`${reports}/report.html`, 'utf8');
    // Counted once, as moved, with the failure of their other step said beside it.
    expect(page).toMatch(
      /<div class="figure alarm" data-figure="numbers-moved">\s*<span class="value">2<\/span><span class="label">numbers moved \(of 2; 2 with a step failed, not run or not finished\)/,
    );
    expect(page).toMatch(
      /data-figure="numbers-not-moved">\s*<span class="value">0<\/span><span class="label">numbers not moved: failed or not run/,
    );
    expect(page).toContain('<td class="num" data-sort="2">2 / 2</td>');
  }, 60_000);
});
