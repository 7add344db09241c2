/**
 * Every field of a Messaging Service (messaging v1) and a number's webhook fields (2010), through
 * the real SDK: Twilio's defaults for a service created with only a FriendlyName (inbound off:
 * `inbound_request_url` null and `use_inbound_webhook_on_number` false), create and update with
 * every field, bad values refused, and the same fields in seeds and in `GET /__emulator/state`.
 */

import { describe, expect, it } from 'vitest';

import { twilioFailure, useEmulator } from '../support/emulator.js';

const NUMBER = '+14155550100';

describe('Messaging Service fields', () => {
  const env = useEmulator();
  const services = () => env.parent.messaging.v1.services;
  const service = (sid: string) => env.parent.messaging.v1.services(sid);

  it('a service created with only a FriendlyName has Twilio’s defaults', async () => {
    const service = await services().create({ friendlyName: 'Name only' });
    expect(service.toJSON()).toMatchObject({
      inboundRequestUrl: null,
      inboundMethod: 'POST',
      fallbackUrl: null,
      fallbackMethod: 'POST',
      statusCallback: null,
      stickySender: true,
      smartEncoding: true,
      mmsConverter: true,
      fallbackToLongCode: false,
      scanMessageContent: 'inherit',
      areaCodeGeomatch: true,
      validityPeriod: 36000,
      synchronousValidation: false,
      usecase: 'undeclared',
      usAppToPersonRegistered: false,
      useInboundWebhookOnNumber: false,
    });
  });

  it('create and update accept every field; fields left out keep their value', async () => {
    const all = {
      friendlyName: 'Everything',
      inboundRequestUrl: 'https://app.example.com/inbound',
      inboundMethod: 'GET',
      fallbackUrl: 'https://app.example.com/fallback',
      fallbackMethod: 'GET',
      statusCallback: 'https://app.example.com/status',
      stickySender: false,
      mmsConverter: false,
      smartEncoding: false,
      scanMessageContent: 'enable',
      fallbackToLongCode: true,
      areaCodeGeomatch: false,
      validityPeriod: 600,
      synchronousValidation: true,
      usecase: 'marketing',
      useInboundWebhookOnNumber: true,
    } as const;
    const created = await services().create(all);
    const { friendlyName, ...fields } = all;
    expect(created.toJSON()).toMatchObject({ friendlyName, ...fields });
    const updated = await service(created.sid).update({
      inboundRequestUrl: 'https://app.example.com/v2/inbound',
      useInboundWebhookOnNumber: false,
      validityPeriod: 36000,
    });
    expect(updated.toJSON()).toMatchObject({
      ...fields,
      inboundRequestUrl: 'https://app.example.com/v2/inbound',
      useInboundWebhookOnNumber: false,
      validityPeriod: 36000,
    });
    expect((await service(created.sid).fetch()).toJSON()).toEqual(updated.toJSON());
  });

  it.each([
    ['InboundMethod', { inboundMethod: 'PUT' }],
    ['ValidityPeriod', { validityPeriod: 0 }],
    ['ValidityPeriod', { validityPeriod: 36001 }],
    ['Usecase', { usecase: 'spam' }],
    ['ScanMessageContent', { scanMessageContent: 'maybe' }],
    ['InboundRequestUrl', { inboundRequestUrl: 'not a url' }],
  ])('refuses a bad %s with 400 / 20001', async (name, params) => {
    const failure = await twilioFailure(
      services().create({ friendlyName: 'Bad', ...(params as object) }),
    );
    expect(failure).toMatchObject({ status: 400, code: 20001 });
    expect(failure.message).toContain(name);
    expect(await services().list()).toEqual([]);
  });

  it('an update with a bad value changes nothing', async () => {
    const keep = await services().create({ friendlyName: 'Keep' });
    await twilioFailure(
      service(keep.sid).update({ friendlyName: 'Changed', inboundMethod: 'PUT' as 'GET' }),
    );
    expect((await service(keep.sid).fetch()).friendlyName).toBe('Keep');
  });
});

