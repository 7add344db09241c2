/**
 * The password in HTTPS_PROXY is a secret like the Twilio credentials: never on stderr. It was
 * printed whole by Node's own deprecation warning (DEP0170) when the proxy agent read an URL
 * the WHATWG parser rejects (a "#" in the password, not percent-encoded, is enough), and by
 * the agent's debug output (`DEBUG=*`) for any proxy URL. The proxy here is a local server
 * that records the CONNECT it is sent and closes it. Needs `npm run build`.
 */

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

const PASSWORD = 'hunter2#Pr0xy';

describe('HTTPS_PROXY with a password', () => {
  const ws = useCliWorkspace();
  let proxy: Server;
  const connects: IncomingMessage[] = [];
  const proxyUrl = (password: string) =>
    `http://ops:${password}@127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  beforeAll(async () => {
    proxy = createServer();
    proxy.on('connect', (request: IncomingMessage, socket) => {
      connects.push(request);
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy.close(resolve));
  });

  // An https --api-url goes through the proxy; so do Twilio's own hosts.
  const run = (proxyValue: string, extra: Record<string, string> = {}) =>
    runCli(
      [
        'snapshot',
        '--db',
        ws.dir.file('p.db'),
        '--api-url',
        ws.env.url.replace(/^http:/, 'https:'),
      ],
      cliEnv(ws.env, { HTTPS_PROXY: proxyValue, ...extra }),
      ws.dir.path,
    );

  const expectNoPassword = (text: string) => {
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(Buffer.from(`ops:${PASSWORD}`).toString('base64'));
  };

  it('a "#" left unencoded: refused in one line naming the variable, the password not shown', async () => {
    const result = await run(proxyUrl(PASSWORD));
    expectNoPassword(result.stderr + result.stdout);
    expect(result.stderr).toMatch(/^error: HTTPS_PROXY is not a URL \(not shown/);
    expect(result.code).toBe(1);
  });

  it('with DEBUG=*, the proxy is shown without its password, and is sent it', async () => {
    connects.length = 0;
    const result = await run(proxyUrl(encodeURIComponent(PASSWORD)), { DEBUG: '*' });
    expectNoPassword(result.stderr + result.stdout);
    expect(result.stderr).toContain('https-proxy-agent');
    expect(result.code).toBe(1);
    // The proxy did get the password, decoded: the request went through it, not around it.
    expect(connects.length).toBeGreaterThan(0);
    expect(connects[0]!.headers['proxy-authorization']).toBe(
      `Basic ${Buffer.from(`ops:${PASSWORD}`).toString('base64')}`,
    );
  });
  // The twilio SDK's own constructor read HTTP_PROXY raw (url.parse): beside a good HTTPS_PROXY
  // its password was printed whole (DEP0170); a stray "%" in it crashed every command.
  it('HTTP_PROXY beside HTTPS_PROXY: never printed, never read by the SDK', async () => {
    const result = await run(proxyUrl(encodeURIComponent(PASSWORD)), {
      HTTP_PROXY: `http://ops:${PASSWORD}@127.0.0.1:9`,
    });
    expectNoPassword(result.stderr + result.stdout);
    expect(result.stderr).not.toContain('DEP0170');
    expect(result.code).toBe(1);
  });

  it('HTTP_PROXY alone with a "%" that encodes nothing: no internal error', async () => {
    const result = await runCli(
      ['snapshot', '--db', ws.dir.file('q.db'), '--api-url', ws.env.url],
      cliEnv(ws.env, { HTTP_PROXY: 'http://ops:hunter2%zz@127.0.0.1:9' }),
      ws.dir.path,
    );
    expectNoPassword(result.stderr + result.stdout);
    expect(result.stderr).not.toContain('internal error');
    expect(result.code).toBe(0);
  });
});
