/**
 * When apply refuses a stale plan (exit 4), the command it prints to make the plan again is the
 * one that makes the same kind of plan: with `--carry-optouts`, over the plan file apply was
 * given (`--out`), against the database the user named (`--db`). Printed without them (as it
 * was), it made a plan that carries nothing, beside the stale one, from ./submigrate.db; the
 * apply that followed carried no opt-out into any subaccount. Needs `npm run build`.
 */

import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { makePlan, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe('the drift refusal prints a re-plan command that keeps the plan options', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: '+14155550101' }, { phone_number: '+14155550102' }],
      messages: [
        {
          from: '+12065550001',
          to: '+14155550101',
          body: 'STOP',
          direction: 'inbound',
          date_sent: new Date(NOW - 31 * 86_400_000).toISOString(),
        },
      ],
    },
    NOW,
  );
  const { cli } = ws;

  it('names --carry-optouts, --db and --out in "Make the plan again", and following it carries the opt-out', async () => {
    const mapping = ws.dir.file('m.csv');
    writeFileSync(mapping, 'customer_id,customer_name,phone_number\nacme,Acme,+14155550101\n');
    const db = ws.dir.file('drift.db');
    const out = ws.dir.file('drift.plan.json');
    expect((await cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    await makePlan(cli, {
      mapping,
      db,
      out: out,
      plan: ['--carry-optouts', '--carry-batch-size', '10'],
    });
    // Someone changes the number's SMS URL by hand after planning.
    const number = (
      await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: '+14155550101' })
    )[0]!;
    await ws.env.parent
      .incomingPhoneNumbers(number.sid)
      .update({ smsUrl: 'https://x.example/sms' });
    const applied = await cli(['apply', out, '--db', db]);
    expect(applied.code).toBe(4);
    const advice = applied.stderr.split('\n').find((l) => l.startsWith('Make the plan again'));
    // The plan recorded the mapping relative to the folder it was made in: the line says so.
    expect(advice).toBe(
      `Make the plan again, from the folder it was made in (its mapping path is relative to that folder): submigrate plan --mapping m.csv --carry-optouts --carry-batch-size 10 --out ${out} --db ${db}`,
    );

    // Followed as printed (from that folder), the plan carries the opt-out again.
    const command = advice!.slice(advice!.indexOf('submigrate plan ') + 'submigrate '.length);
    const replanned = await cli(command.split(' '));
    expect(replanned.code, replanned.stderr).toBe(0);
    expect(replanned.stdout).toContain('1 opt-out record to carry');
    expect(replanned.stdout).toContain('1 request of up to 10');
    const again = await cli(['apply', out, '--db', db, '--rate', '1000']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Completed.');
  });

  it('names the default database too, by its full path (the command may be run elsewhere)', async () => {
    const mapping = ws.dir.file('m2.csv');
    writeFileSync(mapping, 'customer_id,customer_name,phone_number\nbeta,Beta,+14155550102\n');
    const out = ws.dir.file('default-db.plan.json');
    expect((await cli(['snapshot', '--no-export'])).code).toBe(0);
    expect((await cli(['plan', '--mapping', mapping, '--out', out])).code).toBe(0);
    const number = (
      await ws.env.parent.incomingPhoneNumbers.list({ phoneNumber: '+14155550102' })
    )[0]!;
    await ws.env.parent
      .incomingPhoneNumbers(number.sid)
      .update({ smsUrl: 'https://x.example/sms' });
    const applied = await cli(['apply', out]);
    expect(applied.code).toBe(4);
    const advice = applied.stderr.split('\n').find((l) => l.startsWith('Make the plan again'));
    expect(advice).toContain(`--db ${join(realpathSync(ws.dir.path), 'submigrate.db')}`);
  });
});
