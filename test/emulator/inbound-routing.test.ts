/**
 * Where a live inbound message goes, with real webhook
 * deliveries to an app on 127.0.0.1. The headline is the five-step guide followed literally:
 * the number lands in a name-only Messaging Service, which silently drops its inbound SMS;
 * `UseInboundWebhookOnNumber` or an inbound URL brings them back, now signed with the
 * subaccount's Auth Token, which an app holding the parent's token rejects.
 */

import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startAppServer, type AppServer } from '../support/app-server.js';
import {
  emulatorOptOuts,
  inbound,
  useEmulator,
  webhookLog,
  type SeededSubaccount,
} from '../support/emulator.js';

const NOW = Date.UTC(2026, 2, 15, 12, 0, 0);
const MOVED = '+14158740103';
const PLAIN = '+14158740104';
const CUSTOMER = '+16505550142';

describe('inbound routing and webhooks', () => {
  const env = useEmulator({ now: () => NOW });
  let app: AppServer;
  let numberSid: string;

  beforeAll(async () => {
    app = await startAppServer();
  });
  afterAll(() => app.close());
  beforeEach(async () => {
    app.received.length = 0;
    const { numbers } = await env.seed({
      numbers: [{ phone_number: MOVED, sms_url: `${app.url}/falcon/sms` }],
    });
    numberSid = numbers[0]!.sid;
  });

  /** The guide's five steps, to the letter: the service is created with a name only. */
  async function followTheGuide(): Promise<{ sub: SeededSubaccount; serviceSid: string }> {
    const created = await env.parent.api.v2010.accounts.create({ friendlyName: 'Falcon Flights' });
    const sub = { sid: created.sid, auth_token: created.authToken } as SeededSubaccount;
    await env.parent.api.v2010
      .accounts(env.parentSid)
      .incomingPhoneNumbers(numberSid)
      .update({ accountSid: sub.sid });
    const subClient = env.clientFor(sub.sid, sub.auth_token);
    const service = await subClient.messaging.v1.services.create({
      friendlyName: 'falconFlightsNotifications',
    });
    await subClient.messaging.v1.services(service.sid).phoneNumbers.create({
      phoneNumberSid: numberSid,
    });
    return { sub, serviceSid: service.sid };
  }

  const listBodies = async (accountSid: string, token: string) =>
    (await env.clientFor(accountSid, token).messages.list({ to: MOVED })).map((m) => m.body);

  it('the guide followed literally: the moved number’s inbound SMS is dropped', async () => {
    const { sub, serviceSid } = await followTheGuide();
    const result = await inbound(env, { from: CUSTOMER, to: MOVED, body: 'Is my flight on time?' });
    expect(result).toMatchObject({
      account_sid: sub.sid,
      messaging_service_sid: serviceSid,
      stored: false,
      route: 'dropped',
      webhook: null,
    });
    // In no message list, delivered nowhere.
    expect(await listBodies(sub.sid, sub.auth_token)).toEqual([]);
    expect(await listBodies(env.parentSid, env.parentToken)).toEqual([]);
    expect(app.received).toEqual([]);
    expect(await webhookLog(env)).toEqual([
      {
        time: new Date(NOW).toISOString(),
        message_sid: result.sid,
        account_sid: sub.sid,
        from: CUSTOMER,
        to: MOVED,
        url: null,
        method: null,
        signature: null,
        delivered_status: null,
        dropped: true,
        error: null,
      },
    ]);
  });

  it('a STOP the service drops is still an opt-out, though no message list shows it', async () => {
    const { sub, serviceSid } = await followTheGuide();
    const stop = await inbound(env, { from: CUSTOMER, to: MOVED, body: 'STOP' });
    expect(stop.stored).toBe(false);
    expect(await listBodies(sub.sid, sub.auth_token)).toEqual([]);
    expect(await emulatorOptOuts(env)).toEqual([
      expect.objectContaining({
        account_sid: sub.sid,
        scope: 'service',
        messaging_service_sid: serviceSid,
        recipient: CUSTOMER,
        message_sid: stop.sid,
        source: 'keyword',
      }),
    ]);
    const refused = await env
      .clientFor(sub.sid, sub.auth_token)
      .messages.create({ messagingServiceSid: serviceSid, to: CUSTOMER, body: 'Hi' })
      .catch((error: { code: number }) => error.code);
    expect(refused).toBe(21610);
  });

  it('with UseInboundWebhookOnNumber it reaches the number’s sms_url, signed with the subaccount’s token', async () => {
    const { sub, serviceSid } = await followTheGuide();
    const subClient = env.clientFor(sub.sid, sub.auth_token);
    await subClient.messaging.v1.services(serviceSid).update({ useInboundWebhookOnNumber: true });

    const result = await inbound(env, { from: CUSTOMER, to: MOVED, body: 'STOP' });
    expect(result).toMatchObject({
      stored: true,
      route: 'number-url',
      webhook: { url: `${app.url}/falcon/sms`, method: 'POST', delivered_status: 200 },
    });
    expect(await listBodies(sub.sid, sub.auth_token)).toEqual(['STOP']);
    expect(app.received).toHaveLength(1);
    const [hook] = app.received;
    expect(hook!.method).toBe('POST');
    expect(hook!.contentType).toBe('application/x-www-form-urlencoded');
    expect(hook!.params).toEqual({
      MessageSid: result.sid,
      SmsSid: result.sid,
      SmsMessageSid: result.sid,
      AccountSid: sub.sid,
      MessagingServiceSid: serviceSid,
      From: CUSTOMER,
      To: MOVED,
      Body: 'STOP',
      NumMedia: '0',
      NumSegments: '1',
      SmsStatus: 'received',
      ApiVersion: '2010-04-01',
      OptOutType: 'STOP',
    });
    expect(hook!.signature).toBe(result.webhook!.signature);
    // The app must check with the subaccount's token now; the parent's no longer validates.
    expect(twilio.validateRequest(sub.auth_token, hook!.signature!, hook!.url, hook!.params)).toBe(
      true,
    );
    expect(twilio.validateRequest(env.parentToken, hook!.signature!, hook!.url, hook!.params)).toBe(
      false,
    );
    expect((await webhookLog(env))[0]).toMatchObject({
      account_sid: sub.sid,
      url: `${app.url}/falcon/sms`,
      delivered_status: 200,
      dropped: false,
    });
  });

  it('with an inbound URL on the service it reaches that URL', async () => {
    const { sub, serviceSid } = await followTheGuide();
    await env
      .clientFor(sub.sid, sub.auth_token)
      .messaging.v1.services(serviceSid)
      .update({ inboundRequestUrl: `${app.url}/service/inbound` });
    const result = await inbound(env, { from: CUSTOMER, to: MOVED, body: 'hello' });
    expect(result).toMatchObject({ stored: true, route: 'service-url' });
    expect(app.received.map((r) => r.url)).toEqual([`${app.url}/service/inbound`]);
    expect(app.received[0]!.params['OptOutType']).toBeUndefined();
    expect(
      twilio.validateRequest(
        sub.auth_token,
        app.received[0]!.signature!,
        app.received[0]!.url,
        app.received[0]!.params,
      ),
    ).toBe(true);
  });

  it('before the move the parent’s token signs, and a number in no service uses its sms_url', async () => {
    const result = await inbound(env, { from: CUSTOMER, to: MOVED, body: 'hi' });
    expect(result).toMatchObject({ account_sid: env.parentSid, stored: true, route: 'number-url' });
    const [hook] = app.received;
    expect(hook!.params['MessagingServiceSid']).toBeUndefined();
    expect(twilio.validateRequest(env.parentToken, hook!.signature!, hook!.url, hook!.params)).toBe(
      true,
    );
  });

  it('a number without an sms_url: stored, no webhook', async () => {
    await env.seed({ numbers: [{ phone_number: PLAIN }] });
    const result = await inbound(env, { from: CUSTOMER, to: PLAIN, body: 'hi' });
    expect(result).toMatchObject({ stored: true, route: 'no-url', webhook: null });
    expect((await webhookLog(env))[0]).toMatchObject({ url: null, dropped: false });
    expect(app.received).toEqual([]);
  });

  it('a GET webhook carries the parameters in its query and signs the URL alone', async () => {
    await env.seed({
      numbers: [{ phone_number: PLAIN, sms_url: `${app.url}/get?app=1`, sms_method: 'GET' }],
    });
    const result = await inbound(env, { from: CUSTOMER, to: PLAIN, body: 'START' });
    expect(result.webhook).toMatchObject({ method: 'GET', delivered_status: 200 });
    const [hook] = app.received;
    expect(hook!.method).toBe('GET');
    expect(hook!.params).toMatchObject({ app: '1', Body: 'START', OptOutType: 'START' });
    expect(hook!.url).toBe(result.webhook!.url);
    expect(twilio.validateRequest(env.parentToken, hook!.signature!, hook!.url, {})).toBe(true);
  });

  it('a URL off this machine is recorded with its signature, not called', async () => {
    await env.seed({
      numbers: [{ phone_number: PLAIN }],
      services: [
        {
          friendly_name: 'Owlie Shared',
          phone_numbers: [PLAIN],
          inbound_request_url: 'https://hooks.owlie.example/owlie/inbound',
        },
      ],
    });
    const result = await inbound(env, { from: CUSTOMER, to: PLAIN, body: 'HELP' });
    expect(result).toMatchObject({ stored: true, route: 'service-url' });
    expect(result.webhook).toMatchObject({
      url: 'https://hooks.owlie.example/owlie/inbound',
      delivered_status: null,
      error: null,
    });
    expect(result.webhook!.signature).toMatch(/^[A-Za-z0-9+/]{27}=$/);
  });

  it('an app that is not listening: no status, the reason recorded', async () => {
    const closed = await startAppServer();
    await closed.close();
    await env.seed({ numbers: [{ phone_number: PLAIN, sms_url: `${closed.url}/sms` }] });
    const result = await inbound(env, { from: CUSTOMER, to: PLAIN, body: 'hi' });
    expect(result.webhook).toMatchObject({ delivered_status: null, error: 'ECONNREFUSED' });
    expect(result.stored).toBe(true);
  });

  it('seeded messages are history: stored as given whatever the routing', async () => {
    const { services } = await env.seed({
      numbers: [{ phone_number: PLAIN }],
      services: [{ friendly_name: 'Drops inbound', phone_numbers: [PLAIN] }],
    });
    await env.seed({
      messages: [
        {
          from: CUSTOMER,
          to: PLAIN,
          body: 'STOP',
          direction: 'inbound',
          date_sent: '2026-03-01T10:00:00Z',
        },
      ],
    });
    const listed = await env.parent.messages.list({ to: PLAIN });
    expect(listed.map((m) => [m.body, m.messagingServiceSid])).toEqual([
      ['STOP', services[0]!.sid],
    ]);
    expect(await webhookLog(env)).toEqual([]);
  });

  it('DELETE clears the webhook log, and so does reset', async () => {
    await inbound(env, { from: CUSTOMER, to: MOVED, body: 'one' });
    expect(await webhookLog(env)).toHaveLength(1);
    await env.control('DELETE', '/__emulator/webhooks');
    expect(await webhookLog(env)).toEqual([]);
    await inbound(env, { from: CUSTOMER, to: MOVED, body: 'two' });
    await env.control('POST', '/__emulator/reset');
    expect(await webhookLog(env)).toEqual([]);
  });
});
