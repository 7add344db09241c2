import { describe, expect, it } from 'vitest';

import {
  apiUrlWarning,
  headerPrintingDebug,
  readApiUrl,
  readCredentials,
  refuseHeaderPrintingDebug,
  secretsIn,
} from '../src/config.js';
import { UserError } from '../src/errors.js';

const SID = `AC${'a'.repeat(32)}`;
const KEY = `SK${'b'.repeat(32)}`;

describe('credentials from the environment', () => {
  it('reads an Account SID and Auth Token', () => {
    expect(readCredentials({ TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: 't'.repeat(32) })).toEqual(
      {
        kind: 'auth-token',
        accountSid: SID,
        authToken: 't'.repeat(32),
      },
    );
  });

  it('prefers an API key and secret when both are set, and needs the Account SID with it', () => {
    expect(
      readCredentials({
        TWILIO_ACCOUNT_SID: SID,
        TWILIO_AUTH_TOKEN: 'token',
        TWILIO_API_KEY: KEY,
        TWILIO_API_SECRET: 'secret',
      }),
    ).toEqual({ kind: 'api-key', accountSid: SID, apiKey: KEY, apiSecret: 'secret' });
    expect(() => readCredentials({ TWILIO_API_KEY: KEY, TWILIO_API_SECRET: 's' })).toThrow(
      /TWILIO_ACCOUNT_SID is not set/,
    );
  });

  it.each([
    [{}, /TWILIO_ACCOUNT_SID is not set/],
    [{ TWILIO_ACCOUNT_SID: 'AC123' }, /must be an Account SID/],
    [{ TWILIO_ACCOUNT_SID: SID }, /TWILIO_AUTH_TOKEN is not set/],
    [{ TWILIO_ACCOUNT_SID: SID, TWILIO_API_KEY: 'SK1' }, /must be an API key SID/],
    [{ TWILIO_ACCOUNT_SID: SID, TWILIO_API_KEY: KEY }, /TWILIO_API_SECRET is not/],
  ])('refuses %o with a clear UserError', (env, message) => {
    expect(() => readCredentials(env)).toThrow(UserError);
    expect(() => readCredentials(env)).toThrow(message);
  });

  it('reads an Account SID and an API key SID written in upper case as Twilio writes them', () => {
    const upper = (sid: string) => `${sid.slice(0, 2)}${sid.slice(2).toUpperCase()}`;
    const sid = `AC${'0a1b2c3d'.repeat(4)}`;
    const key = `SK${'9f8e7d6c'.repeat(4)}`;
    expect(
      readCredentials({ TWILIO_ACCOUNT_SID: upper(sid), TWILIO_AUTH_TOKEN: 't'.repeat(32) }),
    ).toMatchObject({ accountSid: sid });
    expect(
      readCredentials({
        TWILIO_ACCOUNT_SID: ` ${upper(sid)}\n`,
        TWILIO_API_KEY: upper(key),
        TWILIO_API_SECRET: 'secret\n',
      }),
    ).toEqual({ kind: 'api-key', accountSid: sid, apiKey: key, apiSecret: 'secret' });
  });

  it.each([
    [
      { TWILIO_ACCOUNT_SID: KEY, TWILIO_API_SECRET: 'secret' },
      'TWILIO_ACCOUNT_SID holds an API key SID (SK…): set it in TWILIO_API_KEY',
    ],
    [
      { TWILIO_ACCOUNT_SID: SID, TWILIO_API_SECRET: 'secret' },
      'TWILIO_API_SECRET is set but TWILIO_API_KEY is not',
    ],
  ])('names the variable that is wrong in %o', (env, message) => {
    expect(() => readCredentials(env)).toThrow(message);
  });

  it('never puts a secret in its error messages', () => {
    const token = 'Sup3rSecretT0ken!';
    try {
      readCredentials({ TWILIO_ACCOUNT_SID: 'not-a-sid', TWILIO_AUTH_TOKEN: token });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(token);
    }
  });

  it('lists the secrets to scrub from output (long enough to be secrets)', () => {
    expect(
      secretsIn({
        TWILIO_AUTH_TOKEN: ' abcdefgh1234 ',
        TWILIO_API_SECRET: 'short',
        OTHER: 'x'.repeat(40),
      }),
    ).toEqual(['abcdefgh1234']);
  });
});

