/**
 * A number that cannot join the customer's service (the service's pool of 400 is full) does
 * not keep the customer's opt-outs out of Twilio: the carry depends only on the subaccount and
 * the service its records name, so it runs, and Twilio refuses the opted-out end users in the
 * subaccount although apply exits 3 for the failed attach (built CLI, emulator over HTTP).
 */

import { describe, expect, it } from 'vitest';

import { emulatorOptOuts } from '../support/emulator.js';
import { ANN, useFullPool } from '../support/full-pool.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('a failed attach does not hold back the carry', () => {
  // 399 held: the first moving number joins the service, the second finds it full.
  const pool = useFullPool(399, NOW);
  const { cli } = pool;

  it('the carry runs, and Twilio holds the opt-out in the subaccount', async () => {
    const { planned, applied, db } = await pool.planCarryAndApply();
    expect(planned.stdout).toContain('401 numbers for the existing service');
    expect(applied.code).toBe(3);
    expect(applied.stderr).toMatch(/attach_number:PN\w+: .*21714/);
    const status = await cli(['status', '--db', db, '--run', '1', '--json']);
    const steps = (JSON.parse(status.stdout) as { steps: { stepId: string; state: string }[] })
      .steps;
    expect(steps.find((s) => s.stepId === 'carry_optouts:acme')?.state).toBe('done');

    const state = await pool.env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const carried = (await emulatorOptOuts(pool.env)).filter(
      (o) => o.source === 'consent-api' && o.account_sid === sub,
    );
    expect(carried.map((o) => o.recipient)).toEqual([ANN]);
  }, 60_000);
});
