/**
 * An error answer in JSON without Twilio's `message` (a proxy's `{"error": "bad gateway"}`, a
 * list, a number, a message that is not text) to a request made through the twilio SDK: the
 * SDK copies `message` from the body whatever it is, and the TwilioError built from it threw a
 * TypeError, printed as "internal error: … This is a bug in submigrate" with its stack. It is
 * now an `error:` line naming the HTTP status, as a raw read's such answer already was. The
 * built CLI, through a proxy that answers the account's fetch so. Needs `npm run build`.
 */

import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';
import { startTamperingProxy } from '../support/tampering-proxy.js';

describe('an error answer without a message (built CLI)', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: '+14155550101' }] });

  it.each([
    ['no message', '{"error":"bad gateway"}'],
    ['a message that is not text, and more_info neither', '{"message":{"a":1},"more_info":7}'],
    ['a null message', '{"message":null,"code":"x"}'],
    ['a list', '[]'],
    ['a number', '42'],
  ])('%s: an error line naming the status, no stack', async (_name, body) => {
    const proxy = await startTamperingProxy(ws.env.url, (path) =>
      /\/Accounts\/AC\w+\.json/.test(path) ? { status: 400, type: 'application/json', body } : null,
    );
    try {
      const result = await runCli(
        ['snapshot', '--db', 'x.db', '--no-export'],
        cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }),
        ws.dir.path,
      );
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toBe('error: Twilio (HTTP 400): HTTP 400\n');
      expect(result.stdout).toBe('');
    } finally {
      await proxy.close();
    }
  });

  it('a message with terminal controls is one plain line', async () => {
    const message = 'Bad\r\u001b[2Kall done\nok\u202eevil\u0085';
    const proxy = await startTamperingProxy(ws.env.url, (path) =>
      /\/Accounts\/AC\w+\.json/.test(path)
        ? { status: 400, type: 'application/json', body: JSON.stringify({ code: 20001, message }) }
        : null,
    );
    try {
      const result = await runCli(
        ['snapshot', '--db', 'x.db', '--no-export'],
        cliEnv(ws.env, { SUBMIGRATE_API_URL: proxy.url }),
        ws.dir.path,
      );
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(
        /^error: Twilio 20001 \(HTTP 400\): Bad \[2Kall done ok evil \n$/,
      );
    } finally {
      await proxy.close();
    }
  });
});
