/**
 * A plan made with the parent's Auth Token that moves a number out of a subaccount, applied
 * with an API key: refused before anything is written (an API key cannot make that transfer,
 * and finding out halfway would leave the number detached from its service, in neither
 * place). Built CLI, emulator over HTTP.
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const N = '+14155550401';

describe('apply with an API key', () => {
  const ws = useCliWorkspace();

  it('refuses a plan that moves a number out of a subaccount, writing nothing', async () => {
    const seeded = await ws.env.seed({
      subaccounts: [{ friendly_name: 'Birch' }],
      keys: [{ kind: 'main' }],
    });
    const birch = seeded.subaccounts[0]!.sid;
    await ws.env.seed({
      numbers: [{ phone_number: N, account_sid: birch }],
      services: [{ friendly_name: 'Birch SMS', account_sid: birch, phone_numbers: [N] }],
    });
    const mapping = ws.dir.file('map.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N},\n`,
    );
    const db = ws.dir.file('a.db');
    const plan = ws.dir.file('a.plan.json');
    const token = cliEnv(ws.env);
    expect((await runCli(['snapshot', '--db', db], token, ws.dir.path)).code).toBe(0);
    const planned = await runCli(
      ['plan', '--mapping', mapping, '--db', db, '--out', plan],
      token,
      ws.dir.path,
    );
    expect(planned.code).toBe(0);

    await clearRequestLog(ws.env);
    const key = seeded.keys[0]!;
    const applied = await runCli(
      ['apply', plan, '--db', db, '--rate', '1000'],
      cliEnv(ws.env, {
        TWILIO_AUTH_TOKEN: undefined,
        TWILIO_API_KEY: key.sid,
        TWILIO_API_SECRET: key.secret,
      }),
      ws.dir.path,
    );
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain(
      `moves ${N} out of subaccount ${birch}, which takes the parent's Auth Token, and these credentials are an API key`,
    );
    expect(await requestLog(ws.env)).toEqual([]);
    expect(applied.stderr).not.toContain(key.secret);
  });
});
