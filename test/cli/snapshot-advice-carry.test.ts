/**
 * apply refuses a plan whose numbers no completed snapshot covers (exit 4). Its advice was
 * "Run `submigrate snapshot` first"; done literally — snapshot, then the same apply — the apply
 * ended "Completed.", exit 0, with the STOP that snapshot found (older than the Messages API's
 * window, read from Bulk Export) not carried into the subaccount: the sealed plan's carry
 * records predate it. Now the advice says to make the plan again, and the same apply refuses
 * (exit 4, nothing written) while the ledger holds opt-outs for the plan's numbers that it does
 * not carry. Needs `npm run build`.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';

const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const A = '+14155550101';
const USER = '+12065550001';

describe('following the opt-out gate advice', () => {
  // The Messages API shows only the last 400 days: the STOP is in Bulk Export only.
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: A }],
      messages: [
        // Said STOP 500 days ago; a HELP 3 days ago keeps the API window's check quiet.
        {
          from: USER,
          to: A,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 500 * DAY).toISOString(),
        },
        {
          from: '+12065550002',
          to: A,
          body: 'HELP',
          direction: 'inbound',
          date_sent: new Date(NOW - 3 * DAY).toISOString(),
        },
      ],
    },
    NOW,
  );
  const { cli } = ws;

  it('never ends "Completed." with the STOP the snapshot found not carried', async () => {
    const mapping = ws.dir.file('m.csv');
    writeFileSync(mapping, `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    const db = ws.dir.file('g.db');
    const plan = ws.dir.file('g.plan.json');
    expect((await cli(['snapshot', '--no-export', '--retention-days', '7', '--db', db])).code).toBe(
      0,
    );
    const planned = await makePlan(cli, {
      mapping,
      db,
      out: plan,
      plan: ['--carry-optouts'],
    });
    // The plan warning says to make the plan again after the snapshot.
    expect(planned.stdout).toContain(
      'run it, then make this plan again (a plan carries only the opt-outs known when it is made)',
    );
    expect(planned.stdout).toContain('0 opt-out records to carry');
    const replan = `Make the plan again, from the folder it was made in (its mapping path is relative to that folder): submigrate plan --mapping m.csv --carry-optouts --out ${plan} --db ${db}`;
    const refused = await cli(['apply', plan, '--db', db]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(
      `Run \`submigrate snapshot --db ${db}\` first, then make the plan again, so that it holds (and, made with --carry-optouts, carries) the opt-outs the snapshot finds`,
    );
    expect(refused.stderr.split('\n')).toContain(replan);

    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    // Its rehearsal refuses as apply does.
    const rehearsal = await cli(['apply', plan, '--db', db, '--dry-run']);
    expect(rehearsal.code).toBe(4);
    expect(rehearsal.stderr).toContain(
      "the ledger now holds 1 opt-out record(s) (acme: 1) for this plan's numbers",
    );
    // The same apply: refused before anything is written, naming the customer and the count.
    const stale = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(stale.code, stale.stdout + stale.stderr).toBe(4);
    expect(stale.stdout).not.toContain('Completed.');
    expect(stale.stderr).toContain(
      "the ledger now holds 1 opt-out record(s) (acme: 1) for this plan's numbers that the plan does not carry into the subaccounts",
    );
    expect(stale.stderr).toContain('Nothing was written.');
    expect(stale.stderr.split('\n')).toContain(replan);
    const number = (await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: A }))[0]!;
    expect(number.accountSid).toBe(ws.env.parentSid);
    expect(existsSync(join(ws.dir.path, 'reports'))).toBe(false);

    // As told: the plan made again carries the STOP, and its apply has Twilio enforce it.
    const command = replan.slice(replan.indexOf('submigrate plan ') + 'submigrate '.length);
    const again = await cli(command.split(' '));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('1 opt-out record to carry');
    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Completed.');
    const carry = parse(readFileSync(join(ws.dir.path, 'reports', '1', 'carry.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    const acme = carry.find((r) => r['customer_id'] === 'acme')!;
    expect(acme['list_rows']).toBe('1');
    expect(acme['twilio_enforces_rows']).toBe('1');
  });
});
