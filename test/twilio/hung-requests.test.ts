/**
 * Requests Twilio never answers (the emulator's `hold_after`: held until the setting changes),
 * through the client with a short timeout: a read is sent again up to the retry budget and then
 * ends in an error naming it and the timeout; a write is sent once, never again blind, and its
 * error says there was no answer (apply then settles it by reading: settle.ts). No credentials
 * in either. Held requests are processed when the hold lifts, as Twilio would.
 */

import { describe, expect, it } from 'vitest';

import { TwilioError } from '../../src/errors.js';
import { requestLog, startTestEmulator, type TestEmulator } from '../support/emulator.js';

const POLICY = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 };

async function held(env: TestEmulator): Promise<number> {
  const health = await env.control<{ held_requests: number }>('GET', '/__emulator/health');
  return health.held_requests;
}

async function failure(promise: Promise<unknown>): Promise<TwilioError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TwilioError);
  return error as TwilioError;
}

describe('a request that never answers', () => {
  it('a read times out, is sent again up to the budget, then names itself and the timeout', async () => {
    const env = await startTestEmulator({}, { retry: POLICY, timeoutMs: 200 });
    try {
      const read = () => env.parent.api.v2010.accounts(env.parentSid).fetch();
      await env.control('POST', '/__emulator/faults', { hold_after: 1, hold_methods: ['GET'] });
      await read();
      const error = await failure(read());
      expect(error.status).toBe(0);
      expect(error.message).toBe(
        `GET ${env.url}/2010-04-01/Accounts/${env.parentSid}.json: no answer from ` +
          `${new URL(env.url).host} in time (ETIMEDOUT)`,
      );
      expect(error.message).not.toContain(env.parentToken);
      // Every attempt reached the emulator and is held there.
      expect(await held(env)).toBe(3);
      await env.control('POST', '/__emulator/faults', { hold_after: 0 });
    } finally {
      await env.close();
    }
  });

  it('a write times out once and is not sent again', async () => {
    const env = await startTestEmulator({}, { retry: POLICY, timeoutMs: 200 });
    try {
      await env.control('POST', '/__emulator/faults', { hold_after: 1, hold_methods: ['POST'] });
      await env.parent.api.v2010.accounts.create({ friendlyName: 'first' });
      const error = await failure(env.parent.api.v2010.accounts.create({ friendlyName: 'Acme' }));
      expect(error.status).toBe(0);
      expect(error.message).toMatch(
        /^POST .*\/2010-04-01\/Accounts\.json: no answer from .* in time/,
      );
      expect(await held(env)).toBe(1);
      // Let it go: Twilio does it though nobody heard the answer — once.
      await env.control('POST', '/__emulator/faults', { hold_after: 0 });
      for (let i = 0; i < 100 && (await env.state()).accounts.length < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const named = (await env.state()).accounts.filter((a) => a.friendly_name === 'Acme');
      expect(named).toHaveLength(1);
      expect((await requestLog(env)).filter((e) => e.method === 'POST')).toHaveLength(2);
    } finally {
      await env.close();
    }
  });
});
