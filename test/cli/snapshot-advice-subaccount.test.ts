/**
 * apply refuses a plan whose numbers no completed snapshot covers (exit 4), and says which
 * snapshot to run. For a number held by a subaccount, plain `submigrate snapshot` reads only
 * the parent's history: the advice must name the subaccount with `--account`, or following it
 * changes nothing and apply refuses again; and both the plan's warning and apply's refusal name
 * the database they used. Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';

const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const SUB = 'AC0000000000000000000000000000a001';
const B = '+14155550102';
const USER = '+12065550001';

describe('the opt-out gate advice for a number a subaccount holds', () => {
  const ws = useCliWorkspace(
    {
      subaccounts: [{ friendly_name: 'Old Sub', sid: SUB }],
      numbers: [{ phone_number: B, account_sid: SUB }],
      messages: [
        // Said STOP 500 days ago, in the subaccount: only Bulk Export shows it now.
        {
          from: USER,
          to: B,
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 500 * DAY).toISOString(),
        },
        {
          from: '+12065550002',
          to: B,
          body: 'HELP',
          direction: 'inbound',
          date_sent: new Date(NOW - 3 * DAY).toISOString(),
        },
      ],
    },
    NOW,
  );
  const { cli } = ws;

  it('names the subaccount with --account, and following it lets apply move the number', async () => {
    const mapping = ws.dir.file('m.csv');
    writeFileSync(mapping, `customer_id,customer_name,phone_number\nacme,Acme,${B}\n`);
    const db = ws.dir.file('s.db');
    const plan = ws.dir.file('s.plan.json');
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    // plan's refresh reads the subaccount's Messages API window only: the STOP stays unread.
    const planned = await makePlan(cli, {
      mapping,
      db,
      out: plan,
      plan: ['--carry-optouts'],
    });
    // Against the database the plan was made from: a snapshot into ./submigrate.db would cover
    // nothing for this plan.
    expect(planned.stdout).toContain(
      `until \`submigrate snapshot --account ${SUB} --db ${db}\` has read it`,
    );

    const refused = await cli(['apply', plan, '--db', db]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(
      `Run \`submigrate snapshot --account ${SUB} --db ${db}\` first`,
    );

    // Plain `submigrate snapshot` does not read the subaccount: apply still refuses.
    expect((await cli(['snapshot', '--db', db])).code).toBe(0);
    expect((await cli(['apply', plan, '--db', db, '--dry-run'])).code).toBe(4);

    // As told, word for word: the snapshot it names, against the database apply used (its
    // --db, as the plan made again names it), then the plan made again.
    const told = /Run `submigrate (snapshot[^`]*)` first/.exec(refused.stderr)![1]!;
    expect(told).toBe(`snapshot --account ${SUB} --db ${db}`);
    expect((await cli(told.split(' '))).code).toBe(0);
    const again = await makePlan(cli, { mapping, db, out: plan, plan: ['--carry-optouts'] });
    expect(again.stdout).toContain('1 opt-out record to carry');
    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const carry = parse(readFileSync(join(ws.dir.path, 'reports', '1', 'carry.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(carry.find((r) => r['customer_id'] === 'acme')!['twilio_enforces_rows']).toBe('1');
  });
});
