/**
 * A Bulk Export day file is read from storage (an https URL on real Twilio), outside the
 * client's requests: with HTTPS_PROXY set, it must go through the proxy as every other https
 * request does, or a network that only lets the proxy out fails every day file. A local TCP
 * server stands in for the proxy and records the CONNECT it is asked for.
 */

import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { createTwilioPort } from '../../src/twilio/adapter.js';
import { readDayFile } from '../../src/twilio/export-file.js';
import { TwilioHttpClient } from '../../src/twilio/http-client.js';

const ACCOUNT = `AC${'1'.repeat(32)}`;

describe('reading a day file through HTTPS_PROXY', () => {
  let proxy: Server | undefined;
  afterEach(() => proxy?.close());

  it('asks the proxy for the storage host, and none is used without a proxy', async () => {
    const asked: string[] = [];
    proxy = createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        asked.push(chunk.toString('latin1').split('\r\n')[0]!);
        socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as AddressInfo;
    const client = new TwilioHttpClient({
      apiUrl: 'http://127.0.0.1:1',
      proxyUrl: `http://ops:secret@127.0.0.1:${port}`,
    });

    const read = readDayFile('https://storage.example/AC1/2024-01-01.json.gz?sig=x', () => {}, {
      timeoutMs: 5_000,
      httpsAgent: client.httpsProxyAgent(),
    });
    const error = (await read.catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).not.toContain('secret');
    expect(asked).toEqual(['CONNECT storage.example:443 HTTP/1.1']);

    expect(new TwilioHttpClient({ apiUrl: 'http://127.0.0.1:1' }).httpsProxyAgent()).toBeNull();
  });
  // The test above hands the agent to readDayFile itself: this one goes through the port, as
  // snapshot does, so that the port not handing it over is seen.
  it('the port reads the day file its day points to through the proxy', async () => {
    const asked: string[] = [];
    proxy = createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        asked.push(chunk.toString('latin1').split('\r\n')[0]!);
        socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as AddressInfo;
    // The API (plain http, not through the proxy): the day answers 307 to storage.
    const api = createHttpServer((_request, response) => {
      response.writeHead(307, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ redirect_to: 'https://storage.example/AC1/day.json.gz?sig=x' }),
      );
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    try {
      const client = new TwilioHttpClient({
        apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
        proxyUrl: `http://ops:secret@127.0.0.1:${port}`,
      });
      const twilio = createTwilioPort(
        { kind: 'auth-token', accountSid: ACCOUNT, authToken: 'token' },
        client,
      );
      await twilio.readExportDay(ACCOUNT, '2024-01-01', () => {}).catch(() => {});
      expect(asked).toEqual(['CONNECT storage.example:443 HTTP/1.1']);
    } finally {
      await new Promise((resolve) => api.close(resolve));
    }
  });
});
