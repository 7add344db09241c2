/**
 * `routes` (and `report`, `reconcile`) default to the latest run that moved numbers. A run
 * whose only step is a carry_optouts (planning again with --carry-optouts after a finished
 * migration, once a snapshot found older opt-outs: the flow apply's carry refusal asks for)
 * moves no number; as the default, `routes` would check 0 numbers and exit 0 while a moved
 * number's inbound is dropped. Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NA = '+14155550101';

describe('routes after a carry-only run still checks the moved numbers', () => {
  const at = (days: number) => new Date(NOW - days * 86_400_000).toISOString();
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: NA }],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [NA],
          inbound_request_url: 'https://app.example/in',
        },
      ],
      messages: [
        { from: '+12065550001', to: NA, date_sent: at(5) },
        { from: '+12065550002', to: NA, date_sent: at(500) },
      ].map((m) => ({ ...m, body: 'STOP', direction: 'inbound' })),
    },
    NOW,
  );
  const { cli } = ws;

  it('exits 3 naming the dropped number', async () => {
    const mapping = ws.dir.file('m.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${NA},acmeAlerts\n`,
    );
    const db = ws.dir.file('r.db');
    const snap = await cli(['snapshot', '--no-export', '--retention-days', '7', '--db', db]);
    expect(snap.code, snap.stderr).toBe(0);
    const p1 = ws.dir.file('p1.plan.json');
    await makePlan(cli, {
      mapping,
      db,
      out: p1,
      plan: ['--carry-optouts'],
    });
    const run1 = await cli(['apply', p1, '--db', db, '--rate', '1000', '--allow-missing-snapshot']);
    expect(run1.code, run1.stdout + run1.stderr).toBe(0);
    // Bulk Export finds the older STOP; the plan made again carries it: one carry step, no move.
    const full = await cli(['snapshot', '--db', db]);
    expect(full.code, full.stderr).toBe(0);
    const p2 = ws.dir.file('p2.plan.json');
    const plan2 = await makePlan(cli, {
      mapping,
      db,
      out: p2,
      plan: ['--carry-optouts'],
    });
    expect(plan2.stdout).toContain('0 numbers to move');
    expect(plan2.stdout).toContain('1 opt-out record to carry');
    const run2 = await cli(['apply', p2, '--db', db, '--rate', '1000']);
    expect(run2.code, run2.stdout + run2.stderr).toBe(0);
    // Someone clears the new service's inbound URL: the moved number's inbound is now dropped.
    const state = await ws.env.state();
    const service = state.services.find((s) => s.friendly_name === 'acmeAlerts')!;
    const sub = await ws.env.parent.api.v2010.accounts(service.account_sid).fetch();
    await ws.env
      .clientFor(sub.sid, sub.authToken)
      .messaging.v1.services(service.sid)
      .update({ inboundRequestUrl: '' });
    const routes = await cli(['routes', '--db', db]);
    expect(routes.stdout + routes.stderr).toContain(NA);
    expect(routes.code, routes.stdout).toBe(3);
  });
});
