/**
 * A run that continues (its carry failed: no Consent API access) after a snapshot found
 * opt-outs the plan does not carry: apply refuses it, exit 4, sending nothing, as long as a
 * customer with such opt-outs still has its carry to come; opt-outs of a customer whose carry
 * the run has already done do not hold the run back (refusing would not carry them): apply
 * finishes and notes them, and a plan made after the run carries them. Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  clearRequestLog,
  requestLog,
  startTestEmulator,
  type TestEmulator,
} from '../support/emulator.js';
import { makePlan } from '../support/migration.js';
import { cliEnv, runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const [NA, NB] = ['+14155550101', '+14155550102'];

describe('apply continuing a run after a snapshot found opt-outs the plan does not carry (built CLI)', () => {
  let env: TestEmulator;
  let dir: TempDir;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => NOW });
  });
  afterAll(async () => {
    await env.close();
  });
  // Each test's run 1 has a folder of its own for its reports.
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  /**
   * Acme's carry done, Birch's failed (no Consent API access): run 1 of a fresh database, made
   * before a snapshot read the history older than the Messages API shows (moved with
   * --allow-missing-snapshot). `old` are STOPs from that history, which `snapshot` then finds.
   */
  async function halfCarried(old: [from: string, to: string][]) {
    await env.control('POST', '/__emulator/reset');
    const at = (days: number) => new Date(NOW - days * 86_400_000).toISOString();
    const { subaccounts } = await env.seed({
      subaccounts: [{ friendly_name: 'Acme' }, { friendly_name: 'Birch' }],
      numbers: [{ phone_number: NA }, { phone_number: NB }],
      messages: [
        { from: '+12065550001', to: NA, date_sent: at(5) },
        { from: '+12065550003', to: NB, date_sent: at(5) },
        ...old.map(([from, to]) => ({ from, to, date_sent: at(500) })),
      ].map((m) => ({ ...m, body: 'STOP', direction: 'inbound' })),
    });
    const birch = subaccounts[1]!.sid;
    await env.control('POST', '/__emulator/settings', { account_sid: birch, consent_api: false });
    const mapping = dir.file('m.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${NA},acmeAlerts\nbirch,Birch,${NB},birchAlerts\n`,
    );
    const db = dir.file('s.db');
    const plan = dir.file('s.plan.json');
    const snap = await cli(['snapshot', '--no-export', '--retention-days', '7', '--db', db]);
    expect(snap.code, snap.stderr).toBe(0);
    const planned = await makePlan(cli, {
      mapping,
      db,
      out: plan,
      plan: ['--carry-optouts'],
    });
    expect(planned.stdout).toContain('2 opt-out records to carry');
    const first = await cli([
      'apply',
      plan,
      '--db',
      db,
      '--rate',
      '1000',
      '--allow-missing-snapshot',
    ]);
    expect(first.code, first.stdout + first.stderr).toBe(3);
    expect(first.stderr).toContain('failed: carry_optouts:birch');
    await env.control('POST', '/__emulator/settings', { account_sid: birch, consent_api: true });
    // The history older than the Messages API shows, read from Bulk Export.
    const full = await cli(['snapshot', '--db', db]);
    expect(full.code, full.stderr).toBe(0);
    return { db, plan };
  }

  it('refuses, sending nothing, while a customer with such opt-outs has its carry still to come', async () => {
    const { db, plan } = await halfCarried([
      ['+12065550002', NA],
      ['+12065550004', NB],
    ]);
    await clearRequestLog(env);
    const again = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(again.code, again.stdout + again.stderr).toBe(4);
    // Birch's carry is still to come; Acme's is done, and refusing would not carry its one.
    expect(again.stderr).toContain(
      "the ledger now holds 1 opt-out record(s) (birch: 1) for this plan's numbers that the plan does not carry",
    );
    expect(again.stderr).toContain('Nothing was written.');
    expect(again.stderr).toContain('Make the plan again, from the folder it was made in');
    expect((await requestLog(env)).filter((e) => e.method !== 'GET')).toEqual([]);
  });

  it('does not hold the run back over a customer whose carry is done: it finishes, and notes them', async () => {
    const { db, plan } = await halfCarried([['+12065550002', NA]]);
    await clearRequestLog(env);
    const again = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stderr).toContain(
      'note: the ledger now holds 1 opt-out record(s) (acme: 1) that this plan does not carry, for customers whose carry this run had already done: make the plan again once this run is over, and apply it, to carry them',
    );
    expect((await requestLog(env)).filter((e) => e.method !== 'GET').map((e) => e.path)).toEqual([
      '/v1/Consents/Bulk',
    ]);
  });
});
