/**
 * A STOP the parent dated a few seconds after the journal's time for the move: the move's time
 * is this machine's clock and a STOP's date_sent Twilio's, so when Twilio's clock runs ahead a
 * STOP said to the number just before it left is dated after the move by ours. The lists count
 * it (the two-minute allowance, docs/opt-out-rules.md Coverage): so must reconcile, which holds
 * the number's sends from its subaccount to its list as it stood when it left the parent.
 * Needs `npm run build`.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ownClient } from '../support/emulator.js';
import { planAndApply, readCsv, useCliWorkspace } from '../support/migration.js';
import { readOnly } from '../support/snapshot-harness.js';

const X = '+14155550151';
const P = '+12065550151';
/** How far ahead of ours Twilio's clock runs here: well inside the two-minute allowance. */
const AHEAD_MS = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile: a STOP dated by Twilio just after the move by our clock', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: X, sms_url: 'https://app.example/x' }] });

  it("is on the number's list, and a send to that person is a violation", async () => {
    const db = ws.dir.file('s.db');
    writeFileSync(ws.dir.file('m.csv'), `customer_id,customer_name,phone_number\nacme,Acme,${X}\n`);
    expect((await ws.cli(['snapshot', '--no-export', '--db', db])).code).toBe(0);
    await planAndApply(ws.cli, { mapping: 'm.csv', db, out: ws.dir.file('p.json') });
    const movedAt = readOnly(
      db,
      (d) =>
        d
          .prepare("SELECT finished_at AS at FROM apply_steps WHERE action = 'transfer_number'")
          .get() as { at: string },
    ).at;

    // P said STOP to X in the parent just before it left; Twilio dated it AHEAD_MS after the
    // move's time in the journal. A snapshot once our clock has passed it reads it.
    const [stop] = (
      await ws.env.seed({
        messages: [
          {
            from: P,
            to: X,
            body: 'STOP',
            direction: 'inbound',
            account_sid: ws.env.parentSid,
            date_sent: new Date(Date.parse(movedAt) + AHEAD_MS).toISOString(),
          },
        ],
      })
    ).messages;
    await sleep(AHEAD_MS + 1_100);
    const read = await ws.cli(['snapshot', '--no-export', '--db', db]);
    expect(read.code, read.stderr).toBe(0);
    const listed = await ws.cli(['optouts', '--customer', 'acme', '--db', db]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(stop!.sid);

    // The customer's application texts P from X, now in its subaccount.
    const sub = (await ws.env.state()).accounts.find((a) => a.friendly_name === 'Acme')!.sid;
    const sent = await ownClient(ws.env, sub).messages.create({ to: P, from: X, body: 'Sale!' });

    const reconciled = await ws.cli(['reconcile', '--db', db]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const rows = readCsv(join(ws.dir.path, 'reports', '1', 'violations.csv'));
    expect(
      rows.map((r) => [r['recipient'], r['stop_message_sid'], r['violating_message_sid']]),
    ).toEqual([[P, stop!.sid, sent.sid]]);
  });
});
