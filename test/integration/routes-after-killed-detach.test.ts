/**
 * `routes` after an apply killed with a number's first step in flight: the write may have
 * taken effect (the number has left the shared service whose URL its inbound messages went
 * to, and now reaches no webhook), so the number is checked where it is, not left out of a
 * "0 of 0 moved numbers" that exits 0 (built CLI, emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const N1 = '+14155550101';

describe('routes after an apply killed with a detach in flight', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: N1 }],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [N1],
          inbound_request_url: 'https://app.example/inbound',
        },
      ],
    },
    NOW,
  );

  it('checks the number and names its lost route', async () => {
    const { env, dir, cli } = ws;
    const db = dir.file('a.db');
    const plan = dir.file('a.plan.json');
    writeFileSync(dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`);
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: dir.file('m.csv'), db, out: plan });

    // The subaccount is made; the detach is held, apply killed, and the detach let through.
    const killed = await killApplyAtHeldWrite(env, dir.path, plan, db, 1);
    expect(killed.signal).toBe('SIGKILL');
    await releaseHeld(env);
    const state = await env.state();
    expect(state.services.find((s) => s.friendly_name === 'Shared')?.phone_numbers).toEqual([]);

    const routes = await cli(['routes', '--db', db]);
    expect(routes.stdout).toMatch(
      /^LOST {2}\+14155550101 {2}acme {2}POST https:\/\/app\.example\/inbound/m,
    );
    expect(routes.code, routes.stdout).toBe(3);
  }, 60_000);
});
