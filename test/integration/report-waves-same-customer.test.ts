/**
 * A migration in waves where the second mapping gives a customer only its new numbers: the
 * customer's subaccount and service come from the first apply. The second run's reports name
 * the customer's suppression list (optouts/<id>.csv, carry.csv's list_rows and protection), so
 * that list must hold the opt-outs of the numbers the first wave moved as well — it held only
 * the new numbers', and carry.csv said "no opt-outs on its suppression list" for a customer
 * with some — and say that Twilio enforces those the first wave carried. The first run's
 * reports, written again after the second run, keep their own numbers only (built CLI,
 * emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { emulatorOptOuts } from '../support/emulator.js';
import { planAndApply, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const [A1, A2] = ['+14155550601', '+14155550602'];
const R1 = '+16505550601';

describe("a customer's list after a second wave that maps only its new numbers", () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: A1 }, { phone_number: A2 }],
      messages: [seededStop(R1, A1, NOW - 3 * DAY)],
    },
    NOW,
  );

  it("holds the first wave's opt-outs too, enforced as the first wave carried them", async () => {
    const db = ws.dir.file('w.db');
    expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
    const wave = async (n: number, phone: string) => {
      const mapping = ws.dir.file(`wave${n}.csv`);
      writeFileSync(
        mapping,
        `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${phone},acmeSvc\n`,
      );
      await planAndApply(ws.cli, {
        mapping,
        db,
        out: ws.dir.file(`wave${n}.plan.json`),
        plan: ['--carry-optouts'],
      });
    };
    await wave(1, A1);
    await wave(2, A2);

    // Twilio blocked R1 from A1 before the move.
    const truth = await emulatorOptOuts(ws.env);
    expect(truth.filter((o) => o.account_sid === ws.env.parentSid).map((o) => o.recipient)).toEqual(
      [R1],
    );
    const listed = await ws.cli(['optouts', '--db', db, '--customer', 'acme']);
    const rows = parse(listed.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r['recipient'])).toEqual([R1]);

    const second = join(ws.dir.path, 'reports', '2');
    for (const file of ['optouts.csv', 'optouts/acme.csv']) {
      expect(
        readCsv(join(second, file)).map((r) => [r.customer_id, r.recipient, r.twilio_enforces]),
      ).toEqual([['acme', R1, 'yes']]);
    }
    const [carry] = readCsv(join(second, 'carry.csv'));
    expect(carry).toMatchObject({ customer_id: 'acme', list_rows: '1', twilio_enforces_rows: '1' });
    expect(carry!.protection).toMatch(/^Twilio refuses sends to every opt-out/);

    // The first run's reports, written again: its own numbers only, as before.
    const again = await ws.cli(['report', '--db', db, '--run', '1', '--out', ws.dir.file('r1')]);
    expect(again.code, again.stderr).toBe(0);
    expect(readCsv(ws.dir.file('r1/optouts/acme.csv')).map((r) => r.recipient)).toEqual([R1]);
    expect(readCsv(ws.dir.file('r1/audit.csv')).map((r) => r.phone_number)).toEqual([A1]);
  }, 90_000);
});
