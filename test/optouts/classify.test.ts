import { describe, expect, it } from 'vitest';

import { classifyMessage, UNSUBSCRIBED_RECIPIENT } from '../../src/optouts/classify.js';
import type { Message } from '../../src/twilio/port.js';

const TWILIO_LOCAL = '+14155550100';
const TWILIO_TOLL_FREE_BY_TYPE = '+14155550199';
const END_USER = '+14155550123';

function message(overrides: Partial<Message> = {}): Message {
  return {
    sid: 'SM00000000000000000000000000000001',
    accountSid: 'AC00000000000000000000000000000001',
    from: END_USER,
    to: TWILIO_LOCAL,
    body: 'STOP',
    direction: 'inbound',
    status: 'received',
    dateSent: new Date('2024-03-05T14:15:16.789Z'),
    errorCode: null,
    messagingServiceSid: null,
    ...overrides,
  };
}

const noTypes = new Map<string, string | null>();
const types = new Map<string, string | null>([
  [TWILIO_LOCAL, 'local'],
  [TWILIO_TOLL_FREE_BY_TYPE, 'toll-free'],
]);

describe('classifyMessage: inbound', () => {
  it('an inbound keyword is an event from the end user to the Twilio number', () => {
    expect(classifyMessage(message({ body: ' stop\n' }), noTypes)).toEqual({
      messageSid: 'SM00000000000000000000000000000001',
      accountSid: 'AC00000000000000000000000000000001',
      kind: 'opt-out',
      keyword: 'STOP',
      twilioNumber: TWILIO_LOCAL,
      endUser: END_USER,
      channel: null,
      messagingServiceSid: null,
      direction: 'inbound',
      body: ' stop\n',
      dateSent: '2024-03-05T14:15:16Z',
      errorCode: null,
    });
  });

  it.each([
    { body: 'START', kind: 'opt-in', keyword: 'START' },
    { body: 'yes', kind: 'opt-in', keyword: 'YES' },
    { body: 'Help', kind: 'help', keyword: 'HELP' },
    { body: 'unsubscribe', kind: 'opt-out', keyword: 'UNSUBSCRIBE' },
  ])('$body → $kind', ({ body, kind, keyword }) => {
    expect(classifyMessage(message({ body }), types)).toMatchObject({ kind, keyword });
  });

  it('keeps the messaging service the keyword came through', () => {
    const event = classifyMessage(
      message({ messagingServiceSid: 'MG00000000000000000000000000000001' }),
      noTypes,
    );
    expect(event?.messagingServiceSid).toBe('MG00000000000000000000000000000001');
  });

  it.each(['hello', 'STOP PLEASE', 'stop.', ''])('a non-keyword body %j → null', (body) => {
    expect(classifyMessage(message({ body }), noTypes)).toBeNull();
  });

  it('YES to a number whose type map says toll-free → null', () => {
    expect(
      classifyMessage(message({ body: 'YES', to: TWILIO_TOLL_FREE_BY_TYPE }), types),
    ).toBeNull();
  });

  it('YES to a toll-free prefix with no type known → null', () => {
    expect(classifyMessage(message({ body: 'YES', to: '+18885550100' }), noTypes)).toBeNull();
  });

  it('START to a toll-free number still opts in', () => {
    expect(
      classifyMessage(message({ body: 'START', to: TWILIO_TOLL_FREE_BY_TYPE }), types),
    ).toMatchObject({ kind: 'opt-in', keyword: 'START', twilioNumber: TWILIO_TOLL_FREE_BY_TYPE });
  });

  it('the type of the sender does not matter, only of the receiving number', () => {
    const event = classifyMessage(
      message({ body: 'YES', from: TWILIO_TOLL_FREE_BY_TYPE, to: TWILIO_LOCAL }),
      types,
    );
    expect(event).toMatchObject({ kind: 'opt-in', keyword: 'YES' });
  });

  it('an inbound keyword with no date is still evidence, marked undated (never dropped)', () => {
    expect(classifyMessage(message({ dateSent: null }), noTypes)).toMatchObject({
      kind: 'opt-out',
      keyword: 'STOP',
      dateSent: null,
    });
  });
});

