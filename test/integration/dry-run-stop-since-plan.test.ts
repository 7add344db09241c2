/**
 * `apply --dry-run` of a --carry-optouts plan, with a STOP said to one of its numbers after the
 * plan was made. The dry run reads nothing (no request at all), so the STOP is in none of its
 * carry batches; apply does not carry it either (the plan's records are sealed): it finds it
 * only in its read after the moves, when the number has left the account that enforced it.
 * The dry run listed the sealed batch and said nothing of this: a reviewer took the list for
 * everything apply would put in the subaccount. Now a `#` line says the dry run did not read
 * since the plan, and names the snapshot that lets apply, and the dry run, see such a STOP
 * before anything moves: after it, both refuse the plan over it. Built CLI, emulator over HTTP.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { clearRequestLog, inbound, requestLog } from '../support/emulator.js';
import { makePlan, seededStop, useCliWorkspace } from '../support/migration.js';

const DAY = 86_400_000;
const A = '+14155550651';
const [R1, R2] = ['+12065550251', '+12065550252'];

describe('apply --dry-run after a STOP said since the plan', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A, sms_url: 'https://app.example/a' }],
    messages: [seededStop(R1, A, Date.now() - 5 * DAY)],
  });

  it('says it did not read since the plan, and how apply gets to see it', async () => {
    const db = ws.dir.file('s.db');
    const plan = ws.dir.file('p.json');
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`);
    expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
    await makePlan(ws.cli, {
      mapping: ws.dir.file('m.csv'),
      db,
      out: plan,
      plan: ['--carry-optouts'],
    });
    const createdAt = (
      JSON.parse(readFileSync(plan, 'utf8')) as {
        created_at: string;
      }
    ).created_at;

    // R2 says STOP to the number after the plan: the parent enforces it, the plan carries R1.
    await inbound(ws.env, { from: R2, to: A, body: 'STOP' });
    await clearRequestLog(ws.env);
    const dry = await ws.cli(['apply', plan, '--db', db, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(await requestLog(ws.env)).toEqual([]);
    const lines = dry.stdout.trimEnd().split('\n');
    const carry = lines.filter((l) => l.includes('/v1/Consents/Bulk'));
    expect(carry).toHaveLength(1);
    expect(carry[0]).toContain(`Items=1 × {status: opt-out, source: opt-out-message, sender_id: `);
    expect(carry[0]).toContain(`contact_id: ${R1}}`);
    const note = lines.find((l) => l.startsWith('# not read since the plan was made'));
    expect(note).toBe(
      `# not read since the plan was made (${createdAt}): this dry run reads no message, so a STOP said to the plan's numbers since then is in none of the carry batches above, and apply would not carry it either: it finds it only in its read after the moves, when the numbers have left the account that enforced it, and puts it on the customer's list as one Twilio does not refuse in the subaccount. Run \`submigrate snapshot --db ${db}\` first: apply, and this dry run, then refuse the plan over such a STOP, and the plan made again carries it`,
    );
    // After the carry lines, among the other `#` lines that end the list.
    expect(lines.indexOf(note!)).toBeGreaterThan(lines.indexOf(carry[0]!));
    const json = await ws.cli(['apply', plan, '--db', db, '--dry-run', '--json']);
    expect(JSON.stringify(JSON.parse(json.stdout))).toContain('not read since the plan was made');

    // The snapshot it names: the dry run (as apply) now refuses the plan over R2.
    expect((await ws.cli(['snapshot', '--db', db])).code).toBe(0);
    const refused = await ws.cli(['apply', plan, '--db', db, '--dry-run']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(
      /^refused: the ledger now holds 1 opt-out record\(s\) \(acme: 1\) for this plan's numbers that the plan does not carry/m,
    );

    // A plan without --carry-optouts carries nothing: no such line.
    const plain = ws.dir.file('plain.json');
    await makePlan(ws.cli, { mapping: ws.dir.file('m.csv'), db, out: plain });
    const plainDry = await ws.cli(['apply', plain, '--db', db, '--dry-run']);
    expect(plainDry.code, plainDry.stderr).toBe(0);
    expect(plainDry.stdout).not.toContain('not read since the plan');
  });
});