describe('the API URL', () => {
  it('takes the flag over the environment, and unset means the real Twilio hosts', () => {
    expect(readApiUrl('http://127.0.0.1:4010/', { SUBMIGRATE_API_URL: 'http://other:1' })).toBe(
      'http://127.0.0.1:4010',
    );
    expect(readApiUrl(undefined, { SUBMIGRATE_API_URL: 'http://127.0.0.1:9' })).toBe(
      'http://127.0.0.1:9',
    );
    expect(readApiUrl(undefined, {})).toBeNull();
    expect(readApiUrl(undefined, { SUBMIGRATE_API_URL: '  ' })).toBeNull();
  });

  it.each(['not a url', 'ftp://host', 'http://user:pass@127.0.0.1:4010'])('refuses %s', (value) => {
    expect(() => readApiUrl(value, {})).toThrow(UserError);
  });

  it.each([
    'http://ops:hunter2@127.0.0.1:99999',
    'http://ops:hunter2#x@127.0.0.1:4010',
    'ftp://ops:hunter2@127.0.0.1:4010',
  ])('refuses %s without showing its password', (value) => {
    expect(() => readApiUrl(value, {})).toThrow(UserError);
    expect(() => readApiUrl(undefined, { SUBMIGRATE_API_URL: value })).toThrow(
      /^--api-url: \(not shown: it may hold a password\)/,
    );
  });

  it.each([
    'http://127.0.0.1:4010',
    'http://127.8.9.10:1',
    'http://localhost:4010',
    'http://[::1]:4010',
    'http://[::ffff:127.0.0.1]:4010',
    'https://twilio.example.corp',
    null,
  ])('does not warn of %s (loopback, https or none)', (value) => {
    expect(apiUrlWarning(value)).toBeNull();
  });

  it.each(['http://lab-emulator:4010', 'http://10.0.0.7:4010', 'http://0.0.0.0:4010'])(
    'warns that %s carries the credentials unencrypted',
    (value) => {
      expect(apiUrlWarning(value)).toBe(
        `warning: --api-url ${value} is plain http to another machine: the TWILIO_* credentials cross the network unencrypted. Use it only with an emulator's credentials.`,
      );
    },
  );
});

describe('NODE_DEBUG sections that print request headers', () => {
  it('matches them as Node does: comma-separated, "*" a wildcard, case ignored', () => {
    expect(headerPrintingDebug({})).toEqual([]);
    expect(headerPrintingDebug({ NODE_DEBUG: '' })).toEqual([]);
    expect(headerPrintingDebug({ NODE_DEBUG: 'http' })).toEqual(['http']);
    expect(headerPrintingDebug({ NODE_DEBUG: 'HTTPS' })).toEqual(['https']);
    expect(headerPrintingDebug({ NODE_DEBUG: 'module,net' })).toEqual(['net']);
    expect(headerPrintingDebug({ NODE_DEBUG: 'ht*' })).toEqual(['http', 'https']);
    expect(headerPrintingDebug({ NODE_DEBUG: '*' })).toEqual(['http', 'https', 'net']);
    // Not sections Node would turn on: a space is part of the name, "." is no wildcard.
    expect(headerPrintingDebug({ NODE_DEBUG: ' http' })).toEqual([]);
    expect(headerPrintingDebug({ NODE_DEBUG: 'htt.' })).toEqual([]);
    expect(headerPrintingDebug({ NODE_DEBUG: 'tls,http2,module' })).toEqual([]);
  });

  it('refuses naming the variable and the sections, or lets the command run', () => {
    expect(() => refuseHeaderPrintingDebug({ NODE_DEBUG: 'net' })).toThrow(UserError);
    expect(() => refuseHeaderPrintingDebug({ NODE_DEBUG: 'net' })).toThrow(
      /^NODE_DEBUG=net makes Node print every request .* \(net\); nothing was sent/,
    );
    expect(() => refuseHeaderPrintingDebug({ NODE_DEBUG: 'tls' })).not.toThrow();
  });
});
