/**
 * carry.csv's `protection` (and report.html's "what protects its opt-outs") for a customer
 * whose Messaging Service holds a toll-free number beside a local one, moved by a plan made
 * without --carry-optouts: a service-wide opt-out on its list stands for the local number too,
 * which a record written for the service would protect. Nothing was written, so the plan is the
 * reason, beside the toll-free number — not the toll-free number alone, which reads as if the
 * carry had done all it could.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const DAY = 86_400_000;
const LOCAL = '+14155550821';
const TOLL_FREE = '+18335550822';
const R = '+12065550821';

describe('a service-wide opt-out of a customer with a toll-free number, nothing carried', () => {
  const ws = useCliWorkspace({
    numbers: [
      { phone_number: LOCAL, sms_url: 'https://acme.example/sms' },
      { phone_number: TOLL_FREE, type: 'toll-free', sms_url: 'https://acme.example/sms' },
    ],
    services: [
      {
        friendly_name: 'Shared',
        phone_numbers: [LOCAL, TOLL_FREE],
        use_inbound_webhook_on_number: true,
      },
    ],
    messages: [seededStop(R, LOCAL, Date.now() - 3 * DAY)],
  });

  it('names the plan made without --carry-optouts as the reason, toll-free besides', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${LOCAL},acmeSvc\nacme,Acme,${TOLL_FREE},acmeSvc\n`,
    );
    const planned = await ws.cli(['plan', '--mapping', 'm.csv', '--out', 'p.json']);
    expect(planned.code, planned.stderr).toBe(0);
    const applied = await ws.cli(['apply', 'p.json', '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);

    const rows = readCsv(ws.dir.file('reports/1/optouts.csv'));
    expect(rows.map((r) => [r.recipient, r.scope, r.twilio_enforces])).toEqual([
      [R, 'service', 'no'],
    ]);
    const [carry] = readCsv(ws.dir.file('reports/1/carry.csv'));
    const said =
      'the suppression list is its only protection (the plan was made without --carry-optouts; and the Consent Management API does not cover its toll-free numbers)';
    expect(carry!.protection).toBe(said);
    expect(readFileSync(ws.dir.file('reports/1/report.html'), 'utf8')).toContain(said);
  });
});
