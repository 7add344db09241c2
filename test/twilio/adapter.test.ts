/**
 * The port on the real SDK, against the emulator over HTTP: each operation the tool needs,
 * the subaccount's own credentials for v1 (fetched with the parent's, so the Messaging
 * Service lands in the subaccount, not the parent), API-key credentials, and errors mapped
 * to one TwilioError with status, code and whether a retry is safe.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { TwilioError } from '../../src/errors.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

/** The emulator's clock: the seeded January 2025 messages are inside the retention window. */
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

describe('the Twilio port on the SDK', () => {
  let env: TestEmulator;
  let port: TwilioPort;

  beforeAll(async () => {
    env = await startTestEmulator({ now: () => NOW });
    port = env.port();
  });
  beforeEach(async () => {
    await env.control('POST', '/__emulator/reset');
  });
  afterAll(async () => {
    expect(env.httpClient.violations).toEqual([]);
    await env.close();
  });

  it("reads a number's other webhook URLs (voice, fallback, status callback), and none as absent", async () => {
    await env.seed({
      numbers: [
        { phone_number: '+14158740104', voice_url: 'https://app.example/voice' },
        { phone_number: '+14158740105' },
      ],
    });
    const listed = await port.listPhoneNumbers(port.parentAccountSid);
    const by = (phone: string) => listed.find((n) => n.phoneNumber === phone)!;
    expect(by('+14158740104').otherWebhooks).toEqual(['https://app.example/voice']);
    expect(by('+14158740105').otherWebhooks).toBeUndefined();
    await env.control('POST', '/__emulator/reset');
  });

  it("reads a number's own SMS fallback, listed and fetched, and none as absent", async () => {
    const { numbers } = await env.seed({
      numbers: [
        {
          phone_number: '+14158740106',
          sms_fallback_url: 'https://app.example/fallback',
          sms_fallback_method: 'GET',
          voice_fallback_url: 'https://app.example/voice-fallback',
        },
        { phone_number: '+14158740107', voice_fallback_url: 'https://app.example/fallback' },
      ],
    });
    const listed = await port.listPhoneNumbers(port.parentAccountSid);
    const by = (phone: string) => listed.find((n) => n.phoneNumber === phone)!;
    const fallback = { url: 'https://app.example/fallback', method: 'GET' };
    expect(by('+14158740106').smsFallback).toEqual(fallback);
    expect(by('+14158740107').smsFallback).toBeUndefined();
    const fetched = await port.fetchPhoneNumber(port.parentAccountSid, numbers[0]!.sid);
    expect(fetched.smsFallback).toEqual(fallback);
    await env.control('POST', '/__emulator/reset');
  });

  it('moves a number into a new subaccount with its own Messaging Service', async () => {
    const { numbers } = await env.seed({ numbers: [{ phone_number: '+14158740103' }] });
    const number = numbers[0]!;
    const sub = await port.createSubaccount('Falcon Flights');
    expect(sub).toMatchObject({ friendlyName: 'Falcon Flights', status: 'active' });
    expect(sub.ownerAccountSid).toBe(port.parentAccountSid);
    expect((await port.listSubaccounts()).map((a) => a.sid)).toEqual([sub.sid]);
    // Read by name, as apply looks for another run's subaccount: Twilio filters.
    expect((await port.listSubaccountsNamed('Falcon Flights')).map((a) => a.sid)).toEqual([
      sub.sid,
    ]);
    expect(await port.listSubaccountsNamed('Falcon')).toEqual([]);

    const moved = await port.transferPhoneNumber(port.parentAccountSid, number.sid, sub.sid);
    expect(moved).toMatchObject({
      sid: number.sid,
      accountSid: sub.sid,
      phoneNumber: '+14158740103',
    });
    expect(await port.listPhoneNumbers(port.parentAccountSid)).toEqual([]);
    expect((await port.fetchPhoneNumber(sub.sid, number.sid)).accountSid).toBe(sub.sid);

    const service = await port.createService(sub.sid, 'falconFlightsNotifications');
    expect(service.accountSid).toBe(sub.sid); // not the parent: the trap avoided
    expect(await port.listServices(port.parentAccountSid)).toEqual([]);
    await port.addServicePhoneNumber(sub.sid, service.sid, number.sid);
    expect(await port.listServicePhoneNumbers(sub.sid, service.sid)).toEqual([
      {
        sid: number.sid,
        serviceSid: service.sid,
        accountSid: sub.sid,
        phoneNumber: '+14158740103',
      },
    ]);
    const sent = await port.sendMessage(sub.sid, {
      messagingServiceSid: service.sid,
      to: '+14155550142',
      body: 'Boarding now',
    });
    expect(sent).toMatchObject({
      accountSid: sub.sid,
      from: '+14158740103',
      direction: 'outbound-api',
    });
    await port.removeServicePhoneNumber(sub.sid, service.sid, number.sid);
    expect(await port.listServicePhoneNumbers(sub.sid, service.sid)).toEqual([]);
  });

  it('reads message pages, keeping only inbound and failed messages when asked', async () => {
    await env.seed({
      numbers: [{ phone_number: '+14155550100' }],
      messages: [
        {
          from: '+14155550100',
          to: '+14155550001',
          body: 'Hi',
          direction: 'outbound-api',
          date_sent: '2025-01-01T00:00:01Z',
        },
        {
          from: '+14155550001',
          to: '+14155550100',
          body: 'STOP',
          direction: 'inbound',
          date_sent: '2025-01-01T00:00:02Z',
        },
        {
          from: '+14155550100',
          to: '+14155550001',
          body: 'Hi',
          direction: 'outbound-api',
          date_sent: '2025-01-01T00:00:03Z',
          status: 'failed',
          error_code: 21610,
        },
      ],
    });
    const all = await port.readMessagesPage(port.parentAccountSid, { filter: {}, pageSize: 2 });
    expect(all.scanned).toBe(2);
    expect(all.messages.map((m) => m.body)).toEqual(['Hi', 'STOP']);
    expect(all.nextPageUrl).toMatch(/^https:\/\/api\.twilio\.com\/2010-04-01\/.*PageToken=PA/);
    const rest = await port.readMessagesPage(port.parentAccountSid, { pageUrl: all.nextPageUrl! });
    expect(rest).toMatchObject({ scanned: 1, nextPageUrl: null });
    const evidence = await port.readMessagesPage(port.parentAccountSid, {
      filter: {},
      pageSize: 1000,
      only: 'inbound-or-error',
    });
    expect(evidence.scanned).toBe(3);
    expect(evidence.messages.map((m) => [m.direction, m.errorCode])).toEqual([
      ['outbound-api', 21610],
      ['inbound', null],
    ]);
    expect(evidence.messages[0]!.dateSent).toEqual(new Date('2025-01-01T00:00:03Z'));
  });

  it("lists an account's Bulk Export jobs with the name each was created with, as Twilio's schema has them", async () => {
    const { subaccounts } = await env.seed({ subaccounts: [{ friendly_name: 'Other' }] });
    const created = await port.createExportJob(port.parentAccountSid, {
      startDay: '2025-01-02',
      endDay: '2025-01-04',
      friendlyName: 'submigrate snapshot 7',
    });
    await port.createExportJob(subaccounts[0]!.sid, {
      startDay: '2025-01-02',
      endDay: '2025-01-02',
      friendlyName: 'submigrate snapshot 7',
    });
    const listed = await port.listExportCustomJobs(port.parentAccountSid);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      jobSid: created.jobSid,
      friendlyName: 'submigrate snapshot 7',
    });
    const days = [...listed[0]!.completedDays, ...listed[0]!.emptyDays, ...listed[0]!.pendingDays];
    expect(days.sort()).toEqual(['2025-01-02', '2025-01-03', '2025-01-04']);
  });

  it('maps Twilio errors to one TwilioError: status, code, and whether a retry is safe', async () => {
    const refused = await port.fetchAccount(`AC${'0'.repeat(32)}`).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TwilioError);
    expect(refused).toMatchObject({ status: 404, code: 20404, retryable: false });
    await env.control('POST', '/__emulator/faults', { error_rate: 1, error_status: 503 });
    const unavailable = await port.listPhoneNumbers(port.parentAccountSid).catch((e: unknown) => e);
    expect(unavailable).toMatchObject({ status: 503, retryable: true });
    const notSafe = await port.createSubaccount('x').catch((e: unknown) => e);
    expect(notSafe).toMatchObject({ status: 503, retryable: false }); // a create may have happened
    await env.control('POST', '/__emulator/faults', {
      error_rate: 0,
      concurrency_limit: 1,
      latency_ms: 100,
    });
    const results = await Promise.allSettled([1, 2, 3].map(() => port.listSubaccounts()));
    const throttled = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(throttled.reason).toMatchObject({ status: 429, code: 20429, retryable: true });
  });

  it('works on API-key credentials for the account that owns the key', async () => {
    const { keys } = await env.seed({ keys: [{ kind: 'main' }] });
    const key = keys[0]!;
    const keyed = env.port({
      kind: 'api-key',
      accountSid: env.parentSid,
      apiKey: key.sid,
      apiSecret: key.secret,
    });
    const sub = await keyed.createSubaccount('Keyed');
    expect(sub.ownerAccountSid).toBe(env.parentSid);
    expect((await keyed.fetchAccount(env.parentSid)).sid).toBe(env.parentSid);
  });
});
