/**
 * A `--carry-optouts` plan, and a STOP said to one of its numbers after the plan was made and
 * before apply moved it (the days between a reviewed plan and the maintenance window). Apply's
 * own gate cannot see it (no snapshot read it yet); its read after the moves puts it on the
 * customer's list, as an opt-out Twilio does not refuse in the subaccount (the plan carried
 * nothing for it). The engineer in the window must hear so from apply itself, with the command
 * that carries it — not only from carry.csv — since a plan made again carries it.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const DAY = 86_400_000;
const A1 = '+14155550811';
const [R1, R3] = ['+12065550811', '+12065550813'];
// Snapshot windows and journal times are kept to the second: the STOP falls on a second of
// its own, after the plan's read and before the move.
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

describe('a STOP between a --carry-optouts plan and the move', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A1, sms_url: 'https://acme.example/sms' }],
    messages: [seededStop(R1, A1, Date.now() - 3 * DAY)],
  });
  const planCarry = () =>
    ws.cli(['plan', '--mapping', 'm.csv', '--carry-optouts', '--out', 'p.json']);

  it('is named by apply as an opt-out the plan does not carry, with the command that carries it', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A1},acmeSvc\n`,
    );
    const planned = await planCarry();
    expect(planned.code, planned.stderr).toBe(0);
    await nextSecond();
    await ws.env.seed({ messages: [seededStop(R3, A1, Date.now())] });
    await nextSecond();

    const applied = await ws.cli(['apply', 'p.json', '--rate', '1000']);
    // The moves and the carry of what the plan held are done: the run is complete.
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Completed.');
    expect(applied.stdout).toContain(
      '1 opt-out record(s) the plan does not carry (STOPs said after it was made)',
    );
    expect(applied.stderr).toMatch(
      /^note: the read after the moves found 1 opt-out record\(s\) \(acme: 1\) that this plan does not carry/m,
    );
    expect(applied.stderr).toContain(
      `submigrate plan --mapping m.csv --carry-optouts --out ${ws.dir.file('p.json')}`,
    );
    expect(applied.stdout + applied.stderr).not.toContain(ws.env.parentToken);

    // The reviewer's files say the same: on the list, not enforced, and why.
    const rows = readCsv(ws.dir.file('reports/1/optouts.csv'));
    expect(rows.map((r) => [r.recipient, r.twilio_enforces])).toEqual([
      [R1, 'yes'],
      [R3, 'no'],
    ]);
    const [carry] = readCsv(ws.dir.file('reports/1/carry.csv'));
    expect(carry!.protection).toContain('opt-outs recorded after the plan was made');
    const audit = readFileSync(ws.dir.file('reports/1/audit.json'), 'utf8');
    expect(audit).toContain('that this plan does not carry');

    // The command it names carries it: the plan made again has one record to write.
    const again = await planCarry();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/\+ opt-outs\s+acme\s+1 /);
  });
});
