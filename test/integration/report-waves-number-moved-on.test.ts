/**
 * A migration in waves where a number the first wave moved for a customer is given to another
 * customer by a middle run that names none of the first customer's: the third run's reports
 * (the first customer's new numbers only) must not put that number's opt-outs back on the
 * first customer's list, as `optouts --customer` does not (built CLI, emulator over HTTP).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { planAndApply, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const [A1, A2] = ['+14155550611', '+14155550612'];
const R1 = '+16505550611';

describe('a wave report after a middle run gave an earlier number to another customer', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: A1 }, { phone_number: A2 }],
      messages: [seededStop(R1, A1, NOW - 3 * DAY)],
    },
    NOW,
  );

  it("leaves that number's opt-outs off the first customer's list", async () => {
    const db = ws.dir.file('w.db');
    expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
    const wave = async (n: number, rows: string) => {
      const mapping = ws.dir.file(`wave${n}.csv`);
      writeFileSync(mapping, `customer_id,customer_name,phone_number,messaging_service\n${rows}`);
      await planAndApply(ws.cli, { mapping, db, out: ws.dir.file(`wave${n}.plan.json`) });
    };
    await wave(1, `acme,Acme,${A1},acmeSvc\n`);
    await wave(2, `beta,Beta,${A1},betaSvc\n`);
    await wave(3, `acme,Acme,${A2},acmeSvc\n`);

    const listed = await ws.cli(['optouts', '--db', db, '--customer', 'acme']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = parse(listed.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r['recipient'])).toEqual([]);

    const third = join(ws.dir.path, 'reports', '3');
    expect(readCsv(join(third, 'optouts/acme.csv')).map((r) => r.recipient)).toEqual([]);
    const [carry] = readCsv(join(third, 'carry.csv'));
    expect(carry).toMatchObject({ customer_id: 'acme', list_rows: '0' });
  }, 120_000);
});
