/**
 * The Consent Management API (accounts.twilio.com) through the real SDK's
 * `accounts.v1.bulkConsents.create`: per-item results (30646 and its reasons, a bad item never
 * failing the others), the request's own limits (25 items, access, rate), and the effect that
 * matters: an opt-out written at service or number scope makes Twilio refuse the send (21610)
 * in the account that wrote it, and an opt-in lifts it. Every 201 is validated against
 * twilio_accounts_v1.json.
 */

import { beforeEach, describe, expect, it } from 'vitest';

import type { TwilioClient } from '../../src/twilio/client.js';
import {
  emulatorOptOuts,
  twilioFailure,
  useEmulator,
  type SeededSubaccount,
} from '../support/emulator.js';

const NOW = Date.UTC(2026, 2, 15, 12, 0, 0);
const IN_SERVICE = '+14155550101';
const PLAIN = '+14155550102';
const PARENT_NUMBER = '+14155550199';
const CONTACT = '+16505550123';

let counter = 0;
/** A fresh 32-character correlation id. */
const cid = () => (counter++).toString(16).padStart(32, 'c');

interface ConsentItem {
  contact_id?: unknown;
  correlation_id?: unknown;
  sender_id?: unknown;
  status?: unknown;
  source?: unknown;
  date_of_consent?: unknown;
}

interface ItemResult {
  correlation_id: string | null;
  error_code: number;
  error_messages: string[];
}

