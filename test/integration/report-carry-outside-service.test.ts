/**
 * After a run in which the customer's numbers could not join its Messaging Service (the
 * service's pool of 400 is full), the carry wrote the customer's opt-outs for that service,
 * but a service's opt-outs are enforced only for sends from its own numbers: the moved numbers,
 * outside it, still send to the people who opted out of them. The reports must not say that
 * Twilio refuses those sends (built CLI, emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { readCsv } from '../support/migration.js';
import { cliEnv, runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';
import type { TwilioClient } from '../../src/twilio/client.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const MOVING = ['+14155619001', '+14155619002'];
const HELD = Array.from({ length: 400 }, (_, i) => `+1415560${String(i).padStart(4, '0')}`);
const ANN = '+12065550001';

/** A send's outcome: 201, or Twilio's error code. */
async function send(
  client: TwilioClient,
  to: string,
  from: { messagingServiceSid: string } | { from: string },
): Promise<number> {
  try {
    await client.messages.create({ ...from, to, body: 'Your table is ready' });
    return 201;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

describe('reports after a carry whose numbers did not join the service', () => {
  let env: TestEmulator;
  let dir: TempDir;
  let service: string;
  let sub: string;
  const cli = (args: string[]) => runCli(args, cliEnv(env), dir.path);

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => NOW });
    const seeded = await env.seed({ subaccounts: [{ friendly_name: 'Acme' }] });
    sub = seeded.subaccounts[0]!.sid;
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

  it('do not mark enforced an opt-out of a number outside the service', async () => {
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

    // What Twilio does: the service refuses the send, the moved number outside it does not.
    const client = env.clientFor(sub, env.emulator.state.accounts.get(sub)!.authToken);
    expect(await send(client, ANN, { messagingServiceSid: service })).toBe(21610);
    expect(await send(client, ANN, { from: MOVING[0]! })).toBe(201);

    const reports = dir.file('reports/1');
    for (const file of ['optouts.csv', 'optouts/acme.csv']) {
      expect(readCsv(`${reports}/${file}`).map((r) => [r.recipient, r.twilio_enforces])).toEqual([
        [ANN, 'no'],
      ]);
    }
    const [carry] = readCsv(`${reports}/carry.csv`);
    expect(carry).toMatchObject({
      customer_id: 'acme',
      sender_id: service,
      carry_step: 'done',
      written: '1',
      list_rows: '1',
      twilio_enforces_rows: '0',
    });
    expect(carry!.protection).toMatch(
      /^the suppression list is its only protection \(written for its Messaging Service, which not all of its numbers are in/,
    );
  }, 60_000);
});
