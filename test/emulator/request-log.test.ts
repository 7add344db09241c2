/**
 * `GET /__emulator/requests`: one entry per Twilio request (control routes are not logged),
 * `{time, method, path, account_sid, status, duration_ms}`, with `account_sid` = who
 * authenticated; `DELETE` clears it; and no Auth Token ever appears in it.
 */

import { beforeEach, describe, expect, it } from 'vitest';

import { requestLog, useEmulator } from '../support/emulator.js';

const NUMBER = '+14155550100';
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('the request log', () => {
  const env = useEmulator({ checkSchema: false });
  let sub: { sid: string; auth_token: string };
  let numberSid: string;

  beforeEach(async () => {
    const seeded = await env.seed({
      subaccounts: [{ friendly_name: 'Falcon Flights' }],
      numbers: [{ phone_number: NUMBER }],
    });
    sub = seeded.subaccounts[0]!;
    numberSid = seeded.numbers[0]!.sid;
  });

  const log = () => requestLog(env);

  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (error: unknown) => error as { status?: number; code?: number },
    );

  it('starts empty after reset and does not log control routes', async () => {
    await env.control('GET', '/__emulator/health');
    await env.control('GET', '/__emulator/state');
    await env.control('GET', '/__emulator/optouts');
    await env.control('POST', '/__emulator/inbound', {
      from: '+16505550100',
      to: NUMBER,
      body: 'hi',
    });
    await env.control('GET', '/__emulator/faults');
    await env.control('GET', '/__emulator/requests');
    expect(await log()).toEqual([]);
  });

  it('logs each Twilio request with who authenticated, and DELETE clears it', async () => {
    const before = Date.now();
    await env.parent.api.v2010.accounts(env.parentSid).fetch();
    // Parent credentials acting on a subaccount's path: the parent authenticated.
    await env.parent.api.v2010.accounts(sub.sid).incomingPhoneNumbers.list();
    const subClient = env.clientFor(sub.sid, sub.auth_token);
    await subClient.api.v2010.accounts(sub.sid).fetch();
    await subClient.messaging.v1.services.list();
    await env.parent.messages.list({ to: '+16505550100', pageSize: 20 });
    const notFound = await rejection(
      env.parent.api.v2010
        .accounts(env.parentSid)
        .incomingPhoneNumbers(`PN${'0'.repeat(32)}`)
        .fetch(),
    );
    expect(notFound.status).toBe(404);
    const after = Date.now();

    const entries = await log();
    expect(
      entries.map(({ method, path, account_sid, status }) => ({
        method,
        path,
        account_sid,
        status,
      })),
    ).toEqual([
      {
        method: 'GET',
        path: `/2010-04-01/Accounts/${env.parentSid}.json`,
        account_sid: env.parentSid,
        status: 200,
      },
      {
        method: 'GET',
        path: `/2010-04-01/Accounts/${sub.sid}/IncomingPhoneNumbers.json`,
        account_sid: env.parentSid,
        status: 200,
      },
      {
        method: 'GET',
        path: `/2010-04-01/Accounts/${sub.sid}.json`,
        account_sid: sub.sid,
        status: 200,
      },
      { method: 'GET', path: '/v1/Services', account_sid: sub.sid, status: 200 },
      {
        method: 'GET',
        path: `/2010-04-01/Accounts/${env.parentSid}/Messages.json`,
        account_sid: env.parentSid,
        status: 200,
      },
      {
        method: 'GET',
        path: `/2010-04-01/Accounts/${env.parentSid}/IncomingPhoneNumbers/PN${'0'.repeat(32)}.json`,
        account_sid: env.parentSid,
        status: 404,
      },
    ]);
    for (const entry of entries) {
      expect(entry).toEqual(
        expect.objectContaining({
          time: expect.stringMatching(ISO_MS),
          method: expect.any(String),
          path: expect.any(String),
          status: expect.any(Number),
          duration_ms: expect.any(Number),
        }),
      );
      expect(entry).toHaveProperty('account_sid');
      const at = Date.parse(entry.time);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
      expect(entry.duration_ms).toBeGreaterThanOrEqual(0);
    }
    const times = entries.map((e) => Date.parse(e.time));
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);

    expect(await env.control('DELETE', '/__emulator/requests')).toBeDefined();
    expect(await log()).toEqual([]);
    await env.parent.api.v2010.accounts(env.parentSid).fetch();
    expect((await log()).map((e) => e.path)).toEqual([
      `/2010-04-01/Accounts/${env.parentSid}.json`,
    ]);
    expect(env.httpClient.violations).toEqual([]);
  });

  it('logs POSTs, failed authentication, 429s and dropped connections', async () => {
    await env.parent.messages.create({ from: NUMBER, to: '+16505550100', body: 'Hello' });
    const wrongToken = env.clientFor(env.parentSid, sub.auth_token);
    expect((await rejection(wrongToken.api.v2010.accounts(env.parentSid).fetch())).status).toBe(
      401,
    );
    // Valid subaccount credentials on the parent's path: authenticated, then refused.
    const subClient = env.clientFor(sub.sid, sub.auth_token);
    expect((await rejection(subClient.api.v2010.accounts(env.parentSid).fetch())).status).toBe(401);

    await env.control('POST', '/__emulator/faults', { reset_rate: 1 });
    await rejection(env.parent.api.v2010.accounts(env.parentSid).fetch());
    await env.control('POST', '/__emulator/faults', {
      reset_rate: 0,
      error_rate: 1,
      error_status: 503,
    });
    expect((await rejection(env.parent.api.v2010.accounts(env.parentSid).fetch())).status).toBe(
      503,
    );
    await env.control('POST', '/__emulator/faults', { error_rate: 0 });
    await env.control('POST', '/__emulator/faults', { concurrency_limit: 1, latency_ms: 200 });
    const parallel = await Promise.allSettled(
      Array.from({ length: 4 }, () => env.parent.api.v2010.accounts(env.parentSid).fetch()),
    );
    await env.control('POST', '/__emulator/faults', { concurrency_limit: 0, latency_ms: 0 });
    const limited = parallel.filter((p) => p.status === 'rejected').length;
    expect(limited).toBeGreaterThanOrEqual(1);

    const all = await log();
    const tail = all.slice(5);
    expect(tail).toHaveLength(4);
    expect(tail.filter((e) => e.status === 429)).toHaveLength(limited);
    for (const entry of tail) {
      expect(entry.account_sid).toBe(env.parentSid);
      expect([200, 429]).toContain(entry.status);
    }

    const entries = all.slice(0, 5);
    expect(
      entries.map(({ method, account_sid, status }) => ({ method, account_sid, status })),
    ).toEqual([
      { method: 'POST', account_sid: env.parentSid, status: 201 },
      { method: 'GET', account_sid: null, status: 401 },
      { method: 'GET', account_sid: sub.sid, status: 401 },
      { method: 'GET', account_sid: null, status: 0 },
      { method: 'GET', account_sid: env.parentSid, status: 503 },
    ]);
    expect(entries[0]!.path).toBe(`/2010-04-01/Accounts/${env.parentSid}/Messages.json`);
    for (const entry of entries) expect(entry.time).toMatch(ISO_MS);
  });

  it('never carries an Auth Token, not even of a failed authentication', async () => {
    const subClient = env.clientFor(sub.sid, sub.auth_token);
    // Parent credentials: read the subaccount (whose JSON carries its token), transfer a number.
    const fetched = await env.parent.api.v2010.accounts(sub.sid).fetch();
    expect(fetched.authToken).toBe(sub.auth_token);
    await env.parent.api.v2010
      .accounts(env.parentSid)
      .incomingPhoneNumbers(numberSid)
      .update({ accountSid: sub.sid });
    await env.parent.api.v2010.accounts.list({ friendlyName: 'Falcon Flights' });
    // Subaccount credentials.
    await subClient.messaging.v1.services.create({ friendlyName: 'Falcon' });
    await subClient.messages.create({ from: NUMBER, to: '+16505550100', body: 'Boarding' });
    // Failed authentication, both ways round, and no credentials at all.
    await rejection(env.clientFor(sub.sid, env.parentToken).api.v2010.accounts(sub.sid).fetch());
    await rejection(env.clientFor(env.parentSid, sub.auth_token).messages.list({ limit: 1 }));
    // A token where the SID should be (the SDK refuses that, so by hand).
    const swapped = await fetch(`${env.url}/2010-04-01/Accounts/${sub.sid}.json`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${env.parentToken}:${sub.auth_token}`).toString('base64')}`,
      },
    });
    expect(swapped.status).toBe(401);
    const anonymous = await fetch(`${env.url}/2010-04-01/Accounts/${env.parentSid}.json`);
    expect(anonymous.status).toBe(401);

    const entries = await log();
    expect(entries.length).toBeGreaterThanOrEqual(9);
    const serialized = JSON.stringify(entries);
    for (const secret of [
      env.parentToken,
      sub.auth_token,
      Buffer.from(`${env.parentSid}:${env.parentToken}`).toString('base64'),
      Buffer.from(`${sub.sid}:${sub.auth_token}`).toString('base64'),
    ]) {
      expect(serialized).not.toContain(secret);
    }
    // The raw control response too, not only what we parsed out of it.
    const raw = await (await fetch(`${env.url}/__emulator/requests`)).text();
    expect(raw).not.toContain(env.parentToken);
    expect(raw).not.toContain(sub.auth_token);
    expect(env.httpClient.violations).toEqual([]);
  });
});
