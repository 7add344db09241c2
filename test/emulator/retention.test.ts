/**
 * The Messages API's retention window: list and fetch show only records whose
 * `date_created` lies within the owning account's window (default 400 days, 7–400 through
 * `/__emulator/settings`), measured from the emulator clock. Older records are hidden, not
 * deleted: an old STOP still blocks a send.
 */

import { beforeEach, describe, expect, it } from 'vitest';

import { twilioFailure, useEmulator } from '../support/emulator.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 15, 12, 0, 0);
const NUMBER = '+14155550100';
const USER = '+16505550101';
const ago = (days: number) => new Date(NOW - days * DAY).toISOString();

describe('Messages retention window', () => {
  const env = useEmulator({ now: () => NOW });
  /** Body → SID. */
  let sids: Map<string, string>;

  beforeEach(async () => {
    await env.seed({ numbers: [{ phone_number: NUMBER }] });
    const bodies = ['STOP', '399 days', '10 days', '5 days'];
    const { messages } = await env.seed({
      messages: [
        // A STOP from 401 days ago: older than the default window.
        { from: USER, to: NUMBER, body: 'STOP', direction: 'inbound', date_sent: ago(401) },
        {
          from: NUMBER,
          to: USER,
          body: '399 days',
          direction: 'outbound-api',
          date_sent: ago(399),
        },
        { from: NUMBER, to: USER, body: '10 days', direction: 'outbound-api', date_sent: ago(10) },
        { from: NUMBER, to: USER, body: '5 days', direction: 'outbound-api', date_sent: ago(5) },
      ],
    });
    sids = new Map(bodies.map((body, i) => [body, messages[i]!.sid]));
  });

  const listed = async () =>
    (await env.parent.messages.list({ pageSize: 1000 })).map((m) => m.body);

  it('hides a message older than 400 days from the list and its fetch, by default', async () => {
    expect(await listed()).toEqual(['5 days', '10 days', '399 days']);
    expect(await twilioFailure(env.parent.messages(sids.get('STOP')!).fetch())).toMatchObject({
      status: 404,
      code: 20404,
    });
    expect((await env.parent.messages(sids.get('399 days')!).fetch()).body).toBe('399 days');
    // A date filter reaching back past the window does not reveal it either.
    expect(
      (await env.parent.messages.list({ dateSentAfter: new Date(NOW - 1000 * DAY) })).length,
    ).toBe(3);
  });

  it('is hidden, not deleted: the old STOP still refuses a send with 21610', async () => {
    expect(
      await twilioFailure(env.parent.messages.create({ from: NUMBER, to: USER, body: 'Hi' })),
    ).toMatchObject({ status: 400, code: 21610 });
    const store = await env.control<{ optouts: { message_sid: string }[] }>(
      'GET',
      '/__emulator/optouts',
    );
    expect(store.optouts.map((o) => o.message_sid)).toEqual([sids.get('STOP')]);
    expect(env.emulator.state.messages.get(sids.get('STOP')!)).toBeDefined();
  });

  it('a 7-day window hides everything older than 7 days', async () => {
    await env.control('POST', '/__emulator/settings', { message_retention_days: 7 });
    expect(await listed()).toEqual(['5 days']);
    for (const body of ['STOP', '399 days', '10 days']) {
      expect(await twilioFailure(env.parent.messages(sids.get(body)!).fetch())).toMatchObject({
        status: 404,
        code: 20404,
      });
    }
    // Paging stops at the window: no next page that would lead past it.
    const page = await env.parent.messages.page({ pageSize: 1 });
    expect(page.instances.map((m) => m.body)).toEqual(['5 days']);
    expect(page.nextPageUrl).toBeUndefined();
  });

  it("each account has its own window: a subaccount's setting leaves the parent's alone", async () => {
    const { subaccounts } = await env.seed({ subaccounts: [{ friendly_name: 'Acme Dental' }] });
    const sub = subaccounts[0]!;
    await env.seed({
      numbers: [{ phone_number: '+14155550200', account_sid: sub.sid }],
      messages: [
        { from: USER, to: '+14155550200', body: 'hello', direction: 'inbound', date_sent: ago(30) },
      ],
    });
    await env.control('POST', '/__emulator/settings', {
      account_sid: sub.sid,
      message_retention_days: 14,
    });
    const subClient = env.clientFor(sub.sid, sub.auth_token);
    expect(await subClient.messages.list()).toEqual([]);
    expect(await listed()).toEqual(['5 days', '10 days', '399 days']);
  });
});
