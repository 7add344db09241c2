/**
 * Message history from channels other than SMS, as Twilio writes it in `from` and `to`:
 * `rcs:+1…` and `whatsapp:+1…` channel addresses, an RCS agent (`rcs:brand_agent`), short codes
 * and alphanumeric sender IDs. The emulator keeps every address as given (Twilio's spec: "or
 * channel address (e.g., `whatsapp:+15554449999`)"), finds the Twilio number a channel address
 * carries, and keys its opt-out store as Twilio's unified opt-outs do: an RCS STOP blocks SMS
 * from that sender or service too; a WhatsApp STOP is not documented as an SMS opt-out.
 */

import { beforeEach, describe, expect, it } from 'vitest';

import { emulatorOptOuts, sendOutcome, useEmulator } from '../support/emulator.js';

const A = '+14155550301';
const IN_SERVICE = '+14155550302';
const P1 = '+16505550001';
const P2 = '+16505550002';
const P3 = '+16505550003';
const P4 = '+16505550004';
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const at = (days: number) => new Date(NOW - days * 86_400_000).toISOString();

describe('emulator: channel addresses in message history', () => {
  const env = useEmulator({ now: () => NOW });
  let serviceSid: string;

  beforeEach(async () => {
    const seeded = await env.seed({
      numbers: [{ phone_number: A }, { phone_number: IN_SERVICE }],
      services: [{ friendly_name: 'Reminders', phone_numbers: [IN_SERVICE] }],
    });
    serviceSid = seeded.services[0]!.sid;
  });

  const stop = (from: string, to: string, days: number, extra: object = {}) => ({
    from,
    to,
    body: 'STOP',
    direction: 'inbound' as const,
    date_sent: at(days),
    ...extra,
  });

  it('keeps the addresses as written and finds the number a channel address carries', async () => {
    await env.seed({
      messages: [
        stop(`rcs:${P1}`, `rcs:${A}`, 5),
        stop(`whatsapp:${P2}`, `whatsapp:${IN_SERVICE}`, 4),
        stop(`rcs:${P3}`, 'rcs:owlie_agent', 3, {
          account_sid: env.parentSid,
          messaging_service_sid: serviceSid,
        }),
        stop(P4, '12345', 2, { account_sid: env.parentSid }),
        {
          from: 'OWLIE',
          to: P4,
          body: 'Your order shipped',
          direction: 'outbound-api' as const,
          date_sent: at(1),
          status: 'failed',
          error_code: 21610,
          account_sid: env.parentSid,
        },
      ],
    });
    const listed = await env.parent.messages.list({});
    expect(listed.map((m) => [m.from, m.to, m.messagingServiceSid])).toEqual([
      ['OWLIE', P4, null],
      [P4, '12345', null],
      [`rcs:${P3}`, 'rcs:owlie_agent', serviceSid],
      // The number's service, as for an SMS to it.
      [`whatsapp:${P2}`, `whatsapp:${IN_SERVICE}`, serviceSid],
      [`rcs:${P1}`, `rcs:${A}`, null],
    ]);
    // The Messages list filters on the address as written.
    expect((await env.parent.messages.list({ to: `rcs:${A}` })).map((m) => m.from)).toEqual([
      `rcs:${P1}`,
    ]);
  });

  it('lets an RCS STOP block SMS from its sender and its service, and a WhatsApp STOP not', async () => {
    await env.seed({
      messages: [
        stop(`rcs:${P1}`, `rcs:${A}`, 5),
        stop(`rcs:${P3}`, 'rcs:owlie_agent', 3, {
          account_sid: env.parentSid,
          messaging_service_sid: serviceSid,
        }),
        stop(`whatsapp:${P2}`, `whatsapp:${A}`, 4),
      ],
    });
    expect(await sendOutcome(env.parent, P1, { from: A })).toBe(21610);
    expect(await sendOutcome(env.parent, `rcs:${P1}`, { from: `rcs:${A}` })).toBe(21610);
    expect(await sendOutcome(env.parent, P3, { messagingServiceSid: serviceSid })).toBe(21610);
    expect(await sendOutcome(env.parent, P2, { from: A })).toBe(201);
    // Over WhatsApp itself it is kept apart, under WhatsApp's addresses.
    expect(await sendOutcome(env.parent, `whatsapp:${P2}`, { from: `whatsapp:${A}` })).toBe(21610);
    const store = await emulatorOptOuts(env);
    expect(store.map((o) => [o.scope, o.sender_number, o.recipient]).sort()).toEqual(
      [
        ['number', A, P1],
        ['number', `whatsapp:${A}`, `whatsapp:${P2}`],
        ['service', 'rcs:owlie_agent', P3],
      ].sort(),
    );
    // A send over a channel is in the history with its addresses as sent.
    const sent = await env.parent.messages.create({
      from: `whatsapp:${A}`,
      to: `whatsapp:${P4}`,
      body: 'hi',
    });
    expect([sent.from, sent.to]).toEqual([`whatsapp:${A}`, `whatsapp:${P4}`]);
  });

  it('refuses a message from a sender no number carries unless its account is given', async () => {
    await expect(env.seed({ messages: [stop(`rcs:${P1}`, 'rcs:owlie_agent', 1)] })).rejects.toThrow(
      /messages\[0\]: no account owns rcs:owlie_agent; give the message an account_sid/,
    );
  });
});
