/**
 * Messaging Services (messaging v1) through the real SDK over HTTP against the emulator
 * (reference/twilio-api.md §5): one service per number, 400 numbers per service, members must
 * belong to the service's account, and the service CRUD works with the account's own
 * credentials.
 */

import { beforeEach, describe, expect, it } from 'vitest';

import { SERVICE_POOL_LIMIT } from '../../src/emulator/state.js';
import type { TwilioClient } from '../../src/twilio/client.js';
import { twilioFailure, useEmulator, type SeededSubaccount } from '../support/emulator.js';

const phone = (i: number) => `+1415555${String(i).padStart(4, '0')}`;

describe('Messaging Services', () => {
  const env = useEmulator();
  let acme: SeededSubaccount;
  let birch: SeededSubaccount;
  let acmeClient: TwilioClient;
  /** Two numbers of Acme's, one of Birch's, one of the parent's. */
  let acmeFirst: string;
  let acmeSecond: string;
  let birchNumber: string;
  let parentNumber: string;

  const memberSids = async (client: TwilioClient, serviceSid: string) =>
    (await client.messaging.v1.services(serviceSid).phoneNumbers.list({ pageSize: 1000 })).map(
      (m) => m.sid,
    );

  beforeEach(async () => {
    const { subaccounts } = await env.seed({
      subaccounts: [{ friendly_name: 'Acme Dental' }, { friendly_name: 'Birch Bakery' }],
    });
    [acme, birch] = subaccounts as [SeededSubaccount, SeededSubaccount];
    acmeClient = env.clientFor(acme.sid, acme.auth_token);
    const { numbers } = await env.seed({
      numbers: [
        { phone_number: '+14155550101', account_sid: acme.sid },
        { phone_number: '+14155550102', account_sid: acme.sid },
        { phone_number: '+14155550201', account_sid: birch.sid },
        { phone_number: '+14155550100' },
      ],
    });
    [acmeFirst, acmeSecond, birchNumber, parentNumber] = numbers.map((n) => n.sid) as [
      string,
      string,
      string,
      string,
    ];
  });

  it("list, fetch, update and delete work with the account's own credentials", async () => {
    const services = acmeClient.messaging.v1.services;
    const created = await services.createWithHttpInfo({
      friendlyName: 'Acme Dental reminders',
      inboundRequestUrl: 'https://app.example.com/inbound',
    });
    expect(created.statusCode).toBe(201);
    const service = created.body;
    expect(service.sid).toMatch(/^MG[0-9a-f]{32}$/);
    expect(service.accountSid).toBe(acme.sid);
    expect(service.friendlyName).toBe('Acme Dental reminders');
    expect(service.inboundRequestUrl).toBe('https://app.example.com/inbound');
    expect(service.url).toBe(`https://messaging.twilio.com/v1/Services/${service.sid}`);
    const second = await services.create({ friendlyName: 'Acme Dental marketing' });

    expect((await services.list()).map((s) => s.sid).sort()).toEqual(
      [service.sid, second.sid].sort(),
    );
    const fetched = await services(service.sid).fetch();
    expect(fetched.toJSON()).toEqual(service.toJSON());

    const updated = await services(service.sid).update({ friendlyName: 'Acme Dental recalls' });
    expect(updated.sid).toBe(service.sid);
    expect(updated.friendlyName).toBe('Acme Dental recalls');
    expect((await services(service.sid).fetch()).friendlyName).toBe('Acme Dental recalls');

    await services(service.sid).phoneNumbers.create({ phoneNumberSid: acmeFirst });
    const removed = await services(service.sid).removeWithHttpInfo();
    expect(removed.statusCode).toBe(204);
    expect(removed.body).toBe(true);
    expect(await twilioFailure(services(service.sid).fetch())).toMatchObject({
      status: 404,
      code: 20404,
    });
    expect((await services.list()).map((s) => s.sid)).toEqual([second.sid]);
    // Deleting the service freed its member.
    expect(
      (await env.state()).numbers.find((n) => n.sid === acmeFirst)?.messaging_service_sid,
    ).toBeNull();
    await services(second.sid).phoneNumbers.create({ phoneNumberSid: acmeFirst });

    // Birch's list is its own.
    const birchClient = env.clientFor(birch.sid, birch.auth_token);
    expect(await birchClient.messaging.v1.services.list()).toEqual([]);
  });

  it('adding a member answers 201 with the number, and it shows in the list', async () => {
    const service = await acmeClient.messaging.v1.services.create({ friendlyName: 'Acme SMS' });
    const added = await acmeClient.messaging.v1
      .services(service.sid)
      .phoneNumbers.createWithHttpInfo({
        phoneNumberSid: acmeFirst,
      });
    expect(added.statusCode).toBe(201);
    expect(added.body).toMatchObject({
      sid: acmeFirst,
      accountSid: acme.sid,
      serviceSid: service.sid,
      phoneNumber: '+14155550101',
    });
    expect(await memberSids(acmeClient, service.sid)).toEqual([acmeFirst]);
    const member = await acmeClient.messaging.v1
      .services(service.sid)
      .phoneNumbers(acmeFirst)
      .fetch();
    expect(member.phoneNumber).toBe('+14155550101');
  });

  it('a number in another service is 409 / 21712; in this one already, 409 / 21710', async () => {
    const first = await acmeClient.messaging.v1.services.create({ friendlyName: 'Acme reminders' });
    const second = await acmeClient.messaging.v1.services.create({
      friendlyName: 'Acme marketing',
    });
    await acmeClient.messaging.v1
      .services(first.sid)
      .phoneNumbers.create({ phoneNumberSid: acmeFirst });

    expect(
      await twilioFailure(
        acmeClient.messaging.v1
          .services(second.sid)
          .phoneNumbers.create({ phoneNumberSid: acmeFirst }),
      ),
    ).toEqual({
      status: 409,
      code: 21712,
      message: 'Phone Number or Short Code is associated with another Messaging Service.',
    });
    expect(
      await twilioFailure(
        acmeClient.messaging.v1
          .services(first.sid)
          .phoneNumbers.create({ phoneNumberSid: acmeFirst }),
      ),
    ).toEqual({
      status: 409,
      code: 21710,
      message: 'Phone Number or Short Code is already in the Messaging Service.',
    });

    expect(await memberSids(acmeClient, first.sid)).toEqual([acmeFirst]);
    expect(await memberSids(acmeClient, second.sid)).toEqual([]);
    expect(
      (await env.state()).numbers.find((n) => n.sid === acmeFirst)?.messaging_service_sid,
    ).toBe(first.sid);
  });

  it('removing a member answers 204, and then it can join another service', async () => {
    const first = await acmeClient.messaging.v1.services.create({ friendlyName: 'Acme reminders' });
    const second = await acmeClient.messaging.v1.services.create({
      friendlyName: 'Acme marketing',
    });
    for (const sid of [acmeFirst, acmeSecond]) {
      await acmeClient.messaging.v1
        .services(first.sid)
        .phoneNumbers.create({ phoneNumberSid: sid });
    }

    const removed = await acmeClient.messaging.v1
      .services(first.sid)
      .phoneNumbers(acmeFirst)
      .removeWithHttpInfo();
    expect(removed.statusCode).toBe(204);
    expect(removed.body).toBe(true);
    expect(await memberSids(acmeClient, first.sid)).toEqual([acmeSecond]);
    // It is still Acme's number.
    expect((await acmeClient.incomingPhoneNumbers(acmeFirst).fetch()).accountSid).toBe(acme.sid);
    // Removing it again: not a member any more (recommended emulator behaviour, §5.3: 404).
    expect(
      await twilioFailure(
        acmeClient.messaging.v1.services(first.sid).phoneNumbers(acmeFirst).remove(),
      ),
    ).toMatchObject({ status: 404, code: 20404 });

    const joined = await acmeClient.messaging.v1
      .services(second.sid)
      .phoneNumbers.create({ phoneNumberSid: acmeFirst });
    expect(joined.serviceSid).toBe(second.sid);
    expect(await memberSids(acmeClient, second.sid)).toEqual([acmeFirst]);
    expect(
      (await env.state()).numbers.find((n) => n.sid === acmeFirst)?.messaging_service_sid,
    ).toBe(second.sid);
  });

  it("a number the service's account does not own is 400 / 21421", async () => {
    // Twilio's answer for another account's PN is unconfirmed; the reference recommends
    // 400/21421 (§5.3).
    const service = await acmeClient.messaging.v1.services.create({ friendlyName: 'Acme SMS' });
    const invalid = { status: 400, code: 21421, message: 'Phone Number is invalid' };
    for (const sid of [birchNumber, parentNumber, `PN${'0'.repeat(32)}`]) {
      expect(
        await twilioFailure(
          acmeClient.messaging.v1
            .services(service.sid)
            .phoneNumbers.create({ phoneNumberSid: sid }),
        ),
      ).toEqual(invalid);
    }
    // The parent's own service cannot take a subaccount's number either.
    const parentService = await env.parent.messaging.v1.services.create({
      friendlyName: 'Parent SMS',
    });
    expect(
      await twilioFailure(
        env.parent.messaging.v1
          .services(parentService.sid)
          .phoneNumbers.create({ phoneNumberSid: acmeFirst }),
      ),
    ).toEqual(invalid);
    expect(await memberSids(acmeClient, service.sid)).toEqual([]);
    expect(await memberSids(env.parent, parentService.sid)).toEqual([]);
  });

  it('a missing PhoneNumberSid is a 400', async () => {
    const service = await acmeClient.messaging.v1.services.create({ friendlyName: 'Acme SMS' });
    // The SDK refuses to send this itself, so go one level down: still the SDK's own request
    // path, credentials and httpClient, just without the client-side parameter check.
    const attempt = acmeClient.messaging.v1.create({
      uri: `/Services/${service.sid}/PhoneNumbers`,
      method: 'post',
      data: { FriendlyName: 'no number here' },
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    const error = await twilioFailure(attempt);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/PhoneNumberSid/);
    const empty = acmeClient.messaging.v1.create({
      uri: `/Services/${service.sid}/PhoneNumbers`,
      method: 'post',
      data: { PhoneNumberSid: '' },
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect((await twilioFailure(empty)).status).toBe(400);
    expect(await memberSids(acmeClient, service.sid)).toEqual([]);
  });

  it('a FriendlyName over 64 characters is 400 / 20001, on create and on update', async () => {
    // Twilio's API definition: "It can be up to 64 characters long", not saying how they are
    // counted. Counted in UTF-16 units, as the mapping counts them: 32 emoji are the most, and
    // 64 (128 units) are refused.
    const services = acmeClient.messaging.v1.services;
    const longest = await services.create({ friendlyName: '\u{1F989}'.repeat(32) });
    expect(longest.friendlyName).toHaveLength(64);
    expect(await twilioFailure(services.create({ friendlyName: 'x'.repeat(65) }))).toMatchObject({
      status: 400,
      code: 20001,
    });
    expect(
      await twilioFailure(services.create({ friendlyName: '\u{1F989}'.repeat(64) })),
    ).toMatchObject({ status: 400, code: 20001 });
    expect(
      await twilioFailure(services(longest.sid).update({ friendlyName: 'y'.repeat(65) })),
    ).toMatchObject({ status: 400, code: 20001 });
    const listed = await services.list();
    expect(listed.map((s) => s.friendlyName)).toEqual([longest.friendlyName]);
  });

  it('400 numbers per service: the 401st is 400 / 21714', async () => {
    expect(SERVICE_POOL_LIMIT).toBe(400);
    // 399 members seeded, the 400th and 401st through the SDK.
    const { numbers } = await env.seed({
      numbers: Array.from({ length: 401 }, (_, i) => ({
        phone_number: phone(1000 + i),
        account_sid: acme.sid,
      })),
    });
    expect(numbers).toHaveLength(401);
    const { services } = await env.seed({
      services: [
        {
          friendly_name: 'Acme pool',
          account_sid: acme.sid,
          phone_numbers: numbers.slice(0, 399).map((n) => n.sid),
        },
      ],
    });
    const pool = services[0]!.sid;
    expect(await memberSids(acmeClient, pool)).toHaveLength(399);

    const fourHundredth = await acmeClient.messaging.v1
      .services(pool)
      .phoneNumbers.create({ phoneNumberSid: numbers[399]!.sid });
    expect(fourHundredth.serviceSid).toBe(pool);

    const full = { status: 400, code: 21714 };
    const fourHundredFirst = numbers[400]!.sid;
    expect(
      await twilioFailure(
        acmeClient.messaging.v1
          .services(pool)
          .phoneNumbers.create({ phoneNumberSid: fourHundredFirst }),
      ),
    ).toMatchObject(full);
    expect(await memberSids(acmeClient, pool)).toHaveLength(400);
    expect(
      (await env.state()).numbers.find((n) => n.sid === fourHundredFirst)?.messaging_service_sid,
    ).toBeNull();

    // The 401st still fits another service; and once one member leaves, the pool takes it.
    await acmeClient.messaging.v1.services(pool).phoneNumbers(numbers[0]!.sid).remove();
    const joined = await acmeClient.messaging.v1
      .services(pool)
      .phoneNumbers.create({ phoneNumberSid: fourHundredFirst });
    expect(joined.serviceSid).toBe(pool);
    expect(
      await twilioFailure(
        acmeClient.messaging.v1
          .services(pool)
          .phoneNumbers.create({ phoneNumberSid: numbers[0]!.sid }),
      ),
    ).toMatchObject(full);
  });
});