describe('Consent Management API', () => {
  let clock = NOW;
  const env = useEmulator({ now: () => clock });
  let sub: SeededSubaccount;
  let subClient: TwilioClient;
  let serviceSid: string;
  let parentServiceSid: string;

  beforeEach(async () => {
    clock = NOW;
    const seeded = await env.seed({ subaccounts: [{ friendly_name: 'Falcon Flights' }] });
    sub = seeded.subaccounts[0]!;
    subClient = env.clientFor(sub.sid, sub.auth_token);
    const { services } = await env.seed({
      numbers: [
        { phone_number: IN_SERVICE, account_sid: sub.sid },
        { phone_number: PLAIN, account_sid: sub.sid },
        { phone_number: PARENT_NUMBER },
      ],
      services: [
        {
          friendly_name: 'Falcon Notifications',
          account_sid: sub.sid,
          phone_numbers: [IN_SERVICE],
        },
        { friendly_name: 'Owlie Shared', phone_numbers: [PARENT_NUMBER] },
      ],
    });
    serviceSid = services[0]!.sid;
    parentServiceSid = services[1]!.sid;
  });

  const item = (overrides: ConsentItem = {}): ConsentItem => ({
    contact_id: CONTACT,
    correlation_id: cid(),
    sender_id: serviceSid,
    status: 'opt-out',
    source: 'opt-out-message',
    ...overrides,
  });
  const upsert = async (items: ConsentItem[], client = subClient): Promise<ItemResult[]> =>
    (await client.accounts.v1.bulkConsents.create({ items: items as object[] }))
      .items as ItemResult[];

  /** A send's HTTP status, and Twilio's code when refused. */
  async function send(params: { from?: string; messagingServiceSid?: string }, to = CONTACT) {
    try {
      const response = await subClient.messages.createWithHttpInfo({ ...params, to, body: 'Hi' });
      return { status: response.statusCode, code: null };
    } catch (error) {
      const { status, code } = error as { status: number; code: number };
      return { status, code };
    }
  }
  const SENT = { status: 201, code: null };
  const REFUSED = { status: 400, code: 21610 };

  it('answers 201 with one result per item, in order; a bad item fails alone', async () => {
    const good = item();
    const dup = cid();
    const items: ConsentItem[] = [
      good,
      item({ correlation_id: undefined }),
      item({ correlation_id: 'c'.repeat(31) }),
      item({ correlation_id: dup }),
      item({ correlation_id: dup, sender_id: PLAIN }),
      item({ sender_id: parentServiceSid }),
      item({ sender_id: PARENT_NUMBER }),
      item({ sender_id: 'MG' + '0'.repeat(32) }),
      item({ contact_id: '+19' }),
      item({ contact_id: '6505550123' }),
      item({ status: 'stop' }),
      item({ source: 'sms' }),
      item({ date_of_consent: 'last Tuesday' }),
      item({ date_of_consent: '2026-03-15T12:00:01Z' }),
      item({ contact_id: '+19', date_of_consent: '2027-01-01' }),
      item({ source: 'website', status: 'opt-out', date_of_consent: '2026-03-14' }),
    ];
    const response = await subClient.accounts.v1.bulkConsents.createWithHttpInfo({
      items: items as object[],
    });
    expect(response.statusCode).toBe(201);
    const results = response.body.items as ItemResult[];
    const reasons = (r: ItemResult) => (r.error_code === 0 ? 'ok' : r.error_messages.join(' '));
    expect(results.map(reasons)).toEqual([
      'ok',
      'INVALID_CORRELATION_ID',
      'INVALID_CORRELATION_ID',
      'INVALID_CORRELATION_ID',
      'INVALID_CORRELATION_ID',
      'INVALID_SENDER_ID',
      'INVALID_SENDER_ID',
      'INVALID_SENDER_ID',
      'INVALID_CONTACT_ID',
      'INVALID_CONTACT_ID',
      'INVALID_STATUS',
      'INVALID_SOURCE',
      'INVALID_DATE_OF_CONSENT',
      'INVALID_DATE_OF_CONSENT',
      'INVALID_CONTACT_ID INVALID_DATE_OF_CONSENT',
      'ok',
    ]);
    expect(results.filter((r) => r.error_code !== 0).every((r) => r.error_code === 30646)).toBe(
      true,
    );
    expect(results[0]).toEqual({
      correlation_id: good.correlation_id,
      error_code: 0,
      error_messages: [],
    });
    expect(results[1]!.correlation_id).toBeNull();
    expect(results[3]!.correlation_id).toBe(dup);
  });

  it('more than 25 items is 400 for the whole request', async () => {
    const items = Array.from({ length: 26 }, () => item());
    expect(await twilioFailure(upsert(items))).toMatchObject({ status: 400, code: 20001 });
    expect(await upsert(items.slice(0, 25))).toHaveLength(25);
  });

  it('an account without access gets 403 / 20403', async () => {
    await env.control('POST', '/__emulator/settings', {
      account_sid: sub.sid,
      consent_api: false,
    });
    expect(await twilioFailure(upsert([item()]))).toMatchObject({ status: 403, code: 20403 });
    expect(await emulatorOptOuts(env)).toEqual([]);
    // The parent's access is its own.
    expect(await upsert([item({ sender_id: parentServiceSid })], env.parent)).toHaveLength(1);
  });

  it('beyond consent_requests_per_minute in 60 seconds: 429 / 20429', async () => {
    await env.control('POST', '/__emulator/settings', {
      account_sid: sub.sid,
      consent_requests_per_minute: 2,
    });
    await upsert([item()]);
    clock = NOW + 30_000;
    await upsert([item()]);
    expect(await twilioFailure(upsert([item()]))).toMatchObject({ status: 429, code: 20429 });
    // Another account has its own budget.
    expect(await upsert([item({ sender_id: parentServiceSid })], env.parent)).toHaveLength(1);
    clock = NOW + 60_000; // the first request has left the window
    expect(await upsert([item()])).toHaveLength(1);
    expect(await twilioFailure(upsert([item()]))).toMatchObject({ status: 429, code: 20429 });
  });

  it('an opt-out at service scope refuses sends through the service with 21610; opt-in lifts it', async () => {
    expect(await send({ messagingServiceSid: serviceSid })).toEqual(SENT);
    await upsert([item({ sender_id: serviceSid, status: 'opt-out' })]);
    expect(await send({ messagingServiceSid: serviceSid })).toEqual(REFUSED);
    expect(await send({ from: IN_SERVICE })).toEqual(REFUSED); // a member number: the service's list
    expect(await send({ from: PLAIN })).toEqual(SENT); // not in the service
    expect(await send({ messagingServiceSid: serviceSid }, '+16505550999')).toEqual(SENT);

    clock = NOW + 1000;
    await upsert([item({ sender_id: serviceSid, status: 'opt-in', source: 'opt-in-message' })]);
    expect(await send({ messagingServiceSid: serviceSid })).toEqual(SENT);
  });

  it('an opt-out at number scope refuses sends from that number; opt-in lifts it', async () => {
    await upsert([item({ sender_id: PLAIN, date_of_consent: '2025-01-02T03:04:05Z' })]);
    expect(await send({ from: PLAIN })).toEqual(REFUSED);
    expect(await send({ messagingServiceSid: serviceSid })).toEqual(SENT);
    clock = NOW + 1000;
    await upsert([item({ sender_id: PLAIN, status: 'opt-in', source: 'website' })]);
    expect(await send({ from: PLAIN })).toEqual(SENT);
  });

  it('a consent record does not refuse a send from a US toll-free number; a STOP to it does', async () => {
    const TOLL_FREE = '+18005550177';
    await env.seed({
      numbers: [{ phone_number: TOLL_FREE, account_sid: sub.sid, type: 'toll-free' }],
    });
    await upsert([item({ sender_id: TOLL_FREE })]);
    // Twilio: the STOP override "applies to all messages sent, except US Toll-free numbers".
    expect(await send({ from: TOLL_FREE })).toEqual(SENT);
    await env.control('POST', '/__emulator/inbound', {
      from: CONTACT,
      to: TOLL_FREE,
      body: 'STOP',
    });
    expect(await send({ from: TOLL_FREE })).toEqual(REFUSED);
  });

  it('records land in the authenticated account only', async () => {
    // The parent's credentials cannot name the subaccount's service…
    const [result] = await upsert([item({ sender_id: serviceSid })], env.parent);
    expect(result).toMatchObject({ error_code: 30646, error_messages: ['INVALID_SENDER_ID'] });
    // …and an opt-out the parent writes for its own service does not reach the subaccount.
    await upsert([item({ sender_id: parentServiceSid })], env.parent);
    expect(await send({ messagingServiceSid: serviceSid })).toEqual(SENT);
    const store = await emulatorOptOuts(env);
    expect(store.map((o) => [o.account_sid, o.messaging_service_sid])).toEqual([
      [env.parentSid, parentServiceSid],
    ]);
  });

  it('GET /__emulator/optouts shows consent records beside keywords, marked by source', async () => {
    const record = item({ sender_id: serviceSid, date_of_consent: '2026-03-01T10:00:00Z' });
    await upsert([record, item({ sender_id: PLAIN, source: 'offline' })]);
    await env.control('POST', '/__emulator/inbound', {
      from: '+16505550777',
      to: PARENT_NUMBER,
      body: 'STOP',
    });
    const store = await emulatorOptOuts(env);
    expect(store).toEqual(
      expect.arrayContaining([
        {
          account_sid: sub.sid,
          scope: 'service',
          sender_number: null,
          messaging_service_sid: serviceSid,
          recipient: CONTACT,
          opted_out: true,
          keyword: null,
          body: null,
          message_sid: null,
          date_sent: '2026-03-01T10:00:00Z',
          source: 'consent-api',
          correlation_id: record.correlation_id,
          consent_source: 'opt-out-message',
        },
        expect.objectContaining({
          account_sid: sub.sid,
          scope: 'number',
          sender_number: PLAIN,
          messaging_service_sid: null,
          source: 'consent-api',
          consent_source: 'offline',
          date_sent: new Date(NOW).toISOString().replace('.000Z', 'Z'),
        }),
        expect.objectContaining({
          account_sid: env.parentSid,
          keyword: 'STOP',
          source: 'keyword',
          correlation_id: null,
          consent_source: null,
        }),
      ]),
    );
    expect(store).toHaveLength(3);
  });

  it('a consent record and a keyword for the same pair: the later by date wins', async () => {
    const inbound = (body: string, date: string) =>
      env.control('POST', '/__emulator/inbound', {
        from: CONTACT,
        to: PLAIN,
        body,
        date_sent: date,
      });
    // A START on 10 March, then an opt-out carried with the date of an older STOP: still in.
    await inbound('START', '2026-03-10T09:00:00Z');
    await upsert([item({ sender_id: PLAIN, date_of_consent: '2026-02-01T00:00:00Z' })]);
    expect(await send({ from: PLAIN })).toEqual(SENT);
    // The same opt-out dated after the START: out.
    await upsert([item({ sender_id: PLAIN, date_of_consent: '2026-03-11T00:00:00Z' })]);
    expect(await send({ from: PLAIN })).toEqual(REFUSED);
    // A START after that: in again; the keyword overrides the consent record.
    await inbound('START', '2026-03-12T00:00:00Z');
    expect(await send({ from: PLAIN })).toEqual(SENT);
    const [entry] = await emulatorOptOuts(env, { all: true });
    expect(entry).toMatchObject({ source: 'keyword', keyword: 'START', opted_out: false });
  });
});
