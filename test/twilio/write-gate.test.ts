/**
 * The client's write gate (`gateWrites`), apply's "only while this process holds the lock":
 * asked as each write leaves, after its wait in the limiter and any retry's back-off, not when
 * it was queued. A write queued behind a slow one before the gate closed does not leave; nor
 * does the retry of one answered 503 while the gate closed in its back-off; the gate's error is
 * the request's, never retried; reads go. A local HTTP server stands in for Twilio.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { TwilioHttpClient } from '../../src/twilio/http-client.js';

const ACCOUNT = 'AC00000000000000000000000000000001';
const NUMBER = (i: number) => `PN${String(i).padStart(32, '0')}`;
const WRITE = (i: number) =>
  `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/IncomingPhoneNumbers/${NUMBER(i)}.json`;

class Closed extends Error {}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, seen, apiUrl: `http://127.0.0.1:${port}` };
}

const answer = (res: ServerResponse, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end('{}');
};

describe('the write gate', () => {
  const servers: { close(): void }[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.close()));

  it('holds back a write that waited in the limiter while the gate closed', async () => {
    let release: () => void = () => undefined;
    const { server, seen, apiUrl } = await serve((_req, res) => {
      if (seen.length === 1) release = () => answer(res);
      else answer(res);
    });
    servers.push(server);
    const client = new TwilioHttpClient({ apiUrl, limits: { concurrency: 1, ratePerSecond: 0 } });
    let open = true;
    client.gateWrites(() => {
      if (!open) throw new Closed('the lock is another apply’s');
    });
    const first = client.request({ method: 'post', uri: WRITE(1), data: { AccountSid: 'x' } });
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    // Queued behind the first (one request slot), the gate still open.
    const second = client.request({ method: 'post', uri: WRITE(2), data: { AccountSid: 'x' } });
    await new Promise((r) => setTimeout(r, 20));
    open = false;
    release();
    expect((await first).statusCode).toBe(200);
    await expect(second).rejects.toBeInstanceOf(Closed);
    // A read is not a write: it goes.
    const read = await client.request({ method: 'get', uri: WRITE(3) });
    expect(read.statusCode).toBe(200);
    expect(seen).toEqual([
      `POST /2010-04-01/Accounts/${ACCOUNT}/IncomingPhoneNumbers/${NUMBER(1)}.json`,
      `GET /2010-04-01/Accounts/${ACCOUNT}/IncomingPhoneNumbers/${NUMBER(3)}.json`,
    ]);
    expect(client.stats.retries).toBe(0);
  });

  it('asks again before each retry: one closed during the back-off is not sent again', async () => {
    const { server, seen, apiUrl } = await serve((_req, res) => answer(res, 503));
    servers.push(server);
    let open = true;
    const client = new TwilioHttpClient({
      apiUrl,
      // The back-off is where the gate closes.
      sleep: async () => {
        open = false;
      },
    });
    client.gateWrites(() => {
      if (!open) throw new Closed('closed');
    });
    // Consent writes are retried on a 503 (upserts by correlation_id).
    const uri = 'https://accounts.twilio.com/v1/Consents/Bulk';
    await expect(
      client.request({ method: 'post', uri, data: { Items: '[]' } }),
    ).rejects.toBeInstanceOf(Closed);
    expect(seen).toEqual(['POST /v1/Consents/Bulk']);
    client.gateWrites(null);
    open = false;
    await client.request({ method: 'post', uri: WRITE(4), data: {} });
    expect(seen).toHaveLength(2);
  });
});
