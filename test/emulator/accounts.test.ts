/**
 * Accounts (2010) through the real SDK over HTTP against the emulator
 * (reference/twilio-api.md §3): creating subaccounts, listing them, the subaccount limit and
 * the status rules (suspend keeps numbers, close releases them for good).
 */

import { beforeEach, describe, expect, it } from 'vitest';

import { SUBACCOUNT_LIMIT } from '../../src/emulator/state.js';
import { twilioFailure, useEmulator } from '../support/emulator.js';

/** 14:05:11 UTC on Monday 3 March 2025, the emulator's clock unless a test moves it. */
const START = Date.UTC(2025, 2, 3, 14, 5, 11);

describe('accounts', () => {
  let clock = START;
  // Registered first: the reset before each test stamps the parent account with this clock.
  beforeEach(() => {
    clock = START;
  });
  const env = useEmulator({ now: () => clock });

  it('creating a subaccount answers 201 with every field', async () => {
    const response = await env.parent.api.v2010.accounts.createWithHttpInfo({
      friendlyName: 'customer-4711 Acme Dental',
    });
    expect(response.statusCode).toBe(201);
    const sub = response.body;
    expect(sub.sid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(sub.sid).not.toBe(env.parentSid);
    expect(sub.friendlyName).toBe('customer-4711 Acme Dental');
    expect(sub.ownerAccountSid).toBe(env.parentSid);
    expect(sub.status).toBe('active');
    expect(sub.type).toBe('Full');
    expect(sub.authToken).toMatch(/^[0-9a-f]{32}$/);
    expect(sub.authToken).not.toBe(env.parentToken);
    expect(sub.dateCreated.toISOString()).toBe('2025-03-03T14:05:11.000Z');
    expect(sub.dateUpdated.toISOString()).toBe('2025-03-03T14:05:11.000Z');
    const base = `/2010-04-01/Accounts/${sub.sid}`;
    expect(sub.uri).toBe(`${base}.json`);
    expect(sub.subresourceUris).toMatchObject({
      incoming_phone_numbers: `${base}/IncomingPhoneNumbers.json`,
      messages: `${base}/Messages.json`,
      keys: `${base}/Keys.json`,
      short_codes: `${base}/SMS/ShortCodes.json`,
    });
    expect(Object.keys(sub.subresourceUris)).toHaveLength(20);

    // The returned token is the subaccount's working credential.
    const own = env.clientFor(sub.sid, sub.authToken);
    const fetched = await own.api.v2010.accounts(sub.sid).fetch();
    expect(fetched.toJSON()).toEqual(sub.toJSON());
    // Two subaccounts never share a SID or token.
    const other = await env.parent.api.v2010.accounts.create({ friendlyName: 'Birch Bakery' });
    expect(other.sid).not.toBe(sub.sid);
    expect(other.authToken).not.toBe(sub.authToken);
  });

  it("a subaccount created without a FriendlyName gets Twilio's default name", async () => {
    const afternoon = await env.parent.api.v2010.accounts.create();
    expect(afternoon.friendlyName).toMatch(
      /^SubAccount Created at \d{4}-\d{2}-\d{2} \d{2}:\d{2} (am|pm)$/,
    );
    expect(afternoon.friendlyName).toBe('SubAccount Created at 2025-03-03 02:05 pm');

    clock = Date.UTC(2025, 11, 31, 0, 7, 59);
    const midnight = await env.parent.api.v2010.accounts.create({});
    expect(midnight.friendlyName).toBe('SubAccount Created at 2025-12-31 12:07 am');

    clock = Date.UTC(2026, 0, 1, 12, 30, 0);
    const noon = await env.parent.api.v2010.accounts.create();
    expect(noon.friendlyName).toBe('SubAccount Created at 2026-01-01 12:30 pm');
  });

  it('lists accounts filtered by exact FriendlyName and by Status', async () => {
    const acme = await env.parent.api.v2010.accounts.create({ friendlyName: 'Acme' });
    const acmeDental = await env.parent.api.v2010.accounts.create({ friendlyName: 'Acme Dental' });
    const birch = await env.parent.api.v2010.accounts.create({ friendlyName: 'Birch' });
    const cobalt = await env.parent.api.v2010.accounts.create({ friendlyName: 'Cobalt' });
    await env.parent.api.v2010.accounts(birch.sid).update({ status: 'suspended' });
    await env.parent.api.v2010.accounts(cobalt.sid).update({ status: 'closed' });

    const sids = async (filter: {
      friendlyName?: string;
      status?: 'active' | 'suspended' | 'closed';
    }) => (await env.parent.api.v2010.accounts.list(filter)).map((a) => a.sid).sort();

    // The parent is in the unfiltered list (the reference's recommended behaviour, §3.2).
    expect(await sids({})).toEqual(
      [env.parentSid, acme.sid, acmeDental.sid, birch.sid, cobalt.sid].sort(),
    );
    expect(await sids({ friendlyName: 'Acme' })).toEqual([acme.sid]);
    expect(await sids({ friendlyName: 'Acme Dental' })).toEqual([acmeDental.sid]);
    expect(await sids({ friendlyName: 'acme' })).toEqual([]);
    expect(await sids({ friendlyName: 'Acme Dent' })).toEqual([]);
    expect(await sids({ status: 'suspended' })).toEqual([birch.sid]);
    expect(await sids({ status: 'closed' })).toEqual([cobalt.sid]);
    expect(await sids({ status: 'active' })).toEqual(
      [env.parentSid, acme.sid, acmeDental.sid].sort(),
    );
    expect(await sids({ friendlyName: 'Birch', status: 'active' })).toEqual([]);
    expect(await sids({ friendlyName: 'Birch', status: 'suspended' })).toEqual([birch.sid]);
  });

  it('a FriendlyName over 64 characters is 400 / 20001, and nothing is created or renamed', async () => {
    // Twilio's API definition: the account's name is "up to 64 characters long".
    const accounts = env.parent.api.v2010.accounts;
    expect(await twilioFailure(accounts.create({ friendlyName: 'A'.repeat(65) }))).toMatchObject({
      status: 400,
      code: 20001,
    });
    expect((await env.state()).accounts).toHaveLength(1);
    const sub = await accounts.create({ friendlyName: 'B'.repeat(64) });
    expect(
      await twilioFailure(accounts(sub.sid).update({ friendlyName: 'C'.repeat(65) })),
    ).toMatchObject({ status: 400, code: 20001 });
    // Refused whole: a status sent beside the name is not applied either.
    expect(
      await twilioFailure(
        accounts(sub.sid).update({ friendlyName: 'C'.repeat(65), status: 'suspended' }),
      ),
    ).toMatchObject({ status: 400, code: 20001 });
    const fetched = await accounts(sub.sid).fetch();
    expect(fetched.friendlyName).toBe('B'.repeat(64));
    expect(fetched.status).toBe('active');
  });

  it('a FriendlyName is counted in UTF-16 units, as the mapping counts it: 64 characters with an emoji is over', async () => {
    // Twilio does not say how it counts its 64; a Java or JavaScript server counts an emoji as
    // two, and the mapping refuses such a name (docs/file-formats.md): one the tool would
    // send so is refused here too, not passed as if Twilio surely took it.
    const accounts = env.parent.api.v2010.accounts;
    const over = `${'A'.repeat(63)}\u{1F600}`;
    expect([...over]).toHaveLength(64);
    expect(await twilioFailure(accounts.create({ friendlyName: over }))).toMatchObject({
      status: 400,
      code: 20001,
    });
    const within = `${'A'.repeat(62)}\u{1F600}`;
    expect((await accounts.create({ friendlyName: within })).friendlyName).toBe(within);
  });

  it('a subaccount cannot create subaccounts: 400 / 21101', async () => {
    const sub = await env.parent.api.v2010.accounts.create({ friendlyName: 'Acme Dental' });
    const own = env.clientFor(sub.sid, sub.authToken);
    expect(
      await twilioFailure(own.api.v2010.accounts.create({ friendlyName: 'Acme child' })),
    ).toEqual({
      status: 400,
      code: 21101,
      message: 'Subaccounts cannot contain subaccounts',
    });
    expect((await env.state()).accounts).toHaveLength(2);
  });

  it('the 1,000-subaccount limit: 400 / 21480; suspended ones count, closed ones do not', async () => {
    expect(SUBACCOUNT_LIMIT).toBe(1000);
    const { subaccounts } = await env.seed({
      subaccounts: Array.from({ length: 1000 }, (_, i) => ({ friendly_name: `customer-${i}` })),
    });
    expect(subaccounts).toHaveLength(1000);

    const overLimit = {
      status: 400,
      code: 21480,
      message: 'Reached maximum number of subaccounts',
    };
    expect(
      await twilioFailure(env.parent.api.v2010.accounts.create({ friendlyName: 'one more' })),
    ).toEqual(overLimit);
    // Suspending one frees nothing.
    await env.parent.api.v2010.accounts(subaccounts[0]!.sid).update({ status: 'suspended' });
    expect(
      await twilioFailure(env.parent.api.v2010.accounts.create({ friendlyName: 'one more' })),
    ).toEqual(overLimit);
    // Closing one does.
    await env.parent.api.v2010.accounts(subaccounts[1]!.sid).update({ status: 'closed' });
    const created = await env.parent.api.v2010.accounts.create({ friendlyName: 'one more' });
    expect(created.status).toBe('active');
    // And the limit holds again right after.
    expect(
      await twilioFailure(env.parent.api.v2010.accounts.create({ friendlyName: 'two more' })),
    ).toEqual(overLimit);
    const { accounts } = await env.state();
    expect(accounts).toHaveLength(1 + 1001);
    expect(accounts.filter((a) => a.status !== 'closed')).toHaveLength(1 + 1000);
  });

  it("suspending keeps the subaccount's numbers; closing releases them", async () => {
    const { subaccounts } = await env.seed({
      subaccounts: [{ friendly_name: 'Acme Dental' }, { friendly_name: 'Birch Bakery' }],
    });
    const [acme, birch] = subaccounts as [
      (typeof subaccounts)[number],
      (typeof subaccounts)[number],
    ];
    const { numbers, services } = await env.seed({
      numbers: [
        { phone_number: '+14155550101', account_sid: acme.sid },
        { phone_number: '+14155550102', account_sid: acme.sid },
        { phone_number: '+14155550201', account_sid: birch.sid },
      ],
      services: [
        { friendly_name: 'Acme SMS', account_sid: acme.sid, phone_numbers: ['+14155550101'] },
      ],
    });
    const acmeNumbers = numbers.slice(0, 2).map((n) => n.sid);
    const birchNumber = numbers[2]!.sid;
    const acmeService = services[0]!.sid;
    const acmePath = env.parent.api.v2010.accounts(acme.sid);
    const listed = async () =>
      (await acmePath.incomingPhoneNumbers.list()).map((n) => n.sid).sort();

    const suspended = await acmePath.update({ status: 'suspended' });
    expect(suspended.status).toBe('suspended');
    expect(await listed()).toEqual([...acmeNumbers].sort());
    expect((await env.state()).numbers.filter((n) => n.account_sid === acme.sid)).toHaveLength(2);

    // Back to active and suspended again: still the same numbers.
    expect((await acmePath.update({ status: 'active' })).status).toBe('active');
    await acmePath.update({ status: 'suspended' });
    expect(await listed()).toEqual([...acmeNumbers].sort());

    // Closing (from suspended) releases every number it holds.
    const closed = await acmePath.update({ status: 'closed' });
    expect(closed.status).toBe('closed');
    expect(await listed()).toEqual([]);
    for (const sid of acmeNumbers) {
      expect(await twilioFailure(acmePath.incomingPhoneNumbers(sid).fetch())).toMatchObject({
        status: 404,
        code: 20404,
      });
    }
    const after = await env.state();
    expect(after.numbers.map((n) => n.sid)).toEqual([birchNumber]);
    expect(after.services.find((s) => s.sid === acmeService)?.phone_numbers).toEqual([]);
    // A sibling keeps its own.
    const birchListed = await env.parent.api.v2010.accounts(birch.sid).incomingPhoneNumbers.list();
    expect(birchListed.map((n) => n.sid)).toEqual([birchNumber]);
    // The closed subaccount is still listed with its history.
    expect((await acmePath.fetch()).status).toBe('closed');
  });

  it('a closed subaccount cannot be reopened: 400 / 21479', async () => {
    const sub = await env.parent.api.v2010.accounts.create({ friendlyName: 'Acme Dental' });
    await env.parent.api.v2010.accounts(sub.sid).update({ status: 'closed' });
    const closedForGood = {
      status: 400,
      code: 21479,
      message: 'Unable to update Status for subaccount, subaccount has been closed.',
    };
    expect(
      await twilioFailure(env.parent.api.v2010.accounts(sub.sid).update({ status: 'active' })),
    ).toEqual(closedForGood);
    expect(
      await twilioFailure(env.parent.api.v2010.accounts(sub.sid).update({ status: 'suspended' })),
    ).toEqual(closedForGood);
    expect((await env.parent.api.v2010.accounts(sub.sid).fetch()).status).toBe('closed');
  });

  it('an invalid status is 400 / 21475', async () => {
    const sub = await env.parent.api.v2010.accounts.create({ friendlyName: 'Acme Dental' });
    // The SDK types Status as an enum; send what a typo would send.
    const update = env.parent.api.v2010
      .accounts(sub.sid)
      .update({ status: 'paused' as unknown as 'active' });
    expect(await twilioFailure(update)).toEqual({
      status: 400,
      code: 21475,
      message: 'Unable to update Status, invalid Status.',
    });
    expect((await env.parent.api.v2010.accounts(sub.sid).fetch()).status).toBe('active');
  });

  it('the parent cannot change its own status: 400 / 21477', async () => {
    const own = env.parent.api.v2010.accounts(env.parentSid);
    for (const status of ['suspended', 'closed', 'active'] as const) {
      expect(await twilioFailure(own.update({ status }))).toEqual({
        status: 400,
        code: 21477,
        message: 'Unable to update Status for parent accounts',
      });
    }
    const parent = await own.fetch();
    expect(parent.status).toBe('active');
    expect(parent.ownerAccountSid).toBe(env.parentSid);
  });

  it('a seeded message dated before its account makes the account that much older', async () => {
    const before = await env.parent.api.v2010.accounts(env.parentSid).fetch();
    expect(before.dateCreated.toISOString()).toBe('2025-03-03T14:05:11.000Z');
    // A STOP older than the Messages API's 400 days, as docs/emulator.md says to seed one.
    await env.seed({
      numbers: [{ phone_number: '+14155550901' }],
      messages: [
        {
          from: '+12065550901',
          to: '+14155550901',
          body: 'STOP',
          direction: 'inbound',
          date_sent: '2023-06-01T08:00:00Z',
        },
      ],
    });
    const after = await env.parent.api.v2010.accounts(env.parentSid).fetch();
    expect(after.dateCreated.toISOString()).toBe('2023-06-01T08:00:00.000Z');
    expect(await env.parent.messages.list({ to: '+14155550901' })).toEqual([]);
  });
});
