/**
 * A customer's app on 127.0.0.1 for webhook tests: a real HTTP server that records every
 * request it gets (method, full URL as Twilio signed it, headers, form or query parameters) and
 * answers 200 with empty TwiML.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  method: string;
  /** The URL the request was made to, absolute, query included. */
  url: string;
  /** For a POST the form parameters; for a GET the query's. */
  params: Record<string, string>;
  signature: string | undefined;
  contentType: string | undefined;
}

export interface AppServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  received: ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startAppServer(): Promise<AppServer> {
  const received: ReceivedWebhook[] = [];
  let origin = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin);
      const body = Buffer.concat(chunks).toString('utf8');
      const params = req.method === 'GET' ? url.searchParams : new URLSearchParams(body);
      received.push({
        method: req.method ?? 'GET',
        url: url.href,
        params: Object.fromEntries(params),
        signature: req.headers['x-twilio-signature'] as string | undefined,
        contentType: req.headers['content-type'],
      });
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    received,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
