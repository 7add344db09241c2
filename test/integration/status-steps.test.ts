/**
 * `status --run ID` lists a run's steps with what each produced: every value named (a carry's
 * `written=1 rejected=0`, a subaccount's `subaccount_sid=AC…`), no bare values a reader must
 * guess at, and no trailing blanks for a step that produced nothing. Built CLI, emulator
 * over HTTP.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { makePlan, seededStop, useCliWorkspace } from '../support/migration.js';

const N = '+14155550711';
const SHARED = 'MG' + '7'.repeat(32);

describe('status --run', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: N }],
    services: [
      {
        friendly_name: 'Shared',
        sid: SHARED,
        phone_numbers: [N],
        inbound_request_url: 'https://app.example/sms',
      },
    ],
    messages: [seededStop('+12065550701', N, Date.now() - 86_400_000)],
  });

  it('names each value a step produced', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N},acmeAlerts\n`,
    );
    expect((await ws.cli(['snapshot', '--db', 'a.db'])).code).toBe(0);
    await makePlan(ws.cli, {
      mapping: 'm.csv',
      db: 'a.db',
      out: 'a.plan.json',
      plan: ['--carry-optouts'],
    });
    const applied = await ws.cli(['apply', 'a.plan.json', '--db', 'a.db', '--rate', '0']);
    expect(applied.code, applied.stderr).toBe(0);
    const status = await ws.cli(['status', '--db', 'a.db', '--run', '1']);
    expect(status.code, status.stderr).toBe(0);
    const lines = status.stdout.split('\n');
    const step = (id: string) => lines.find((l) => l.startsWith(`  ${id}  `));
    expect(step('create_subaccount:acme')).toMatch(
      / {2}attempts 1 {2}subaccount_sid=AC[0-9a-f]{32}$/,
    );
    expect(step('carry_optouts:acme')).toMatch(
      / {2}subaccount_sid=AC[0-9a-f]{32} sender_id=MG[0-9a-f]{32} written=1 rejected=0$/,
    );
    expect(lines.find((l) => l.startsWith('  detach_number:'))).toMatch(/ {2}attempts 1$/);
  });
});
