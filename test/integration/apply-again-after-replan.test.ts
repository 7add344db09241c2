/**
 * A plan made again after a killed apply plans a half-moved number from where its move began,
 * and fingerprints the service it left there. Once that plan's run has finished the move, the
 * number is no longer moving: applying the finished plan again must still read the services
 * of the account the move began in, or that service looks gone and apply refuses with drift
 * that is not there (found by test/integration/apply-random.test.ts, seed 19; built CLI,
 * emulator over HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { readPlan } from '../../src/plan/plan-file.js';
import { clearRequestLog, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { killApplyAtHeldWrite, releaseHeld } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const SPARE = 'AC0000000000000000000000000000a001';
const N1 = '+14155550901';
const URL = 'https://app.example/sms';

describe('apply again, after a plan made again after a kill has finished its run', () => {
  const ws = useCliWorkspace(
    {
      subaccounts: [{ friendly_name: 'Spare', sid: SPARE }],
      numbers: [{ phone_number: N1, account_sid: SPARE }],
      services: [
        { friendly_name: 'Old', account_sid: SPARE, inbound_request_url: URL, phone_numbers: [N1] },
      ],
    },
    NOW,
  );

  it('sends no write and refuses nothing', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N1},\n`,
    );
    const snapshot = await ws.cli(['snapshot', '--db', 'a.db', '--account', SPARE]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const plan = ['plan', '--mapping', 'm.csv', '--db', 'a.db', '--out'];
    expect((await ws.cli([...plan, 'p1.json'])).code).toBe(0);
    // The subaccount and the detach go through; the transfer is held, the process killed,
    // and the transfer then takes effect: the number is in Acme's subaccount, without its URL.
    await killApplyAtHeldWrite(ws.env, ws.dir.path, ws.dir.file('p1.json'), 'a.db', 2);
    await releaseHeld(ws.env);

    const again = await ws.cli([...plan, 'p2.json']);
    expect(again.code, again.stderr).toBe(0);
    const p2 = readPlan('p2.json', readFileSync(ws.dir.file('p2.json'), 'utf8'));
    expect(p2.steps.map((s) => s.action)).toEqual(['set_number_webhook']);
    expect(p2.customers[0]!.numbers[0]!.from_origin).toBe(true);

    const apply = ['apply', 'p2.json', '--db', 'a.db', '--rate', '1000'];
    const first = await ws.cli(apply);
    expect(first.code, first.stderr).toBe(0);

    await clearRequestLog(ws.env);
    const second = await ws.cli(apply);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect((await requestLog(ws.env)).filter((e) => e.method !== 'GET')).toEqual([]);
  });
});
