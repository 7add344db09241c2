/**
 * `routes` of a run whose apply was killed part way: a number out of its old service and not
 * yet in its new one is checked as it stands (LOST: its inbound goes to its own sms_url now),
 * and the routes command said only that, exit 3 — an engineer in the maintenance window read
 * the half-made move as the move's result. It now says the run stopped, which numbers are part
 * way, and the command that continues it; once continued, the same check is clean. Built CLI,
 * emulator over HTTP.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const [P1, P2] = ['+14155550601', '+14155550602'];

describe('routes of a run its apply stopped part way', () => {
  const ws = useCliWorkspace(
    {
      numbers: [
        { phone_number: P1, sms_url: 'https://app.example/own/1' },
        { phone_number: P2, sms_url: 'https://app.example/own/2' },
      ],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [P1, P2],
          inbound_request_url: 'https://app.example/in',
        },
      ],
    },
    NOW,
  );

  it('says the run stopped, names the numbers part way and the command that continues it', async () => {
    const { env, dir } = ws;
    const db = dir.file('r.db');
    const plan = dir.file('r.plan.json');
    writeFileSync(
      dir.file('r.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${P1},acmeAlerts\nacme,Acme,${P2},acmeAlerts\n`,
    );
    expect((await ws.cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    const planned = await ws.cli([
      'plan',
      '--mapping',
      dir.file('r.csv'),
      '--db',
      db,
      '--out',
      plan,
    ]);
    expect(planned.code, planned.stderr).toBe(0);

    // The subaccount, its service and the numbers' detaches go through; the first transfer is
    // held, and the apply killed there: both numbers have left the shared service, for their
    // own sms_url, and are in no new one yet.
    const killed = await killApplyAtHeldWrite(env, dir.path, plan, db, 4);
    expect(killed.signal).toBe('SIGKILL');

    const routes = await ws.cli(['routes', '--db', db]);
    expect(routes.code, routes.stderr).toBe(3);
    for (const number of [P1, P2]) {
      expect(routes.stdout).toMatch(
        new RegExp(`^LOST  \\${number}  acme .*\\(diverted; move not finished\\)$`, 'm'),
      );
    }
    expect(routes.stderr).toContain(
      `warning: apply run 1 stopped before it finished (no process is running it): 2 of these 2 numbers are part way through their move (a step not done yet), so their routes are the move half made, not its result; \`submigrate apply r.plan.json --db ${db}\` (r.plan.json as its apply named its plan) continues it and checks their routes itself when its steps are over`,
    );
    const json = await ws.cli(['routes', '--db', db, '--json']);
    expect(
      (JSON.parse(json.stdout) as { movesNotFinished: string[] }).movesNotFinished.sort(),
    ).toEqual([P1, P2]);

    await releaseHeld(env);
    const resumed = await ws.cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = await ws.cli(['routes', '--db', db]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).not.toMatch(/stopped|part way/);
    expect(after.stdout).not.toMatch(/move not finished/);
    expect(after.stdout).toMatch(
      /run 1: 2 of 2 moved numbers reach where they did before the move/,
    );
  }, 90_000);
});