describe('classifyMessage: outbound', () => {
  it('a send refused with 21610 is evidence from the Twilio number to the end user', () => {
    const refused = message({
      direction: 'outbound-api',
      from: TWILIO_LOCAL,
      to: END_USER,
      body: 'Your order shipped',
      status: 'failed',
      errorCode: UNSUBSCRIBED_RECIPIENT,
    });
    expect(UNSUBSCRIBED_RECIPIENT).toBe(21610);
    expect(classifyMessage(refused, noTypes)).toEqual({
      messageSid: refused.sid,
      accountSid: refused.accountSid,
      kind: 'refused',
      keyword: null,
      twilioNumber: TWILIO_LOCAL,
      endUser: END_USER,
      channel: null,
      messagingServiceSid: null,
      direction: 'outbound-api',
      body: 'Your order shipped',
      dateSent: '2024-03-05T14:15:16Z',
      errorCode: 21610,
    });
  });

  it.each(['outbound-api', 'outbound-reply', 'outbound-call'] as const)(
    'an %s message whose body is STOP → null',
    (direction) => {
      const sent = message({ direction, from: TWILIO_LOCAL, to: END_USER, body: 'STOP' });
      expect(classifyMessage(sent, noTypes)).toBeNull();
    },
  );

  it('an outbound failure with another error code → null', () => {
    const failed = message({
      direction: 'outbound-api',
      from: TWILIO_LOCAL,
      to: END_USER,
      status: 'undelivered',
      errorCode: 30003,
    });
    expect(classifyMessage(failed, noTypes)).toBeNull();
  });

  it('a refused send with no date is still evidence, marked undated', () => {
    const refused = message({
      direction: 'outbound-api',
      from: TWILIO_LOCAL,
      to: END_USER,
      errorCode: UNSUBSCRIBED_RECIPIENT,
      dateSent: null,
    });
    expect(classifyMessage(refused, noTypes)).toMatchObject({ kind: 'refused', dateSent: null });
  });
});

describe('classifyMessage: channel addresses', () => {
  it.each([
    // RCS and WhatsApp: the E.164 numbers the addresses carry, the channel beside them.
    [`rcs:${END_USER}`, `rcs:${TWILIO_LOCAL}`, TWILIO_LOCAL, END_USER, 'rcs'],
    [`whatsapp:${END_USER}`, `whatsapp:${TWILIO_LOCAL}`, TWILIO_LOCAL, END_USER, 'whatsapp'],
    [`RCS:${END_USER}`, `RCS:${TWILIO_LOCAL}`, TWILIO_LOCAL, END_USER, 'rcs'],
    // An RCS agent is no phone number: kept as written.
    [`rcs:${END_USER}`, 'rcs:brand_agent', 'rcs:brand_agent', END_USER, 'rcs'],
    // Nor is a Messenger user, nor a short code.
    [
      'messenger:2417354912',
      'messenger:10101',
      'messenger:10101',
      'messenger:2417354912',
      'messenger',
    ],
    [END_USER, '12345', '12345', END_USER, null],
  ])('%s → %s', (from, to, twilioNumber, endUser, channel) => {
    expect(classifyMessage(message({ from, to }), noTypes)).toMatchObject({
      kind: 'opt-out',
      twilioNumber,
      endUser,
      channel,
    });
  });

  it('a refused send from an alphanumeric sender or over a channel keeps the E.164 recipient', () => {
    const refused = (from: string, to: string) =>
      classifyMessage(
        message({
          from,
          to,
          direction: 'outbound-api',
          status: 'failed',
          errorCode: UNSUBSCRIBED_RECIPIENT,
        }),
        noTypes,
      );
    expect(refused('OWLIE', END_USER)).toMatchObject({
      twilioNumber: 'OWLIE',
      endUser: END_USER,
      channel: null,
    });
    expect(refused(`rcs:${TWILIO_LOCAL}`, `rcs:${END_USER}`)).toMatchObject({
      twilioNumber: TWILIO_LOCAL,
      endUser: END_USER,
      channel: 'rcs',
    });
  });

  it('a START over RCS is an opt-in; over WhatsApp or another channel it lifts nothing', () => {
    const start = (from: string, to: string) =>
      classifyMessage(message({ from, to, body: 'START' }), noTypes);
    expect(start(`rcs:${END_USER}`, `rcs:${TWILIO_LOCAL}`)).toMatchObject({ kind: 'opt-in' });
    expect(start(`rcs:${END_USER}`, 'rcs:brand_agent')).toMatchObject({ kind: 'opt-in' });
    expect(start(`whatsapp:${END_USER}`, `whatsapp:${TWILIO_LOCAL}`)).toBeNull();
    expect(start('messenger:2417354912', 'messenger:10101')).toBeNull();
    // Its STOP and HELP still count.
    expect(
      classifyMessage(message({ from: `whatsapp:${END_USER}`, body: 'HELP' }), noTypes),
    ).toMatchObject({ kind: 'help', channel: 'whatsapp' });
  });

  it('a YES over RCS to a toll-free number is no opt-in, by area code or by type', () => {
    const yes = (to: string) =>
      classifyMessage(message({ from: `rcs:${END_USER}`, to, body: 'YES' }), types);
    expect(yes('rcs:+18005550100')).toBeNull();
    expect(yes(`rcs:${TWILIO_TOLL_FREE_BY_TYPE}`)).toBeNull();
    expect(yes(`rcs:${TWILIO_LOCAL}`)).toMatchObject({ kind: 'opt-in' });
  });
});
