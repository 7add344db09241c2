/**
 * `routes`, `report` and `reconcile` default to the latest run that moved numbers. Applying
 * a plan with zero steps (planning again after a finished migration) makes a run of nothing;
 * were it the default, `routes` would check 0 numbers and exit 0 while a moved number's inbound
 * is dropped, and `report` would write the empty run's reports. Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('routes after a zero-step apply still checks the moved numbers', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: '+14155550101' }],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: ['+14155550101'],
          inbound_request_url: 'https://app.example/in',
        },
      ],
    },
    NOW,
  );
  const { cli } = ws;

  it('exits 3 naming the dropped number', async () => {
    const mapping = ws.dir.file('m.csv');
    writeFileSync(
      mapping,
      'customer_id,customer_name,phone_number,messaging_service\nacme,Acme,+14155550101,acmeAlerts\n',
    );
    const db = ws.dir.file('r.db');
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    const p1 = ws.dir.file('p1.plan.json');
    expect((await cli(['plan', '--mapping', mapping, '--db', db, '--out', p1])).code).toBe(0);
    expect((await cli(['apply', p1, '--db', db, '--rate', '1000'])).code).toBe(0);
    // The migration is finished: planning again gives zero steps, and applying that is a no-op.
    const p2 = ws.dir.file('p2.plan.json');
    const again = await cli(['plan', '--mapping', mapping, '--db', db, '--out', p2]);
    expect(again.code).toBe(0);
    expect((await cli(['apply', p2, '--db', db])).code).toBe(0);
    // Someone clears the new service's inbound URL: the moved number's inbound is now dropped.
    const state = await ws.env.state();
    const service = state.services.find((s) => s.friendly_name === 'acmeAlerts')!;
    const sub = await ws.env.parent.api.v2010.accounts(service.account_sid).fetch();
    await ws.env
      .clientFor(sub.sid, sub.authToken)
      .messaging.v1.services(service.sid)
      .update({ inboundRequestUrl: '' });
    const routes = await cli(['routes', '--db', db]);
    expect(routes.stdout + routes.stderr).toContain('+14155550101');
    expect(routes.stdout).toMatch(/run 1\b/);
    expect(routes.code).toBe(3);
    // The empty run is still there, and still reachable by its number.
    expect((await cli(['routes', '--db', db, '--run', '2'])).code).toBe(0);
    const report = await cli(['report', '--db', db]);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(join('reports', '1'));
  });
});
