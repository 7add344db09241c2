/**
 * An apply with failed steps whose reports cannot be written either: what the run did is told
 * first and keeps its exit code, 3 (the run is not complete, a route may be lost), which
 * scripts act on; the reports' error is told after it. Exit 1 would say only that something
 * failed, as if nothing had been sent (built CLI, emulator over HTTP).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const MOVING = ['+14155619001'];
const HELD = Array.from({ length: 400 }, (_, i) => `+1415560${String(i).padStart(4, '0')}`);

describe('an apply with failed steps whose reports cannot be written', () => {
  const ws = useCliWorkspace(undefined, NOW);
  const { cli } = ws;

  beforeAll(async () => {
    const seeded = await ws.env.seed({ subaccounts: [{ friendly_name: 'Acme' }] });
    const sub = seeded.subaccounts[0]!.sid;
    // The customer's service already holds 400 numbers: the moved number cannot join it.
    await ws.env.seed({
      numbers: [
        ...MOVING.map((phone) => ({ phone_number: phone })),
        ...HELD.map((phone) => ({ phone_number: phone, account_sid: sub })),
      ],
      services: [
        {
          friendly_name: 'acmeAlerts',
          account_sid: sub,
          phone_numbers: HELD,
          use_inbound_webhook_on_number: true,
        },
      ],
    });
  });

  it('exits 3, the run told first, then the error', async () => {
    const mapping = ws.dir.file('map.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${MOVING[0]},acmeAlerts\n`,
    );
    const db = ws.dir.file('a.db');
    const plan = ws.dir.file('a.plan.json');
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    const planned = await cli(['plan', '--mapping', mapping, '--db', db, '--out', plan]);
    expect(planned.code, planned.stderr).toBe(0);

    // A folder where audit.csv goes: the folder is taken, the steps run, the reports fail.
    mkdirSync(join(ws.dir.path, 'reports', '1', 'audit.csv'), { recursive: true });
    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.stdout).toMatch(/^apply run 1: .* 1 failed, .* Not complete/m);
    expect(applied.stderr).toMatch(/^failed: attach_number:PN\w+: .*21714/m);
    expect(applied.stderr).toMatch(/^error: the report file .*audit\.csv: cannot write it/m);
    expect(applied.code, applied.stderr).toBe(3);
  }, 60_000);
});
