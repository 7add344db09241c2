/**
 * After a run in which the customer's numbers could not join its Messaging Service (the
 * service's pool of 400 is full), the carry still wrote the customer's opt-outs for that
 * service, and Twilio enforces them there. The reports must say so: the customer's service is
 * the one it was given, not whatever its last number's row shows (none, for a number that
 * failed to join), and its suppression list is marked enforced (built CLI, emulator over HTTP).
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { emulatorOptOuts, startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { readCsv } from '../support/migration.js';
import { cliEnv, runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const MOVING = ['+14155619001', '+14155619002'];
const HELD = Array.from({ length: 400 }, (_, i) => `+1415560${String(i).padStart(4, '0')}`);
const ANN = '+12065550001';

describe('reports after a carry whose numbers failed to join the service', () => {
  let env: TestEmulator;
  let dir: TempDir;
  let service: string;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => NOW });
    const seeded = await env.seed({ subaccounts: [{ friendly_name: 'Acme' }] });
    const sub = seeded.subaccounts[0]!.sid;
    const services = await env.seed({
      numbers: [
        ...MOVING.map((phone) => ({ phone_number: phone })),
        ...HELD.map((phone) => ({ phone_number: phone, account_sid: sub })),
      ],
      services: [
        { friendly_name: 'Shared', phone_numbers: MOVING, use_inbound_webhook_on_number: true },
        {
          friendly_name: 'acmeAlerts',
          account_sid: sub,
          phone_numbers: HELD,
          use_inbound_webhook_on_number: true,
        },
      ],
      messages: [
        {
          from: ANN,
          to: MOVING[0]!,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 86_400_000).toISOString(),
        },
      ],
    });
    service = services.services.find((s) => s.friendly_name === 'acmeAlerts')!.sid;
    dir = tempDir();
  });
  afterAll(async () => {
    await env.close();
    dir.remove();
  });

  it("name the customer's service and mark its opt-outs enforced by Twilio", async () => {
    const mapping = dir.file('map.csv');
    writeFileSync(
      mapping,
      `customer_id,customer_name,phone_number,messaging_service\n${MOVING.map((p) => `acme,Acme,${p},acmeAlerts`).join('\n')}\n`,
    );
    const db = dir.file('a.db');
    const plan = dir.file('a.plan.json');
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    const planned = await cli([
      'plan',
      '--mapping',
      mapping,
      '--db',
      db,
      '--out',
      plan,
      '--carry-optouts',
    ]);
    expect(planned.code, planned.stderr).toBe(0);

    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.code).toBe(3);
    expect(applied.stderr.match(/attach_number:PN\w+: .*21714/g)).toHaveLength(2);

    // Twilio holds the opt-out for the customer's service, in its subaccount.
    const carried = (await emulatorOptOuts(env)).filter((o) => o.source === 'consent-api');
    expect(carried.map((o) => [o.recipient, o.messaging_service_sid])).toEqual([[ANN, service]]);

    const reports = dir.file('reports/1');
    const audit = JSON.parse(readFileSync(`${reports}/audit.json`, 'utf8')) as {
      customers: { customer_id: string; messaging_service_sid: string | null }[];
    };
    expect(audit.customers).toMatchObject([
      { customer_id: 'acme', messaging_service_sid: service },
    ]);
    // Each number is still outside the service: its own row says so.
    expect(readCsv(`${reports}/audit.csv`).map((r) => [r.status, r.messaging_service_sid])).toEqual(
      [
        ['failed', ''],
        ['failed', ''],
      ],
    );
    const [carry] = readCsv(`${reports}/carry.csv`);
    expect(carry).toMatchObject({
      customer_id: 'acme',
      sender_id: service,
      carry_step: 'done',
      written: '1',
      list_rows: '1',
      twilio_enforces_rows: '1',
    });
    expect(carry!.protection).toMatch(/^Twilio refuses sends to every opt-out/);
    for (const file of ['optouts.csv', 'optouts/acme.csv']) {
      expect(readCsv(`${reports}/${file}`).map((r) => [r.recipient, r.twilio_enforces])).toEqual([
        [ANN, 'yes'],
      ]);
    }
  }, 60_000);
});
