/**
 * `submigrate report --run N` for an older run must give what the run's reports said
 * at the time (docs/commands.md "status, report": "from the database alone: the run keeps the
 * plan it applied"). A later plan or apply must not change what an older run's suppression
 * lists say to the compliance reviewer who signed them off.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { planAndApply, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const N1 = '+14155550101';
const N3 = '+14155550103';
const N9 = '+14155550109';
const R1 = '+16505550001';
const R2 = '+16505550002';

describe('report --run 1 after a later plan maps one of its numbers to another customer', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: N1 }, { phone_number: N3 }, { phone_number: N9 }],
      messages: [seededStop(R1, N1, NOW - 10 * DAY), seededStop(R2, N3, NOW - 9 * DAY)],
    },
    NOW,
  );
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  it("keeps every opted-out recipient on the run's own customer's list", async () => {
    writeFileSync(
      ws.dir.file('m1.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\nacme,Acme,${N3}\nbirch,Birch,${N9}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, {
      mapping: ws.dir.file('m1.csv'),
      db: db(),
      out: ws.dir.file('m1.plan.json'),
    });
    const atTheTime = readCsv(join(ws.dir.path, 'reports', '1', 'optouts', 'acme.csv')).map(
      (r) => r['recipient'],
    );
    expect(atTheTime).toEqual([R1, R2]);

    // Months later: acme hands N3 over to birch, and a plan records that (not applied yet).
    writeFileSync(
      ws.dir.file('m2.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\nbirch,Birch,${N9}\nbirch,Birch,${N3}\n`,
    );
    const replanned = await cli([
      'plan',
      '--mapping',
      ws.dir.file('m2.csv'),
      '--db',
      db(),
      '--out',
      ws.dir.file('m2.plan.json'),
    ]);
    expect(replanned.code, replanned.stderr).toBe(0);

    const out = ws.dir.file('again');
    const report = await cli(['report', '--db', db(), '--run', '1', '--out', out]);
    expect(report.code, report.stderr).toBe(0);
    // Run 1 moved N3 for acme: R2 opted out of N3 and must stay on acme's list for run 1.
    expect(readCsv(join(out, 'optouts', 'acme.csv')).map((r) => r['recipient'])).toEqual(atTheTime);
    expect(
      readCsv(join(out, 'optouts.csv'))
        .filter((r) => r['recipient'] === R2)
        .map((r) => r['customer_id']),
    ).toEqual(['acme']);
  });
});

describe('report --run 1 after a later run carried the opt-outs', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: N1 }],
      messages: [seededStop(R1, N1, NOW - 10 * DAY)],
    },
    NOW,
  );
  const { cli } = ws;
  const db = () => ws.dir.file('c.db');

  it('says what Twilio enforced as of run 1 (docs: written "in this run or an earlier one")', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${N1}\n`,
    );
    expect((await cli(['snapshot', '--db', db()])).code).toBe(0);
    await planAndApply(cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('a.plan.json'),
    });
    const first = join(ws.dir.path, 'reports', '1');
    const listThen = readCsv(join(first, 'optouts', 'acme.csv'));
    const carryThen = readCsv(join(first, 'carry.csv'));
    expect(listThen.map((r) => r['twilio_enforces'])).toEqual(['no']);

    // A second plan, with --carry-optouts, applied as run 2: Twilio now enforces R1.
    const { applied: second } = await planAndApply(cli, {
      mapping: ws.dir.file('m.csv'),
      db: db(),
      out: ws.dir.file('b.plan.json'),
      plan: ['--carry-optouts'],
    });
    expect(second.stdout).toContain('apply run 2');

    const out = ws.dir.file('run1-again');
    expect((await cli(['report', '--db', db(), '--run', '1', '--out', out])).code).toBe(0);
    expect.soft(readCsv(join(out, 'optouts', 'acme.csv'))).toEqual(listThen);
    // carry.csv of run 1 says the plan carried nothing (not_planned, 0 written) and must not,
    // in the same row, say Twilio refuses every opt-out.
    expect(readCsv(join(out, 'carry.csv'))).toEqual(carryThen);
  });
});
