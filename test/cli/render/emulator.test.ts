/**
 * emulator's banner (text and --json) and what a failure to listen says: the flag it names,
 * or the failure as it came.
 */

import { describe, expect, it } from 'vitest';

import { listenError, type EmulatorArgs } from '../../../src/cli/emulator-options.js';
import { emulatorBanner, emulatorJson } from '../../../src/cli/render/emulator.js';
import { UserError } from '../../../src/errors.js';

const serving = { url: 'http://127.0.0.1:4010', accountSid: 'ACx', authToken: 'tok' };
const summary = { name: 'owlie', accounts: 1, numbers: 1_200, services: 3, messages: 50_000 };

describe('emulatorBanner', () => {
  it('where it listens, the scenario, then the exports; one newline at the end', () => {
    const text = emulatorBanner(serving, summary);
    expect(text.split('\n').slice(0, 2)).toEqual([
      'Twilio emulator listening on http://127.0.0.1:4010',
      'Scenario owlie: 1 account(s), 1,200 numbers, 3 Messaging Services, 50,000 messages',
    ]);
    expect(text).toContain('\n  export TWILIO_AUTH_TOKEN=tok\n');
    expect(text.endsWith('Ctrl-C stops.\n')).toBe(true);
  });

  it('no scenario line without a scenario', () => {
    expect(emulatorBanner(serving, null).split('\n')[1]).toBe('');
  });
});

describe('emulatorJson', () => {
  it('one line of JSON with the serving pid', () => {
    const text = emulatorJson(serving, null, 42);
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({
      url: serving.url,
      account_sid: 'ACx',
      auth_token: 'tok',
      pid: 42,
      scenario: null,
    });
  });
});

describe('listenError', () => {
  const args = { port: 4010, host: '10.9.9.9' } as EmulatorArgs;
  const failure = (code: string) => Object.assign(new Error(code), { code });

  it('names the flag for a port in use, an address not here, a port not allowed', () => {
    expect(listenError(failure('EADDRINUSE'), args).message).toMatch(
      /^--port 4010: 10\.9\.9\.9:4010 is already in use/,
    );
    expect(listenError(failure('EADDRNOTAVAIL'), args).message).toBe(
      '--host 10.9.9.9: not an address of this machine.',
    );
    expect(listenError(failure('EACCES'), args)).toBeInstanceOf(UserError);
  });

  it('any other failure as it came', () => {
    const other = failure('EMFILE');
    expect(listenError(other, args)).toBe(other);
  });
});
