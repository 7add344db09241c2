/**
 * Numbers a customer's mapping takes out of another subaccount (X), from a Messaging
 * Service there. The plan reads X's services (X owns mapped numbers) and puts that service's
 * settings in its fingerprint (`service:MG…`, every COPIED_SETTINGS value since 7c0bd34).
 * Once the numbers have left X, apply no longer reads X's services (observeFamily without X
 * touched), so the service looks gone: a resumed apply of the same plan, or a plan made again
 * after the apply stopped (the number planned from its origin in X), is refused as drift
 * (exit 4) though nobody changed anything.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { beforeEach, describe, expect, it } from 'vitest';

import { readPlan } from '../../src/plan/plan-file.js';
import { useCliWorkspaceEach } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';
const N2 = '+14155550102';

describe('numbers moved out of a service in another subaccount: no false drift', () => {
  const ws = useCliWorkspaceEach(undefined, NOW);
  const { cli } = ws;
  let legacy: string;
  const db = () => ws.dir.file('d.db');
  const mapping = () => ws.dir.file('m.csv');

  beforeEach(async () => {
    const seeded = await ws.env.seed({ subaccounts: [{ friendly_name: 'Legacy' }] });
    legacy = seeded.subaccounts[0]!.sid;
    await ws.env.seed({
      numbers: [
        { phone_number: N1, account_sid: legacy },
        { phone_number: N2, account_sid: legacy },
      ],
      services: [
        {
          friendly_name: 'Legacy SMS',
          account_sid: legacy,
          inbound_request_url: 'https://app.example/legacy',
          phone_numbers: [N1, N2],
        },
      ],
    });
    writeFileSync(
      mapping(),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\nacme,Acme,${N2}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
  });

  const plan = async (out: string) => {
    const made = await cli(['plan', '--mapping', mapping(), '--db', db(), '--out', out]);
    expect(made.code, made.stderr).toBe(0);
    return readPlan(out, readFileSync(out, 'utf8'));
  };

  it('apply killed after the transfers, then resumed: not refused as drift', async () => {
    const file = ws.dir.file('p.json');
    const planned = await plan(file);
    const service = [...planned.observed.keys()].find((k) => k.startsWith('service:'));
    expect(service).toBeDefined();
    // Writes, one at a time: the subaccount, both detaches, both transfers; the sixth (a
    // webhook) is held, the process killed, and the held write then takes effect.
    await killApplyAtHeldWrite(ws.env, ws.dir.path, file, db(), 5);
    await releaseHeld(ws.env);
    const state = await ws.env.state();
    for (const phone of [N1, N2]) {
      expect(state.numbers.find((n) => n.phone_number === phone)!.account_sid).not.toBe(legacy);
    }
    const resumed = await cli(['apply', file, '--db', db(), '--rate', '1000']);
    expect(resumed.stderr).not.toMatch(/changed since the plan was made/);
    expect(resumed.code).toBe(0);

    // Finished: each number answers on the URL its old service routed it to.
    const after = await ws.env.state();
    for (const phone of [N1, N2]) {
      expect(after.numbers.find((n) => n.phone_number === phone)).toMatchObject({
        sms_url: 'https://app.example/legacy',
      });
    }
  });

  it('a plan made again after that stop (numbers planned from their origin in Legacy) applies', async () => {
    const first = ws.dir.file('p1.json');
    await plan(first);
    await killApplyAtHeldWrite(ws.env, ws.dir.path, first, db(), 5);
    await releaseHeld(ws.env);
    const second = ws.dir.file('p2.json');
    const again = await plan(second);
    expect([...again.observed.keys()].some((k) => k.startsWith('service:'))).toBe(true);
    const applied = await cli(['apply', second, '--db', db(), '--rate', '1000']);
    expect(applied.stderr).not.toMatch(/changed since the plan was made/);
    expect(applied.code).toBe(0);

    // Finished: each number answers on the URL its old service routed it to.
    const after = await ws.env.state();
    for (const phone of [N1, N2]) {
      expect(after.numbers.find((n) => n.phone_number === phone)).toMatchObject({
        sms_url: 'https://app.example/legacy',
      });
    }
  });
});
