/**
 * `plan` made while an apply runs on the same database (an operator re-planning in the
 * maintenance window). The plan read which moves were under way when it began, before the
 * apply began this number's move; by the time it read the account, the apply had taken the
 * number out of its shared service (and was then stopped before the transfer). The plan took
 * that for where the number starts: it recorded "no service" over the service the number left,
 * whose service-wide opt-outs then fell off its customer's list (`optouts`, reconcile, the
 * plan's own carry). It is refused instead. Built CLI, emulator over HTTP.
 */

import { existsSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';
import { killApplyAtHeldWrite, startCliHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const X = '+14155550101';
const Y = '+14155550102';
const Q = '+12065550002';
const SHARED = 'MG0123456789abcdef0123456789abcdef';

describe('plan while apply runs', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: X }, { phone_number: Y }],
      services: [{ friendly_name: 'Shared', sid: SHARED, phone_numbers: [X, Y] }],
      // Q said STOP to Y, through Shared: service-wide, so on X's list too.
      messages: [
        {
          from: Q,
          to: Y,
          body: 'STOP',
          direction: 'inbound',
          messaging_service_sid: SHARED,
          date_sent: new Date(NOW - 10 * DAY).toISOString(),
        },
      ],
    },
    NOW,
  );

  const listed = async (db: string) => {
    const out = await ws.cli(['optouts', '--db', db, '--customer', 'acme', '--json']);
    expect(out.code, out.stderr).toBe(0);
    return (JSON.parse(out.stdout) as { optouts: { recipient: string }[] }).optouts.map(
      (r) => r.recipient,
    );
  };

  it("is refused, and the service the number left stays on its customer's list", async () => {
    const { env, dir, cli } = ws;
    const db = dir.file('s.db');
    const plan = dir.file('p.plan.json');
    writeFileSync(dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${X}\n`);
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: 'm.csv', db, out: plan });
    expect(await listed(db)).toEqual([Q]);

    // A second plan starts and is held at its first read of the account.
    const again = await startCliHeld(
      env,
      ['plan', '--mapping', 'm.csv', '--db', db, '--out', dir.file('again.plan.json')],
      dir.path,
      { after: 1, methods: ['GET'] },
    );
    again.child.kill('SIGSTOP');
    try {
      // Meanwhile apply makes the subaccount and takes X out of Shared; it is stopped (the
      // terminal closed) with the transfer unanswered.
      const killed = await killApplyAtHeldWrite(env, dir.path, plan, db, 2);
      expect(killed.signal).toBe('SIGKILL');
      const state = await env.state();
      // X has left Shared (Y is still in it), and is still in the parent.
      expect(state.services.find((s) => s.friendly_name === 'Shared')?.phone_numbers).toHaveLength(
        1,
      );
    } finally {
      again.child.kill('SIGCONT');
    }
    // What it read is half a move: refused, nothing recorded, no plan file.
    const replanned = await again.done;
    expect(replanned.stderr).toMatch(
      /^refused: an apply on this database began moving 1 number\(s\) \(PN\w+\) while this plan read the account/,
    );
    expect(replanned.code).toBe(4);
    expect(existsSync(dir.file('again.plan.json'))).toBe(false);

    expect(await listed(db)).toEqual([Q]);
  }, 90_000);
});
