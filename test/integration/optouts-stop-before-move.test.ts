import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const DAY = 86_400_000;
const A1 = '+14155550801';
const [R1, R3] = ['+12065550801', '+12065550803'];
// Snapshot windows and journal times are kept to the second: a STOP a second after the plan's
// read, and a move a second after the STOP, fall on seconds of their own.
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

/**
 * A STOP said to a number after the plan's refresh read its account and before apply moved it
 * out: Twilio's parent enforced it, the subaccount the number went to never saw it, and no
 * read of the ledger had. Its customer's list must not be vouched for as whole.
 */
describe('a STOP between the plan and the move', () => {
  const ws = useCliWorkspace({
    numbers: [{ phone_number: A1, sms_url: 'https://acme.example/sms' }],
    messages: [seededStop(R1, A1, Date.now() - 3 * DAY)],
  });

  it('leaves the list of the customer whose number moved not whole', async () => {
    writeFileSync(
      ws.dir.file('m.csv'),
      `customer_id,customer_name,phone_number,messaging_service\nacme,Acme,${A1},acmeSvc\n`,
    );
    const planned = await ws.cli(['plan', '--mapping', 'm.csv', '--out', 'p.json']);
    expect(planned.code, planned.stderr).toBe(0);
    await nextSecond();
    await ws.env.seed({ messages: [seededStop(R3, A1, Date.now())] });
    await nextSecond();
    const applied = await ws.cli(['apply', 'p.json', '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toMatch(/suppression lists of 1 customer\(s\) are not whole \(acme\)/);

    const listed = await ws.cli(['optouts', '--customer', 'acme']);
    expect(listed.stderr).toMatch(/^not read: AC\w+ \S+ → \S+/m);
    expect(listed.stderr).toContain('this list is not whole');
    expect(listed.code).not.toBe(0);
    const runDir = ws.dir.file('reports/1');
    const rows = readCsv(`${runDir}/optouts.csv`);
    expect(rows.map((r) => [r.recipient, r.customer_list])).toEqual([[R1, 'not_whole']]);
  });
});
