/**
 * `apply --dry-run` with a Main API key names the credentials apply really uses: an API key
 * reaches a subaccount's 2010 resources only with the subaccount's own Auth Token, so the
 * number given its service's URL once it is in the subaccount (`set_number_webhook`) is
 * written with that token, fetched with the parent's key — not with the parent's credentials.
 */

import { writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const N = '+14155550301';
const HOOK = 'https://app.example/hook';

describe('apply --dry-run with an API key', () => {
  const ws = useCliWorkspace();
  let proxy: RecordingProxy;
  beforeAll(async () => {
    proxy = await startRecordingProxy(ws.env.url);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it("lists the number's webhook as written with the subaccount's own credentials", async () => {
    const seeded = await ws.env.seed({
      subaccounts: [{ friendly_name: 'Acme' }],
      numbers: [{ phone_number: N }],
      services: [{ friendly_name: 'Shared', phone_numbers: [N], inbound_request_url: HOOK }],
      keys: [{ kind: 'main' }],
    });
    const acme = seeded.subaccounts[0]!.sid;
    const key = seeded.keys[0]!;
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${N},\n`,
    );
    const db = ws.dir.file('k.db');
    const plan = ws.dir.file('k.plan.json');
    const { cli } = ws;
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    await makePlan(cli, { mapping: ws.dir.file('m.csv'), db, out: plan });
    const withKey = cliEnv(ws.env, {
      SUBMIGRATE_API_URL: proxy.url,
      TWILIO_AUTH_TOKEN: undefined,
      TWILIO_API_KEY: key.sid,
      TWILIO_API_SECRET: key.secret,
    });

    const dry = await runCli(['apply', plan, '--db', db, '--dry-run'], withKey, ws.dir.path);
    expect(dry.code, dry.stderr).toBe(0);
    const listed = dry.stdout.split('\n').find((l) => l.includes('SmsUrl='));
    expect(listed).toContain(`(credentials of ${acme})`);
    expect(dry.stdout).toContain(`GET    https://api.twilio.com/2010-04-01/Accounts/${acme}.json`);

    const applied = await runCli(
      ['apply', plan, '--db', db, '--rate', '1000'],
      withKey,
      ws.dir.path,
    );
    expect(applied.code, applied.stderr).toBe(0);
    const webhook = proxy.requests.filter(
      (r) => r.method === 'POST' && new URLSearchParams(r.body).has('SmsUrl'),
    );
    expect(webhook.map((r) => `${r.path} ${r.user}`)).toEqual([
      `/2010-04-01/Accounts/${acme}/IncomingPhoneNumbers/${seeded.numbers[0]!.sid}.json ${acme}`,
    ]);
  });
});
