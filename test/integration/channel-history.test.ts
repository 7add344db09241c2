/**
 * Message history is not only E.164 SMS: the Messages API lists RCS and WhatsApp messages in
 * the same list, their `from` and `to` channel addresses (`rcs:+1…`, `whatsapp:+1…`, an RCS
 * agent `rcs:brand_agent`), beside short codes and alphanumeric senders. Since 16 March 2026
 * Twilio keeps RCS and SMS opt-outs as one per sender or service: a person who replied STOP
 * over RCS is opted out of the number's SMS too, and the customer's app, which compares E.164
 * numbers, must find `+1…` on its list, not `rcs:+1…`. A WhatsApp STOP is kept too (the safe
 * side). Evidence from a sender that is no phone number and went through no service cannot be
 * placed on any number's list: every coverage statement says so. Needs `npm run build`.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { emulatorOptOuts } from '../support/emulator.js';
import { makePlan, readCsv, seededStop, useCliWorkspace } from '../support/migration.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const DAY = 86_400_000;
const A = '+14155550401';
const B = '+14155550402';
const C = '+14155550403';
/** Replied STOP over RCS to number A. */
const P1 = '+12065550001';
/** Replied STOP over RCS to the brand's agent, in B's Messaging Service. */
const P2 = '+12065550002';
/** Replied STOP over WhatsApp to number C. */
const P3 = '+12065550003';
/** Replied STOP over RCS to an agent in no service. */
const P4 = '+12065550004';
/** Replied STOP to a short code. */
const P5 = '+12065550005';
/** Refused with 21610 from an alphanumeric sender. */
const P6 = '+12065550006';
/** Replied STOP by SMS to number A, then START over WhatsApp to A's WhatsApp address. */
const P7 = '+12065550007';
const SERVICE = 'MG' + 'a'.repeat(32);

