/**
 * A moved number moved by hand out of its customer's subaccount into one no pass reads (a
 * subaccount no apply put a number in): it sends from there, where Twilio knows none of the
 * opt-outs it carried, and reconcile, which reads only the subaccounts apply moved numbers into,
 * said "0 violation(s)" (exit 0 with --fail-on-violation). Each pass now finds it there (it
 * lists the numbers of the subaccounts it reads, and, for a moved number in none of them nor in
 * the parent, the family's other subaccounts) and names the span as not checked
 * (`number-away`, the account it is in), kept for good once it is back (the passes through the
 * built CLI; the migration before them in-process; real SDK, emulator over HTTP, real SQLite).
 */

import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { migrateInProcess, seededStop, useCliWorkspaceEach } from '../support/migration.js';

const A = '+14155550971';
const R1 = '+12065550971';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a moved number moved by hand into a subaccount no pass reads', () => {
  const ws = useCliWorkspaceEach();
  const { cli } = ws;
  const db = () => ws.dir.file('r.db');

  /** Someone moves A in the console out of account `from` into account `to`. */
  async function moveAByHand(from: string, to: string) {
    const [number] = await ownClient(ws.env, from).incomingPhoneNumbers.list({ phoneNumber: A });
    await ws.env.parent.api.v2010
      .accounts(from)
      .incomingPhoneNumbers(number!.sid)
      .update({ accountSid: to });
  }

  /** A pass that names A's span in `other` as not checked, and exits 3. */
  async function namesTheSpan(other: string, acme: string) {
    const pass = await cli(['reconcile', '--db', db(), '--fail-on-violation', '--json']);
    expect(pass.code, pass.stderr).toBe(3);
    const result = JSON.parse(pass.stdout) as {
      violations: number;
      notChecked: Record<string, string>[];
    };
    expect(result.violations).toBe(0);
    expect(result.notChecked).toEqual([
      expect.objectContaining({
        accountSid: other,
        reason: 'number-away',
        phoneNumber: A,
        customerId: 'acme',
        subaccountSid: acme,
      }),
    ]);
    expect(pass.stderr).toContain(`not checked: ${other} from `);
    expect(pass.stderr).toContain(
      `while moved number ${A} of acme was there, out of its subaccount ${acme} with no step of apply's (moved by hand)`,
    );
  }

  it('names what it sent from there as not checked, and keeps naming it once it is back', async () => {
    await ws.env.seed({
      numbers: [{ phone_number: A }],
      messages: [seededStop(R1, A, Date.now() - DAY)],
    });
    writeFileSync(
      ws.dir.file('map.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\n`,
    );
    await migrateInProcess(ws.env, { mapping: ws.dir.file('map.csv'), db: db() });
    const acme = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const other = await ws.env.parent.api.v2010.accounts.create({ friendlyName: 'Other' });
    await sleep(1_100);
    await moveAByHand(acme, other.sid);
    // Other's Twilio knows nothing of R1's STOP: the text goes out.
    const sent = await ownClient(ws.env, other.sid).messages.create({
      to: R1,
      from: A,
      body: 'Sale!',
    });
    expect(sent.status).not.toBe('failed');
    await namesTheSpan(other.sid, acme);
    // Back in Acme by hand: the span stays named.
    await moveAByHand(other.sid, acme);
    await sleep(1_100);
    await namesTheSpan(other.sid, acme);
  });
});
