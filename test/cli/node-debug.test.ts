/**
 * NODE_DEBUG=http (or https, or net) makes Node print each new connection's request options
 * on stderr, the Authorization header among them: `Basic base64(sid:token)`, the Auth Token
 * merely encoded. Node reads NODE_DEBUG at startup, so the tool cannot turn it off: a command
 * that talks to Twilio is refused before it sends anything. Needs `npm run build`.
 */

import { existsSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { clearRequestLog, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

describe('NODE_DEBUG that prints request headers', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: '+14155550100' }] });
  const basic = () => Buffer.from(`${ws.env.parentSid}:${ws.env.parentToken}`).toString('base64');
  const snapshot = (nodeDebug: string, db: string) =>
    runCli(
      ['snapshot', '--db', ws.dir.file(db), '--no-export'],
      cliEnv(ws.env, { NODE_DEBUG: nodeDebug }),
      ws.dir.path,
    );
  const expectNoCredentials = (text: string) => {
    expect(text).not.toContain(ws.env.parentToken);
    expect(text).not.toContain(basic());
  };

  it.each(['http', 'https', 'net', 'HTTP', 'ht*', 'module,NET'])(
    'NODE_DEBUG=%s: refused naming the variable, nothing sent, no credential printed',
    async (value) => {
      await clearRequestLog(ws.env);
      const result = await snapshot(value, 'refused.db');
      expectNoCredentials(result.stderr + result.stdout);
      expect(result.stderr).toContain(
        `error: NODE_DEBUG=${value} makes Node print every request to Twilio on stderr`,
      );
      expect(result.code).toBe(1);
      expect(await requestLog(ws.env)).toEqual([]);
      expect(existsSync(ws.dir.file('refused.db'))).toBe(false);
    },
  );

  it('NODE_DEBUG=tls prints no header: the snapshot runs', async () => {
    const result = await snapshot('tls', 'tls.db');
    expectNoCredentials(result.stderr + result.stdout);
    expect(result.code, result.stderr).toBe(0);
  });
});
