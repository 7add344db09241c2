/**
 * What a real Twilio, or a proxy in front of it, may answer that the emulator never does: a
 * success whose body is HTML or nothing, a page without its list, a next-page link that points
 * at another account, another host or the page itself. Each is a TwilioError that says what
 * was answered, never a page read as the end of its list, a loop, a bare SyntaxError, or the
 * credentials sent somewhere that is not Twilio. A local server answers each crafted body.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { TwilioError } from '../../src/errors.js';
import { createTwilioPort } from '../../src/twilio/adapter.js';
import { TwilioHttpClient } from '../../src/twilio/http-client.js';
import type { TwilioPort } from '../../src/twilio/port.js';

const ACCOUNT = `AC${'1'.repeat(32)}`;
const TOKEN = 'tok_never_shown_0123456789abcdef';

interface Crafted {
  port: TwilioPort;
  url: string;
  /** Each request as it arrived: method, path and query, and whether it carried credentials. */
  seen: { path: string; auth: boolean }[];
}

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Crafted['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', auth: req.headers.authorization !== undefined });
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A port whose every request goes to a server that answers `answer(path)`. */
async function crafted(
  answer: (path: string) => { status?: number; type?: string; body: unknown },
): Promise<Crafted> {
  const { seen, url } = await listen((req, res) => {
    const { status = 200, type = 'application/json', body } = answer(req.url ?? '');
    res.writeHead(status, { 'content-type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  const client = new TwilioHttpClient({
    apiUrl: url,
    retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
  });
  const port = createTwilioPort(
    { kind: 'auth-token', accountSid: ACCOUNT, authToken: TOKEN },
    client,
  );
  return { port, url, seen };
}

async function failure(read: Promise<unknown>): Promise<TwilioError> {
  const error = await read.then(
    () => new Error('read as if it were well-formed'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TwilioError);
  expect((error as Error).message).not.toContain(TOKEN);
  return error as TwilioError;
}

describe('the SDK lists and fetches', () => {
  it('a 200 with HTML is an error naming the request, not a bare SyntaxError', async () => {
    const { port } = await crafted(() => ({ type: 'text/html', body: '<html>Gateway</html>' }));
    for (const read of [port.fetchAccount(ACCOUNT), port.listSubaccounts()]) {
      const error = await failure(read);
      expect(error.message).toMatch(/answered HTTP 200 with a body that is not JSON \(text\/html/);
    }
  });

  it.each([
    ['without its list', { meta: { key: 'services', next_page_url: null } }],
    ['with a null list', { services: null, meta: { key: 'services', next_page_url: null } }],
  ])('a page %s is an error naming the list', async (_name, body) => {
    const { port } = await crafted(() => ({ body }));
    const error = await failure(port.listServices(ACCOUNT));
    expect(error.message).toContain(`listing the Messaging Services of ${ACCOUNT}`);
  });

  it('a next page on another host is not asked for: the credentials go to Twilio only', async () => {
    const elsewhere = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ services: [], meta: { key: 'services', next_page_url: null } }));
    });
    const { port } = await crafted(() => ({
      body: {
        services: [],
        meta: { key: 'services', next_page_url: `${elsewhere.url}/v1/Services?Page=1` },
      },
    }));
    const error = await failure(port.listServices(ACCOUNT));
    expect(error.message).toContain(`GET ${elsewhere.url}/v1/Services: not a Twilio address`);
    expect(elsewhere.seen).toEqual([]);
  });
});
