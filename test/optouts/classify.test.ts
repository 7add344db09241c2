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
