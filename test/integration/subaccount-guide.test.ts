/**
 * The five steps of Twilio's subaccount guide, through the real SDK over HTTP against the
 * emulator: create a subaccount, transfer a number (parent credentials), create a Messaging
 * Service (subaccount credentials), add the number, send through the service.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

describe('the subaccount guide, step by step', () => {
  let env: TestEmulator;
  let numberSid: string;

  beforeAll(async () => {
    env = await startTestEmulator();
    const seeded = await env.seed({ numbers: [{ phone_number: '+14158740103' }] });
    numberSid = seeded.numbers[0]!.sid;
  });
  afterAll(() => env.close());

  it('moves a number into a subaccount and sends through its own Messaging Service', async () => {
    // 1. create a subaccount, parent credentials
    const sub = await env.parent.api.v2010.accounts.create({ friendlyName: 'Falcon Flights' });
    expect(sub.sid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(sub.ownerAccountSid).toBe(env.parentSid);
    expect(sub.status).toBe('active');
    expect(sub.friendlyName).toBe('Falcon Flights');

    // 2. transfer the number, parent credentials, path = current owner (the parent)
    const moved = await env.parent.api.v2010
      .accounts(env.parentSid)
      .incomingPhoneNumbers(numberSid)
      .update({ accountSid: sub.sid });
    expect(moved.sid).toBe(numberSid);
    expect(moved.accountSid).toBe(sub.sid);
    expect(moved.uri).toBe(
      `/2010-04-01/Accounts/${sub.sid}/IncomingPhoneNumbers/${numberSid}.json`,
    );

    // 3. create a Messaging Service with the subaccount's own credentials
    const fetched = await env.parent.api.v2010.accounts(sub.sid).fetch();
    const subClient = env.clientFor(sub.sid, fetched.authToken);
    const service = await subClient.messaging.v1.services.create({
      friendlyName: 'falconFlightsNotifications',
    });
    expect(service.sid).toMatch(/^MG[0-9a-f]{32}$/);
    expect(service.accountSid).toBe(sub.sid);

    // 4. add the number to the service
    const member = await subClient.messaging.v1.services(service.sid).phoneNumbers.create({
      phoneNumberSid: numberSid,
    });
    expect(member.sid).toBe(numberSid);
    expect(member.serviceSid).toBe(service.sid);
    expect(member.accountSid).toBe(sub.sid);
    expect(member.phoneNumber).toBe('+14158740103');

    // 5. send through the service from the subaccount
    const message = await subClient.messages.create({
      messagingServiceSid: service.sid,
      to: '+14155550142',
      body: 'Your flight FF 212 boards at gate 4.',
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.accountSid).toBe(sub.sid);
    expect(message.from).toBe('+14158740103');
    expect(message.messagingServiceSid).toBe(service.sid);
    expect(message.direction).toBe('outbound-api');

    // The world now looks as the guide promises.
    const state = await env.state();
    expect(state.numbers).toEqual([
      expect.objectContaining({
        sid: numberSid,
        account_sid: sub.sid,
        messaging_service_sid: service.sid,
      }),
    ]);
    expect(env.httpClient.validated).toBeGreaterThanOrEqual(6);
    expect(env.httpClient.violations).toEqual([]);
  });
});
