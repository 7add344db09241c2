/**
 * The emulator's opt-out handling (docs/opt-out-rules.md), seen the way a sender sees it: inbound
 * keywords through the control plane, then sends through the real SDK that are refused with
 * 21610 or go through with 201. And the headline: a number moved to a subaccount leaves its
 * opt-outs behind in the parent, so the same send from the subaccount goes through.
 */

import { beforeEach, describe, expect, it } from 'vitest';

import type { TwilioClient } from '../../src/twilio/client.js';
import { emulatorOptOuts, useEmulator } from '../support/emulator.js';

const LOCAL_A = '+14155550101';
const LOCAL_B = '+14155550102';
const TOLL_FREE = '+18005550103';
const SVC_1 = '+14155550104';
const SVC_2 = '+14155550105';
/** The emulator's clock: the seeded March 2025 messages are well inside the retention window. */
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

describe('opt-outs', () => {
  const env = useEmulator({ checkSchema: false, now: () => NOW });
  let serviceSid: string;
  let numberSids: Map<string, string>;
  let sub: { sid: string; auth_token: string };
  let userCounter = 0;

  beforeEach(async () => {
    const seeded = await env.seed({
      subaccounts: [{ friendly_name: 'Falcon Flights' }],
      numbers: [
        { phone_number: LOCAL_A },
        { phone_number: LOCAL_B },
        { phone_number: TOLL_FREE, type: 'toll-free' },
        { phone_number: SVC_1 },
        { phone_number: SVC_2 },
      ],
      services: [{ friendly_name: 'Reminders', phone_numbers: [SVC_1, SVC_2] }],
    });
    serviceSid = seeded.services[0]!.sid;
    numberSids = new Map(seeded.numbers.map((n) => [n.phone_number, n.sid]));
    sub = seeded.subaccounts[0]!;
  });

  /** A fresh end user for each use, so cases never share state. */
  const newUser = () => `+1650555${String(2000 + userCounter++).padStart(4, '0')}`;

  async function inbound(from: string, to: string, body: string, dateSent?: string) {
    return env.control<{ sid: string; account_sid: string; messaging_service_sid: string | null }>(
      'POST',
      '/__emulator/inbound',
      dateSent === undefined ? { from, to, body } : { from, to, body, date_sent: dateSent },
    );
  }

  /** The HTTP status of a send, and Twilio's code when it was refused. */
  async function send(
    params: { from?: string; messagingServiceSid?: string; to: string },
    client: TwilioClient = env.parent,
  ): Promise<{ status: number; code: number | null }> {
    try {
      const response = await client.messages.createWithHttpInfo({ ...params, body: 'Reminder' });
      return { status: response.statusCode, code: null };
    } catch (error) {
      const { status, code } = error as { status?: number; code?: number };
      if (typeof status !== 'number') throw error;
      return { status, code: code ?? null };
    }
  }

  const SENT = { status: 201, code: null };
  const REFUSED = { status: 400, code: 21610 };

  const optouts = (all = false) => emulatorOptOuts(env, { all });

  it('STOP refuses the send with 21610; START lets it through again', async () => {
    const user = newUser();
    expect(await send({ from: LOCAL_A, to: user })).toEqual(SENT);
    const stop = await inbound(user, LOCAL_A, 'STOP');
    expect(stop.account_sid).toBe(env.parentSid);
    expect(await send({ from: LOCAL_A, to: user })).toEqual(REFUSED);
    // A refused send is evidence, not a state change.
    expect(await send({ from: LOCAL_A, to: user })).toEqual(REFUSED);
    expect(await optouts()).toEqual([
      expect.objectContaining({
        account_sid: env.parentSid,
        scope: 'number',
        sender_number: LOCAL_A,
        messaging_service_sid: null,
        recipient: user,
        opted_out: true,
        keyword: 'STOP',
        message_sid: stop.sid,
      }),
    ]);

    await inbound(user, LOCAL_A, 'START');
    expect(await send({ from: LOCAL_A, to: user })).toEqual(SENT);
    expect(await optouts()).toEqual([]);
    expect(env.httpClient.violations).toEqual([]);
  });

  it.each([
    ' stop ',
    'Stop',
    'sToP',
    '\tSTOP\n',
    'stopall',
    'Unsubscribe',
    'cancel',
    'END',
    'quit',
    'Revoke',
    'optout',
  ])('the whole body %j opts out', async (body) => {
    const user = newUser();
    await inbound(user, LOCAL_A, body);
    expect(await send({ from: LOCAL_A, to: user })).toEqual(REFUSED);
    expect((await optouts()).map((o) => o.recipient)).toEqual([user]);
  });

  it.each(['STOP PLEASE', 'stop.', 'OPT OUT', 'please stop', 'stopp', 'S T O P'])(
    '%j is not a keyword',
    async (body) => {
      const user = newUser();
      await inbound(user, LOCAL_A, body);
      expect(await send({ from: LOCAL_A, to: user })).toEqual(SENT);
      expect(await optouts(true)).toEqual([]);
      expect(env.httpClient.violations).toEqual([]);
    },
  );

  it('YES opts back in on a local number', async () => {
    const user = newUser();
    await inbound(user, LOCAL_A, 'STOP');
    expect(await send({ from: LOCAL_A, to: user })).toEqual(REFUSED);
    await inbound(user, LOCAL_A, 'yes');
    expect(await send({ from: LOCAL_A, to: user })).toEqual(SENT);
    expect(env.httpClient.violations).toEqual([]);
  });

  it('YES does not opt back in on a toll-free number; START and UNSTOP do', async () => {
    const user = newUser();
    await inbound(user, TOLL_FREE, 'STOP');
    expect(await send({ from: TOLL_FREE, to: user })).toEqual(REFUSED);
    await inbound(user, TOLL_FREE, 'YES');
    expect(await send({ from: TOLL_FREE, to: user })).toEqual(REFUSED);
    expect(await optouts()).toEqual([
      expect.objectContaining({ sender_number: TOLL_FREE, recipient: user, keyword: 'STOP' }),
    ]);
    await inbound(user, TOLL_FREE, 'START');
    expect(await send({ from: TOLL_FREE, to: user })).toEqual(SENT);

    const other = newUser();
    await inbound(other, TOLL_FREE, 'QUIT');
    expect(await send({ from: TOLL_FREE, to: other })).toEqual(REFUSED);
    await inbound(other, TOLL_FREE, 'unstop');
    expect(await send({ from: TOLL_FREE, to: other })).toEqual(SENT);
    expect(env.httpClient.violations).toEqual([]);
  });

  it('HELP and INFO change nothing', async () => {
    const optedOut = newUser();
    await inbound(optedOut, LOCAL_A, 'STOP');
    await inbound(optedOut, LOCAL_A, 'HELP');
    await inbound(optedOut, LOCAL_A, 'info');
    expect(await send({ from: LOCAL_A, to: optedOut })).toEqual(REFUSED);

    const subscribed = newUser();
    await inbound(subscribed, LOCAL_A, 'help');
    await inbound(subscribed, LOCAL_A, 'INFO');
    expect(await send({ from: LOCAL_A, to: subscribed })).toEqual(SENT);

    const all = await optouts(true);
    expect(all.map((o) => [o.recipient, o.keyword, o.opted_out])).toEqual([
      [optedOut, 'STOP', true],
    ]);
    expect(env.httpClient.violations).toEqual([]);
  });

  it('a STOP to a service number opts out of the whole service, not of other numbers', async () => {
    const user = newUser();
    const stop = await inbound(user, SVC_1, 'STOP');
    expect(stop.messaging_service_sid).toBe(serviceSid);

    expect(await send({ from: SVC_2, to: user })).toEqual(REFUSED);
    expect(await send({ from: SVC_1, to: user })).toEqual(REFUSED);
    expect(await send({ messagingServiceSid: serviceSid, to: user })).toEqual(REFUSED);
    // A number outside the service may still text them.
    expect(await send({ from: LOCAL_A, to: user })).toEqual(SENT);
    // Another user of the service is not affected.
    expect(await send({ messagingServiceSid: serviceSid, to: newUser() })).toEqual(SENT);

    expect(await optouts()).toEqual([
      expect.objectContaining({
        account_sid: env.parentSid,
        scope: 'service',
        sender_number: SVC_1,
        messaging_service_sid: serviceSid,
        recipient: user,
      }),
    ]);

    // START to the other number of the service opts back in for the whole service.
    await inbound(user, SVC_2, 'START');
    expect(await send({ from: SVC_1, to: user })).toEqual(SENT);
    expect(await send({ messagingServiceSid: serviceSid, to: user })).toEqual(SENT);
    expect(env.httpClient.violations).toEqual([]);
  });

  it('a number-scope STOP blocks only that number, for that user', async () => {
    const user = newUser();
    await inbound(user, LOCAL_A, 'STOP');
    expect(await send({ from: LOCAL_A, to: user })).toEqual(REFUSED);
    expect(await send({ from: LOCAL_B, to: user })).toEqual(SENT);
    expect(await send({ from: SVC_1, to: user })).toEqual(SENT);
    expect(await send({ messagingServiceSid: serviceSid, to: user })).toEqual(SENT);
    expect(await send({ from: LOCAL_A, to: newUser() })).toEqual(SENT);
    expect(env.httpClient.violations).toEqual([]);
  });

  it('an outbound message saying STOP is not an opt-out', async () => {
    const user = newUser();
    await env.seed({
      messages: [
        {
          from: LOCAL_A,
          to: user,
          body: 'STOP',
          direction: 'outbound-api',
          date_sent: '2025-03-01T10:00:00Z',
        },
      ],
    });
    expect(await send({ from: LOCAL_A, to: user })).toEqual(SENT);
    expect(await optouts(true)).toEqual([]);
  });

  describe('moving a number to a subaccount', () => {
    const transfer = (phone: string) =>
      env.parent.api.v2010
        .accounts(env.parentSid)
        .incomingPhoneNumbers(numberSids.get(phone)!)
        .update({ accountSid: sub.sid });

    it('leaves its opt-outs in the parent: the same send from the subaccount goes through', async () => {
      const user = newUser();
      const stop = await inbound(user, LOCAL_A, 'STOP');
      expect(await send({ from: LOCAL_A, to: user })).toEqual(REFUSED);

      const moved = await transfer(LOCAL_A);
      expect(moved.accountSid).toBe(sub.sid);

      const subClient = env.clientFor(sub.sid, sub.auth_token);
      // The problem submigrate exists for: the customer's number texts an opted-out user.
      expect(await send({ from: LOCAL_A, to: user }, subClient)).toEqual(SENT);
      // The parent may no longer send from it at all (not its number).
      expect(await send({ from: LOCAL_A, to: user })).toEqual({ status: 400, code: 21606 });

      // Twilio's hidden store still has it, under the parent.
      expect(await optouts()).toEqual([
        expect.objectContaining({
          account_sid: env.parentSid,
          scope: 'number',
          sender_number: LOCAL_A,
          recipient: user,
          opted_out: true,
          message_sid: stop.sid,
        }),
      ]);

      // A STOP after the move lands in the subaccount, and is honoured there.
      const again = await inbound(user, LOCAL_A, 'STOP');
      expect(again.account_sid).toBe(sub.sid);
      expect(await send({ from: LOCAL_A, to: user }, subClient)).toEqual(REFUSED);
      expect((await optouts()).map((o) => o.account_sid).sort()).toEqual(
        [env.parentSid, sub.sid].sort(),
      );
      expect(env.httpClient.violations).toEqual([]);
    });

    it('leaves a service-scope opt-out behind as well', async () => {
      const user = newUser();
      await inbound(user, SVC_1, 'STOP');
      expect(await send({ from: SVC_1, to: user })).toEqual(REFUSED);
      await transfer(SVC_1);
      const subClient = env.clientFor(sub.sid, sub.auth_token);
      expect(await send({ from: SVC_1, to: user }, subClient)).toEqual(SENT);
      // The number that stayed in the parent's service is still blocked.
      expect(await send({ from: SVC_2, to: user })).toEqual(REFUSED);
      expect(await optouts()).toEqual([
        expect.objectContaining({
          account_sid: env.parentSid,
          scope: 'service',
          messaging_service_sid: serviceSid,
          sender_number: SVC_1,
          recipient: user,
        }),
      ]);
      expect(env.httpClient.violations).toEqual([]);
    });
  });

  describe('order of keyword events', () => {
    it('seeded messages drive the store in date order, whatever order they are given in', async () => {
      const restarted = newUser();
      const stopped = newUser();
      await env.seed({
        messages: [
          // START listed first but dated after the STOP: the user is subscribed.
          {
            from: restarted,
            to: LOCAL_A,
            body: 'START',
            direction: 'inbound',
            date_sent: '2025-03-01T10:00:05Z',
          },
          {
            from: restarted,
            to: LOCAL_A,
            body: 'STOP',
            direction: 'inbound',
            date_sent: '2025-03-01T10:00:00Z',
          },
          // STOP listed first and dated after the START: the user is opted out.
          {
            from: stopped,
            to: LOCAL_A,
            body: 'STOP',
            direction: 'inbound',
            date_sent: '2025-03-01T10:00:05Z',
          },
          {
            from: stopped,
            to: LOCAL_A,
            body: 'START',
            direction: 'inbound',
            date_sent: '2025-03-01T10:00:00Z',
          },
        ],
      });
      expect(await send({ from: LOCAL_A, to: restarted })).toEqual(SENT);
      expect(await send({ from: LOCAL_A, to: stopped })).toEqual(REFUSED);
      const all = await optouts(true);
      expect(all.map((o) => [o.recipient, o.keyword, o.opted_out]).sort()).toEqual(
        [
          [restarted, 'START', false],
          [stopped, 'STOP', true],
        ].sort(),
      );
      expect(env.httpClient.violations).toEqual([]);
    });

    it('a seeded inbound STOP takes the scope of the number it was sent to', async () => {
      const user = newUser();
      await env.seed({
        messages: [
          {
            from: user,
            to: SVC_1,
            body: 'stop',
            direction: 'inbound',
            date_sent: '2025-03-01T10:00:00Z',
          },
        ],
      });
      expect(await send({ messagingServiceSid: serviceSid, to: user })).toEqual(REFUSED);
      expect(await send({ from: SVC_2, to: user })).toEqual(REFUSED);
      expect(await optouts()).toEqual([
        expect.objectContaining({
          scope: 'service',
          messaging_service_sid: serviceSid,
          recipient: user,
        }),
      ]);
      expect(env.httpClient.violations).toEqual([]);
    });

    it('a live inbound START dated before the STOP changes nothing', async () => {
      const user = newUser();
      await inbound(user, LOCAL_A, 'STOP', '2025-03-01T10:00:05Z');
      await inbound(user, LOCAL_A, 'START', '2025-03-01T10:00:00Z');
      expect(await send({ from: LOCAL_A, to: user })).toEqual(REFUSED);
      await inbound(user, LOCAL_A, 'START', '2025-03-01T10:00:06Z');
      expect(await send({ from: LOCAL_A, to: user })).toEqual(SENT);
      expect(env.httpClient.violations).toEqual([]);
    });
  });
});