describe('opt-outs from RCS and WhatsApp history', () => {
  const ws = useCliWorkspace(
    {
      numbers: [{ phone_number: A }, { phone_number: B }, { phone_number: C }],
      services: [{ friendly_name: 'Bistro texts', sid: SERVICE, phone_numbers: [B] }],
    },
    NOW,
  );

  it('keys every opt-out by the E.164 number, places each on its number’s list and carries it', async () => {
    const { cli, dir, env } = ws;
    const parent = env.parentSid;
    const { messages } = await env.seed({
      messages: [
        seededStop(`rcs:${P1}`, `rcs:${A}`, NOW - 6 * DAY),
        seededStop(P7, A, NOW - 8 * DAY),
        {
          ...seededStop(`whatsapp:${P7}`, `whatsapp:${A}`, NOW - 7 * DAY),
          body: 'START',
        },
        {
          ...seededStop(`rcs:${P2}`, 'rcs:bistro_agent', NOW - 5 * DAY, parent),
          messaging_service_sid: SERVICE,
        },
        seededStop(`whatsapp:${P3}`, `whatsapp:${C}`, NOW - 4 * DAY),
        seededStop(`rcs:${P4}`, 'rcs:lonely_agent', NOW - 3 * DAY, parent),
        seededStop(P5, '12345', NOW - 2 * DAY, parent),
        {
          from: 'BISTRO',
          to: P6,
          body: 'Your table is ready',
          direction: 'outbound-api' as const,
          date_sent: new Date(NOW - DAY).toISOString(),
          status: 'failed',
          error_code: 21610,
          account_sid: parent,
        },
      ],
    });
    const [rcsStop, smsStop, , agentStop, whatsappStop] = messages.map((m) => m.sid);
    // Twilio's own verdict (its hidden store, read without a send: a refused send would be
    // evidence of its own): the RCS STOPs stop SMS from A and from B's service.
    expect(
      (await emulatorOptOuts(env)).map((o) => [o.scope, o.sender_number, o.recipient]).sort(),
    ).toEqual(
      [
        ['number', A, P1],
        ['number', A, P7],
        ['number', '12345', P5],
        ['number', 'rcs:lonely_agent', P4],
        ['number', `whatsapp:${C}`, `whatsapp:${P3}`],
        ['service', 'rcs:bistro_agent', P2],
      ].sort(),
    );

    const db = dir.file('c.db');
    const plan = dir.file('c.plan.json');
    writeFileSync(
      dir.file('m.csv'),
      `customer_id,customer_name,phone_number\nacme,Acme,${A}\nbistro,Bistro,${B}\ncafe,Cafe,${C}\n`,
    );
    const snapshot = await cli(['snapshot', '--no-export', '--db', db]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    await makePlan(cli, { mapping: 'm.csv', db, out: plan, plan: ['--carry-optouts'] });
    const made = JSON.parse(readFileSync(plan, 'utf8')) as {
      customers: { customer_id: string; optouts: number }[];
      warnings: { code: string; customer_id: string | null; message: string }[];
    };
    expect(made.warnings.filter((w) => w.code === 'optouts_not_placed')).toEqual([
      {
        code: 'optouts_not_placed',
        customer_id: null,
        message: expect.stringMatching(/^3 opted-out pair\(s\) .* on no customer's list/),
      },
    ]);
    expect(made.customers.map((c) => [c.customer_id, c.optouts])).toEqual([
      ['acme', 2],
      ['bistro', 1],
      ['cafe', 1],
    ]);

    const listed = await cli(['optouts', '--db', db, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const whole = JSON.parse(listed.stdout) as {
      coverage: {
        not_placed: {
          account_sid: string;
          sender: string;
          recipient: string;
          evidence_message_sid: string;
        }[];
      };
      optouts: Record<string, string | null>[];
    };
    expect(
      whole.optouts.map((r) => [
        r['customer_id'],
        r['recipient'],
        r['sender_number'],
        r['channel'],
      ]),
    ).toEqual([
      ['acme', P1, A, 'rcs'],
      // The START over WhatsApp lifts no SMS STOP (Twilio still refuses the SMS).
      ['acme', P7, A, null],
      ['bistro', P2, 'rcs:bistro_agent', 'rcs'],
      ['cafe', P3, C, 'whatsapp'],
      [null, P4, 'rcs:lonely_agent', 'rcs'],
      [null, P5, '12345', null],
      [null, P6, 'BISTRO', null],
    ]);
    // Said, not dropped: evidence from a sender that is no phone number, through no service.
    expect(whole.coverage.not_placed.map((n) => [n.sender, n.recipient])).toEqual([
      ['12345', P5],
      ['BISTRO', P6],
      ['rcs:lonely_agent', P4],
    ]);
    const csv = await cli(['optouts', '--db', db]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stderr).toMatch(/^not placed: AC\w+ rcs:lonely_agent → \+12065550004 \(rcs, SM/m);
    expect(csv.stdout.split('\n')[1]).toMatch(/^acme,Acme,\+12065550001,\+14155550401,.*,rcs$/);

    const applied = await cli(['apply', plan, '--db', db, '--rate', '1000']);
    expect(applied.code, applied.stderr).toBe(0);
    const report = await cli(['report', '--db', db]);
    expect(report.code, report.stderr).toBe(0);
    const lists = Object.fromEntries(
      ['acme', 'bistro', 'cafe'].map((id) => [
        id,
        readCsv(dir.file(`reports/1/optouts/${id}.csv`)).map((r) => [
          r['recipient'],
          r['stop_message_sid'],
          r['channel'],
        ]),
      ]),
    );
    expect(lists).toEqual({
      acme: [
        [P1, rcsStop, 'rcs'],
        [P7, smsStop, ''],
      ],
      bistro: [[P2, agentStop, 'rcs']],
      cafe: [[P3, whatsappStop, 'whatsapp']],
    });
    expect(readFileSync(dir.file('reports/1/coverage.txt'), 'utf8')).toMatch(
      /not placed: .*rcs:lonely_agent/,
    );

    // Carried: in each subaccount Twilio itself refuses the SMS to the person who said STOP.
    const state = await env.state();
    const subOf = (number: string) =>
      state.numbers.find((n) => n.phone_number === number)!.account_sid;
    const carried = (await emulatorOptOuts(env))
      .filter((o) => o.account_sid !== parent)
      .map((o) => [o.account_sid, o.recipient]);
    expect(carried.sort()).toEqual(
      [
        [subOf(A), P1],
        [subOf(A), P7],
        [subOf(B), P2],
        [subOf(C), P3],
      ].sort(),
    );
  });
});
