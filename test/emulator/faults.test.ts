/**
 * Fault injection through `POST /__emulator/faults`, seen through the real SDK: the
 * per-account concurrency limit (429 / 20429 with `Twilio-Concurrent-Requests`), scripted
 * 5xx, dropped connections (a `TwilioError` with status 0 from our http client), partial
 * updates, turning a fault off with 0, and reset. No wall-clock limits (latency is checked
 * as a lower bound only).
 */

import { describe, expect, it } from 'vitest';

import { TwilioError } from '../../src/errors.js';
import { NO_FAULTS, type FaultSettings } from '../../src/emulator/faults.js';
import { useEmulator } from '../support/emulator.js';

interface Outcome {
  ok: boolean;
  status: number;
  code: number | null;
  concurrent: number | null;
}

describe('fault injection', () => {
  const env = useEmulator({ checkSchema: false });

  const setFaults = (patch: Partial<FaultSettings>) =>
    env.control<FaultSettings>('POST', '/__emulator/faults', patch);

  const fetchParent = () => env.parent.api.v2010.accounts(env.parentSid).fetch();

  /** One SDK fetch of the parent account, as an outcome with the concurrency header. */
  async function sdkOutcome(): Promise<Outcome> {
    try {
      const response = await env.parent.api.v2010.accounts(env.parentSid).fetchWithHttpInfo();
      const header = response.headers['twilio-concurrent-requests'];
      return {
        ok: true,
        status: response.statusCode,
        code: null,
        concurrent: header === undefined ? null : Number(header),
      };
    } catch (error) {
      const { status, code } = error as { status?: unknown; code?: unknown };
      if (typeof status !== 'number') throw error;
      return { ok: false, status, code: typeof code === 'number' ? code : null, concurrent: null };
    }
  }

  async function rawFetch(): Promise<Response> {
    const auth = Buffer.from(`${env.parentSid}:${env.parentToken}`).toString('base64');
    return fetch(`${env.url}/2010-04-01/Accounts/${env.parentSid}.json`, {
      headers: { authorization: `Basic ${auth}` },
    });
  }

  it('concurrency_limit: 10 parallel SDK requests, at most 2 served at a time, the rest 429/20429', async () => {
    const settings = await setFaults({ concurrency_limit: 2, latency_ms: 200 });
    expect(settings).toMatchObject({ concurrency_limit: 2, latency_ms: 200 });

    const outcomes = await Promise.all(Array.from({ length: 10 }, () => sdkOutcome()));
    const served = outcomes.filter((o) => o.ok);
    const refused = outcomes.filter((o) => !o.ok);

    expect(served.length + refused.length).toBe(10);
    expect(served.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const o of refused) expect(o).toMatchObject({ status: 429, code: 20429 });
    for (const o of served) {
      expect(o.status).toBe(200);
      // Each served request says how many were in flight with it: never more than the limit.
      expect(o.concurrent).not.toBeNull();
      expect(o.concurrent!).toBeGreaterThanOrEqual(1);
      expect(o.concurrent!).toBeLessThanOrEqual(2);
    }
    expect(env.httpClient.violations).toEqual([]);
  });

  it('the 429 carries Twilio-Concurrent-Requests and a Twilio error body', async () => {
    await setFaults({ concurrency_limit: 2, latency_ms: 200 });
    const responses = await Promise.all(Array.from({ length: 10 }, () => rawFetch()));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<unknown>));
    const limited = responses
      .map((response, i) => ({ response, body: bodies[i] }))
      .filter(({ response }) => response.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    for (const { response, body } of limited) {
      const header = response.headers.get('twilio-concurrent-requests');
      expect(header).toMatch(/^\d+$/);
      expect(Number(header)).toBeGreaterThan(2);
      expect(body).toMatchObject({
        status: 429,
        code: 20429,
        more_info: 'https://www.twilio.com/docs/errors/20429',
      });
    }
    for (const response of responses.filter((r) => r.status === 200)) {
      expect(Number(response.headers.get('twilio-concurrent-requests'))).toBeLessThanOrEqual(2);
    }
  });

  it('the limit is per account: a subaccount has its own slots', async () => {
    const { subaccounts } = await env.seed({ subaccounts: [{ friendly_name: 'Other' }] });
    const sub = subaccounts[0]!;
    await setFaults({ concurrency_limit: 1, latency_ms: 200 });
    const subClient = env.clientFor(sub.sid, sub.auth_token);
    const [parent, child] = await Promise.allSettled([
      fetchParent(),
      subClient.api.v2010.accounts(sub.sid).fetch(),
    ]);
    expect(parent.status).toBe('fulfilled');
    expect(child.status).toBe('fulfilled');
    expect(env.httpClient.violations).toEqual([]);
  });

  it('error_rate 1 with error_status 503 answers 503; error_rate 0 turns it off', async () => {
    await setFaults({ error_rate: 1, error_status: 503 });
    expect(await sdkOutcome()).toMatchObject({ ok: false, status: 503 });
    const raw = await rawFetch();
    expect(raw.status).toBe(503);
    expect(await raw.json()).toMatchObject({ status: 503 });

    await setFaults({ error_rate: 0 });
    expect(await sdkOutcome()).toMatchObject({ ok: true, status: 200 });
    expect(env.httpClient.violations).toEqual([]);
  });

  it('error_status defaults to 500', async () => {
    await setFaults({ error_rate: 1 });
    expect(await sdkOutcome()).toMatchObject({ ok: false, status: 500 });
  });

  it('reset_rate 1 drops the connection: a TwilioError with status 0, no credentials in it', async () => {
    await setFaults({ reset_rate: 1 });
    const error: unknown = await fetchParent().then(
      () => {
        throw new Error('expected the request to be dropped');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TwilioError);
    const twilioError = error as TwilioError;
    expect(twilioError.status).toBe(0);
    expect(twilioError.code).toBeNull();
    expect(twilioError.retryable).toBe(true);
    expect(twilioError.message).toContain(`/2010-04-01/Accounts/${env.parentSid}.json`);
    expect(JSON.stringify({ ...twilioError, message: twilioError.message })).not.toContain(
      env.parentToken,
    );

    // A raw client sees the connection go away too.
    await expect(rawFetch()).rejects.toThrow();

    // A POST is dropped the same way, and is not safe to retry.
    const post = await env.parent.messages
      .create({ from: '+14155550100', to: '+16505550100', body: 'hi' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(post).toBeInstanceOf(TwilioError);
    expect((post as TwilioError).status).toBe(0);
    expect((post as TwilioError).retryable).toBe(false);

    await setFaults({ reset_rate: 0 });
    expect(await sdkOutcome()).toMatchObject({ ok: true, status: 200 });
    expect(env.httpClient.violations).toEqual([]);
  });

  // A lower bound only (an answer cannot come early on a slow machine): no wall-clock limit.
  it('latency_ms: answers, 5xx included, leave no sooner than that long after the request arrived', async () => {
    await setFaults({ latency_ms: 60 });
    for (const errorRate of [0, 1]) {
      await setFaults({ error_rate: errorRate });
      const sent = performance.now();
      const response = await rawFetch();
      await response.arrayBuffer();
      expect(response.status).toBe(errorRate === 0 ? 200 : 500);
      expect(performance.now() - sent).toBeGreaterThanOrEqual(60);
      expect(Number(response.headers.get('twilio-request-duration'))).toBeGreaterThanOrEqual(0.06);
    }
    await setFaults({ latency_ms: 0, error_rate: 0 });
  });

  it('fields left out keep their value; 0 turns one off', async () => {
    expect(await setFaults({ latency_ms: 20 })).toEqual({ ...NO_FAULTS, latency_ms: 20 });
    expect(await setFaults({ concurrency_limit: 3 })).toEqual({
      ...NO_FAULTS,
      latency_ms: 20,
      concurrency_limit: 3,
    });
    expect(await setFaults({ error_rate: 1, error_status: 503 })).toEqual({
      ...NO_FAULTS,
      latency_ms: 20,
      concurrency_limit: 3,
      error_rate: 1,
      error_status: 503,
    });
    // Changing something else leaves the error fault on.
    await setFaults({ latency_ms: 0 });
    expect(await sdkOutcome()).toMatchObject({ ok: false, status: 503 });
    expect(await env.control('GET', '/__emulator/faults')).toEqual({
      ...NO_FAULTS,
      concurrency_limit: 3,
      error_rate: 1,
      error_status: 503,
    });
    await setFaults({ error_rate: 0, concurrency_limit: 0 });
    expect(await env.control('GET', '/__emulator/faults')).toEqual({
      ...NO_FAULTS,
      error_status: 503,
    });
    expect(await sdkOutcome()).toMatchObject({ ok: true, status: 200 });
    expect(env.httpClient.violations).toEqual([]);
  });

  it('reset clears every fault', async () => {
    await setFaults({
      latency_ms: 50,
      concurrency_limit: 1,
      error_rate: 1,
      error_status: 502,
      reset_rate: 1,
    });
    await env.control('POST', '/__emulator/reset');
    expect(await env.control('GET', '/__emulator/faults')).toEqual(NO_FAULTS);
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => sdkOutcome()));
    expect(outcomes.every((o) => o.ok && o.status === 200)).toBe(true);
    expect(env.httpClient.violations).toEqual([]);
  });

  it('refuses unknown or invalid settings, and changes nothing then', async () => {
    const post = (body: unknown) =>
      fetch(`${env.url}/__emulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const body of [
      { error_rate: 2 },
      { error_status: 404 },
      { concurrency_limit: -1 },
      { latency_ms: 1.5 },
      { reset_rate: '1' },
      { retry_after: 1 },
      { retry_after: 'new\nline' },
      { throttle_count: 0.5 },
      { commit_then_fail_count: -1 },
      { commit_then_fail_methods: ['post'] },
      { latency_ms: 10, error_rate: 7 },
    ]) {
      expect((await post(body)).status).toBe(400);
    }
    expect(await env.control('GET', '/__emulator/faults')).toEqual(NO_FAULTS);
  });

  it('hold_after: lets exactly N requests of the named methods through, holds the rest until lifted', async () => {
    await setFaults({ hold_after: 2, hold_methods: ['GET'] });
    const answered: number[] = [];
    const fetches = [1, 2, 3, 4].map((n) => rawFetch().then(() => answered.push(n)));
    await Promise.all(fetches.slice(0, 2));
    // The other two are parked: nothing answers them while the hold stands.
    const health = () => env.control<{ held_requests: number }>('GET', '/__emulator/health');
    for (let i = 0; i < 50 && (await health()).held_requests < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await health()).held_requests).toBe(2);
    expect(answered).toHaveLength(2);
    // A POST is not counted nor held.
    const auth = Buffer.from(`${env.parentSid}:${env.parentToken}`).toString('base64');
    const post = await fetch(`${env.url}/2010-04-01/Accounts/${env.parentSid}.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${auth}` },
    });
    expect(post.status).toBe(200);
    await setFaults({ hold_after: 0 });
    await Promise.all(fetches);
    expect(answered).toHaveLength(4);
    expect((await health()).held_requests).toBe(0);
    await env.control('POST', '/__emulator/reset');
  });

  it('throttle_count: the next N requests are 429 / 20429, with retry_after as their Retry-After', async () => {
    await setFaults({ throttle_count: 2, retry_after: 'soon' });
    const [first, second, third] = [await rawFetch(), await rawFetch(), await rawFetch()];
    for (const refused of [first!, second!]) {
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('soon');
      expect(await refused.json()).toMatchObject({ code: 20429, status: 429 });
    }
    expect(third!.status).toBe(200);
    expect(third!.headers.get('retry-after')).toBeNull();
    expect(await env.control('GET', '/__emulator/faults')).toMatchObject({
      throttle_count: 0,
      retry_after: 'soon',
    });
    // A 429 the emulator answers for another reason carries it too; "" sends none.
    await setFaults({ concurrency_limit: 1, latency_ms: 100 });
    const limited = await Promise.all([rawFetch(), rawFetch()]);
    expect(limited.map((r) => [r.status, r.headers.get('retry-after')]).sort()).toEqual([
      [200, null],
      [429, 'soon'],
    ]);
    await setFaults({ throttle_count: 1, retry_after: '' });
    const bare = await rawFetch();
    expect([bare.status, bare.headers.get('retry-after')]).toEqual([429, null]);
    await env.control('POST', '/__emulator/reset');
  });

  it('commit_then_fail_count: the request is done, then answered error_status', async () => {
    await setFaults({ commit_then_fail_count: 1, commit_then_fail_methods: ['POST'] });
    // A GET is neither counted nor failed.
    expect(await sdkOutcome()).toMatchObject({ ok: true, status: 200 });
    const created = await env.parent.api.v2010.accounts
      .create({ friendlyName: 'made though refused' })
      .then(
        () => null,
        (error: unknown) => error as { status: number; code: number },
      );
    expect(created).toMatchObject({ status: 500, code: 20500 });
    const state = await env.state();
    expect(state.accounts.filter((a) => a.friendly_name === 'made though refused')).toHaveLength(1);
    expect(await env.control('GET', '/__emulator/faults')).toMatchObject({
      commit_then_fail_count: 0,
    });
    // Spent: the next POST is answered as it is done.
    await env.parent.api.v2010.accounts.create({ friendlyName: 'made and answered' });
    expect((await env.state()).accounts.map((a) => a.friendly_name)).toContain('made and answered');
    await env.control('POST', '/__emulator/reset');
  });

  it('does not apply faults to the control plane', async () => {
    await setFaults({ reset_rate: 1, error_rate: 1 });
    expect(await env.control('GET', '/__emulator/health')).toMatchObject({ status: 'ok' });
    await env.control('POST', '/__emulator/reset');
  });
});
