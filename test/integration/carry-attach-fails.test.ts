/**
 * A number that cannot join the customer's service (the service's pool of 400 is full) does
 * not keep the customer's opt-outs out of Twilio: the carry depends only on the subaccount and
 * the service its records name, so it runs, and Twilio refuses the opted-out end users in the
 * subaccount although apply exits 3 for the failed attach (built CLI, emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { emulatorOptOuts, startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { cliEnv, runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const MOVING = ['+14155619001', '+14155619002'];
const HELD = Array.from({ length: 399 }, (_, i) => `+1415560${String(i).padStart(4, '0')}`);
const ANN = '+12065550001';

describe('a failed attach does not hold back the carry', () => {
  let env: TestEmulator;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => NOW });
    const seeded = await env.seed({ subaccounts: [{ friendly_name: 'Acme' }] });
    const sub = seeded.subaccounts[0]!.sid;
    await env.seed({
      numbers: [
        ...MOVING.map((phone) => ({ phone_number: phone })),
        ...HELD.map((phone) => ({ phone_number: phone, account_sid: sub })),
      ],
      services: [
        { friendly_name: 'Shared', phone_numbers: MOVING, use_inbound_webhook_on_number: true },
        {
          friendly_name: 'acmeAlerts',
          account_sid: sub,
          phone_numbers: HELD,
          use_inbound_webhook_on_number: true,
        },
      ],
      messages: [
        {
          from: ANN,
          to: MOVING[0]!,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 86_400_000).toISOString(),
        },
      ],
    });
    dir = tempDir();
  });
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  it('the carry runs, and Twilio holds the opt-out in the subaccount', async () => {
    const mapping = dir.file('map.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number,messaging_service\n${MOVING.map((p) => `acme,Acme,${p},acmeAlerts`).join('\n')}\n`,
    );
    const db = dir.file('a.db');
    const plan = dir.file('a.plan.json');
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    const planned = await cli([
      'plan',
      '--mapping',
      mapping,
      '--db',
      db,
      '--out',
      plan,
      '--carry-optouts',
    ]);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain('401 numbers for the existing service');

    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.code).toBe(3);
    expect(applied.stderr).toMatch(/attach_number:PN\w+: .*21714/);
    const status = await cli(['status', '--db', db, '--run', '1', '--json']);
    const steps = (JSON.parse(status.stdout) as { steps: { stepId: string; state: string }[] })
      .steps;
    expect(steps.find((s) => s.stepId === 'carry_optouts:acme')?.state).toBe('done');

    const state = await env.state();
    const sub = state.accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const carried = (await emulatorOptOuts(env)).filter(
      (o) => o.source === 'consent-api' && o.account_sid === sub,
    );
    expect(carried.map((o) => o.recipient)).toEqual([ANN]);
  }, 60_000);
});
