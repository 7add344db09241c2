/**
 * After a run in which the customer's numbers could not join its Messaging Service (the
 * service's pool of 400 is full), the carry still wrote the customer's opt-outs for that
 * service. The reports must name that service as the customer's, not whatever its last number's
 * row shows (none, for a number that failed to join); but a service's opt-outs are enforced
 * only for sends from its own numbers: the moved numbers, outside it, still send to the people
 * who opted out of them, so the list is not marked enforced (built CLI, emulator over HTTP).
 */

import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { emulatorOptOuts, ownClient, sendOutcome } from '../support/emulator.js';
import { ANN, MOVING, useFullPool } from '../support/full-pool.js';
import { readCsv } from '../support/migration.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('reports after a carry whose numbers failed to join the service', () => {
  // 400 held: neither moving number can join the service.
  const pool = useFullPool(400, NOW);

  it("name the customer's service, and do not mark enforced an opt-out of a number outside it", async () => {
    const { applied } = await pool.planCarryAndApply();
    const { env, service, dir } = pool;
    expect(applied.code).toBe(3);
    expect(applied.stderr.match(/attach_number:PN\w+: .*21714/g)).toHaveLength(2);

    // Twilio holds the opt-out for the customer's service, in its subaccount.
    const carried = (await emulatorOptOuts(pool.env)).filter((o) => o.source === 'consent-api');
    expect(carried.map((o) => [o.recipient, o.messaging_service_sid])).toEqual([[ANN, service]]);

    // What Twilio does: the service refuses the send, the moved number outside it does not.
    const sub = (await env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const client = ownClient(env, sub);
    expect(await sendOutcome(client, ANN, { messagingServiceSid: service })).toBe(21610);
    expect(await sendOutcome(client, ANN, { from: MOVING[0]! })).toBe(201);

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
      twilio_enforces_rows: '0',
    });
    expect(carry!.protection).toMatch(
      /^the suppression list is its only protection \(written for its Messaging Service, which not all of its numbers are in/,
    );
    for (const file of ['optouts.csv', 'optouts/acme.csv']) {
      expect(readCsv(`${reports}/${file}`).map((r) => [r.recipient, r.twilio_enforces])).toEqual([
        [ANN, 'no'],
      ]);
    }
  }, 60_000);
});
