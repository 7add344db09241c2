/**
 * The `default_service_sid` setting: Twilio's spec says of a Message's `messaging_service_sid`
 * "A unique default value is assigned if a Messaging Service is not used", without saying what
 * it looks like. With the setting on, every message of the account sent or received without a
 * Messaging Service carries one synthetic `MG` SID; it is no service (not listed, 404 on fetch),
 * and Twilio's opt-outs keep their scope by the real service, else by the number.
 */

import { beforeEach, describe, expect, it } from 'vitest';

import {
  emulatorOptOuts,
  inbound,
  useEmulator,
  type EmulatorSettings,
} from '../support/emulator.js';

const BARE_A = '+14155550201';
const BARE_B = '+14155550202';
const IN_SERVICE = '+14155550203';
const SUB_NUMBER = '+14155550204';
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

describe('emulator: a default messaging_service_sid for messages without a service', () => {
  const env = useEmulator({ now: () => NOW });
  let serviceSid: string;
  let sub: { sid: string; auth_token: string };

  beforeEach(async () => {
    const seeded = await env.seed({
      subaccounts: [{ friendly_name: 'Falcon Flights' }],
      numbers: [{ phone_number: BARE_A }, { phone_number: BARE_B }, { phone_number: IN_SERVICE }],
      services: [{ friendly_name: 'Reminders', phone_numbers: [IN_SERVICE] }],
    });
    serviceSid = seeded.services[0]!.sid;
    sub = seeded.subaccounts[0]!;
    await env.seed({ numbers: [{ phone_number: SUB_NUMBER, account_sid: sub.sid }] });
  });

  const turnOn = (accountSid: string) =>
    env.control<EmulatorSettings>('POST', '/__emulator/settings', {
      account_sid: accountSid,
      default_service_sid: true,
    });

  const sendStatus = async (from: string, to: string): Promise<number | null> => {
    try {
      await env.parent.messages.create({ from, to, body: 'hello' });
      return null;
    } catch (error) {
      return (error as { code: number }).code;
    }
  };

  it('is off by default: a message without a service carries null', async () => {
    const received = await inbound(env, { from: '+16505550001', to: BARE_A, body: 'hi' });
    expect(received.messaging_service_sid).toBeNull();
    const sent = await env.parent.messages.create({ from: BARE_A, to: '+16505550001', body: 'x' });
    expect(sent.messagingServiceSid).toBeNull();
  });

  it('gives every message of the account without a service one MG SID, and a real service its own', async () => {
    expect((await turnOn(env.parentSid)).default_service_sid).toBe(true);
    const toA = await inbound(env, { from: '+16505550001', to: BARE_A, body: 'hi' });
    const toB = await inbound(env, { from: '+16505550002', to: BARE_B, body: 'hi' });
    const fromA = await env.parent.messages.create({ from: BARE_A, to: '+16505550003', body: 'x' });
    const toService = await inbound(env, { from: '+16505550004', to: IN_SERVICE, body: 'hi' });
    const synthetic = toA.messaging_service_sid!;
    expect(synthetic).toMatch(/^MG[0-9a-f]{32}$/);
    expect(synthetic).not.toBe(serviceSid);
    expect(toB.messaging_service_sid).toBe(synthetic);
    expect(fromA.messagingServiceSid).toBe(synthetic);
    expect(toService.messaging_service_sid).toBe(serviceSid);
    // The message list and fetch say the same.
    const listed = await env.parent.messages.list({ to: BARE_B });
    expect(listed.map((m) => m.messagingServiceSid)).toEqual([synthetic]);
    expect((await env.parent.messages(toA.sid).fetch()).messagingServiceSid).toBe(synthetic);

    // Another account: null until its own setting is on, then a SID of its own.
    const subClient = env.clientFor(sub.sid, sub.auth_token);
    const subBefore = await inbound(env, { from: '+16505550005', to: SUB_NUMBER, body: 'hi' });
    expect(subBefore.messaging_service_sid).toBeNull();
    await turnOn(sub.sid);
    const subAfter = await subClient.messages.create({
      from: SUB_NUMBER,
      to: '+16505550005',
      body: 'x',
    });
    expect(subAfter.messagingServiceSid).toMatch(/^MG[0-9a-f]{32}$/);
    expect(subAfter.messagingServiceSid).not.toBe(synthetic);
  });

  it('the synthetic SID is no service: not in the Services list, 404 on fetch, 21701 to send through', async () => {
    await turnOn(env.parentSid);
    const synthetic = (await inbound(env, { from: '+16505550001', to: BARE_A, body: 'hi' }))
      .messaging_service_sid!;
    const services = await env.parent.messaging.v1.services.list();
    expect(services.map((s) => s.sid)).toEqual([serviceSid]);
    await expect(env.parent.messaging.v1.services(synthetic).fetch()).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      env.parent.messages.create({ messagingServiceSid: synthetic, to: '+16505550001', body: 'x' }),
    ).rejects.toMatchObject({ code: 21701 });
  });

  it('a STOP to one bare number still opts out that number only, and a START to another lifts nothing there', async () => {
    await turnOn(env.parentSid);
    const person = '+16505550009';
    await inbound(env, { from: person, to: BARE_A, body: 'STOP' });
    expect(await sendStatus(BARE_A, person)).toBe(21610);
    expect(await sendStatus(BARE_B, person)).toBeNull();
    await inbound(env, { from: person, to: BARE_B, body: 'START' });
    expect(await sendStatus(BARE_A, person)).toBe(21610);
    const optOuts = await emulatorOptOuts(env);
    expect(optOuts).toEqual([
      expect.objectContaining({
        scope: 'number',
        sender_number: BARE_A,
        messaging_service_sid: null,
        recipient: person,
      }),
    ]);
    // The refused sends are in the history with the synthetic SID, as every bare message is.
    const refused = await env.parent.messages.list({ from: BARE_A, to: person });
    const synthetic = expect.stringMatching(/^MG[0-9a-f]{32}$/);
    expect(refused.map((m) => [m.errorCode, m.messagingServiceSid])).toEqual([
      [21610, synthetic],
      [21610, synthetic],
    ]);
  });
});
