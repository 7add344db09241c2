/**
 * `POST /__emulator/settings` and `GET /__emulator/settings`: per-account settings Twilio keeps
 * outside the REST API, defaults for every account, partial updates, validation, and reset.
 */

import { describe, expect, it } from 'vitest';

import { useEmulator, type EmulatorSettings } from '../support/emulator.js';

describe('emulator settings', () => {
  const env = useEmulator({ checkSchema: false });

  const get = (accountSid?: string) =>
    env.control<EmulatorSettings>(
      'GET',
      `/__emulator/settings${accountSid === undefined ? '' : `?account_sid=${accountSid}`}`,
    );
  const post = (body: Record<string, unknown>) =>
    fetch(`${env.url}/__emulator/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('every account starts from the defaults, the parent by default', async () => {
    const defaults = {
      message_retention_days: 400,
      consent_api: true,
      consent_requests_per_minute: 100,
      export_job_seconds: 0,
      default_service_sid: false,
    };
    expect(await get()).toEqual({ account_sid: env.parentSid, ...defaults });
    const { subaccounts } = await env.seed({ subaccounts: [{ friendly_name: 'Acme Dental' }] });
    const sub = subaccounts[0]!.sid;
    expect(await get(sub)).toEqual({ account_sid: sub, ...defaults });
  });

  it('updates one account; fields left out keep their value', async () => {
    const { subaccounts } = await env.seed({ subaccounts: [{ friendly_name: 'Acme Dental' }] });
    const sub = subaccounts[0]!.sid;
    const first = await env.control<EmulatorSettings>('POST', '/__emulator/settings', {
      account_sid: sub,
      message_retention_days: 30,
      consent_api: false,
    });
    expect(first).toMatchObject({
      account_sid: sub,
      message_retention_days: 30,
      consent_api: false,
    });
    const second = await env.control<EmulatorSettings>('POST', '/__emulator/settings', {
      account_sid: sub,
      export_job_seconds: 0,
    });
    expect(second).toEqual({
      account_sid: sub,
      message_retention_days: 30,
      consent_api: false,
      consent_requests_per_minute: 100,
      export_job_seconds: 0,
      default_service_sid: false,
    });
    // The parent is untouched.
    expect(await get()).toMatchObject({ message_retention_days: 400, consent_api: true });
    // Without account_sid a POST sets the parent's.
    await env.control('POST', '/__emulator/settings', { consent_requests_per_minute: 5 });
    expect((await get()).consent_requests_per_minute).toBe(5);
    expect((await get(sub)).consent_requests_per_minute).toBe(100);
  });

  it.each([
    [{ message_retention_days: 6 }],
    [{ message_retention_days: 401 }],
    [{ message_retention_days: 30.5 }],
    [{ consent_api: 'yes' }],
    [{ consent_requests_per_minute: 0 }],
    [{ export_job_seconds: -1 }],
    [{ default_service_sid: 1 }],
    [{ retention: 30 }],
  ])('refuses %j with 400 and changes nothing', async (patch) => {
    const response = await post(patch);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/setting|invalid/);
    expect((await get()).message_retention_days).toBe(400);
  });

  it('an unknown account is 404', async () => {
    const response = await post({ account_sid: 'AC' + '0'.repeat(32), consent_api: false });
    expect(response.status).toBe(404);
  });

  it('reset brings the defaults back', async () => {
    await env.control('POST', '/__emulator/settings', { message_retention_days: 7 });
    await env.control('POST', '/__emulator/reset');
    expect((await get()).message_retention_days).toBe(400);
  });
});