describe("a number's webhook fields", () => {
  const env = useEmulator();

  it('update sets SmsUrl, SmsMethod and the rest; an empty URL clears it', async () => {
    const { numbers } = await env.seed({ numbers: [{ phone_number: NUMBER }] });
    const number = env.parent.incomingPhoneNumbers(numbers[0]!.sid);
    expect((await number.fetch()).toJSON()).toMatchObject({
      smsUrl: null,
      smsMethod: 'POST',
      voiceUrl: null,
      statusCallback: null,
    });
    const updated = await number.update({
      smsUrl: 'https://app.example.com/sms',
      smsMethod: 'GET',
      smsFallbackUrl: 'https://app.example.com/sms-fallback',
      smsFallbackMethod: 'GET',
      voiceUrl: 'https://app.example.com/voice',
      voiceMethod: 'GET',
      voiceFallbackUrl: 'https://app.example.com/voice-fallback',
      voiceFallbackMethod: 'GET',
      statusCallback: 'https://app.example.com/status',
      statusCallbackMethod: 'GET',
    });
    expect(updated.toJSON()).toMatchObject({
      smsUrl: 'https://app.example.com/sms',
      smsMethod: 'GET',
      smsFallbackUrl: 'https://app.example.com/sms-fallback',
      smsFallbackMethod: 'GET',
      voiceUrl: 'https://app.example.com/voice',
      voiceMethod: 'GET',
      voiceFallbackUrl: 'https://app.example.com/voice-fallback',
      voiceFallbackMethod: 'GET',
      statusCallback: 'https://app.example.com/status',
      statusCallbackMethod: 'GET',
    });
    expect((await number.update({ smsUrl: '' })).smsUrl).toBeNull();
    expect(await twilioFailure(number.update({ smsMethod: 'PUT' as 'GET' }))).toMatchObject({
      status: 400,
      code: 20001,
    });
    expect((await number.fetch()).smsMethod).toBe('GET');
  });

  it('seeds take service and number fields, and the state view shows them', async () => {
    const { numbers, services } = await env.seed({
      numbers: [
        { phone_number: NUMBER, sms_url: 'https://app.example.com/sms', sms_method: 'GET' },
      ],
      services: [
        {
          friendly_name: 'Shared',
          phone_numbers: [NUMBER],
          inbound_request_url: 'https://app.example.com/inbound',
          status_callback: 'https://app.example.com/status',
          use_inbound_webhook_on_number: true,
          usecase: 'notifications',
        },
      ],
    });
    const state = await env.state();
    expect(state.numbers).toEqual([
      expect.objectContaining({
        sid: numbers[0]!.sid,
        sms_url: 'https://app.example.com/sms',
        sms_method: 'GET',
        voice_url: null,
      }),
    ]);
    expect(state.services).toEqual([
      expect.objectContaining({
        sid: services[0]!.sid,
        inbound_request_url: 'https://app.example.com/inbound',
        inbound_method: 'POST',
        status_callback: 'https://app.example.com/status',
        use_inbound_webhook_on_number: true,
        usecase: 'notifications',
        sticky_sender: true,
      }),
    ]);
    const fetched = await env.parent.messaging.v1.services(services[0]!.sid).fetch();
    expect(fetched.useInboundWebhookOnNumber).toBe(true);
  });

  it('a seed with a bad field value is refused, naming it', async () => {
    await expect(
      env.seed({ services: [{ friendly_name: 'Bad', inbound_method: 'PUT' }] }),
    ).rejects.toThrow(/services\[0\]: invalid inbound_method/);
  });

  it('a seed with a member it does not know is refused, naming it, and seeds nothing', async () => {
    const before = (await env.state()).numbers.length;
    await expect(
      env.seed({ numberz: [{ phone_number: '+14155550177' }] } as Parameters<typeof env.seed>[0]),
    ).rejects.toThrow(/unknown member \\"numberz\\"/);
    expect((await env.state()).numbers).toHaveLength(before);
  });
});
