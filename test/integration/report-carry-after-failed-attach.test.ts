/**
 * After a run in which the customer's numbers could not join its Messaging Service (the
 * service's pool of 400 is full), the carry still wrote the customer's opt-outs for that
 * service. The reports must name that service as the customer's, not whatever its last number's
 * row shows (none, for a number that failed to join); but the numbers outside it still send to
 * the people who opted out, so the list is not marked enforced (see
 * report-carry-outside-service.test.ts) (built CLI, emulator over HTTP).
 */

import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { emulatorOptOuts } from '../support/emulator.js';
import { ANN, useFullPool } from '../support/full-pool.js';
import { readCsv } from '../support/migration.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('reports after a carry whose numbers failed to join the service', () => {
  // 400 held: neither moving number can join the service.
  const pool = useFullPool(400, NOW);

  it("name the customer's service", async () => {
    const { applied } = await pool.planCarryAndApply();
    const { service, dir } = pool;
    expect(applied.code).toBe(3);
    expect(applied.stderr.match(/attach_number:PN\w+: .*21714/g)).toHaveLength(2);

    // Twilio holds the opt-out for the customer's service, in its subaccount.
    const carried = (await emulatorOptOuts(pool.env)).filter((o) => o.source === 'consent-api');
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
      twilio_enforces_rows: '0',
    });
    for (const file of ['optouts.csv', 'optouts/acme.csv']) {
      expect(readCsv(`${reports}/${file}`).map((r) => [r.recipient, r.twilio_enforces])).toEqual([
        [ANN, 'no'],
      ]);
    }
  }, 60_000);
});
