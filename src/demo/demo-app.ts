/**
 * The demo's stand-in for Owlie's own application: a loopback HTTP server that receives
 * Twilio's inbound-message webhooks, as the real app does behind its public URL. It keeps what
 * arrived so the demo can show where a text to a moved number ends up, and with which
 * account's token its X-Twilio-Signature validates (twilio's own `validateRequest`).
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';

import twilio from 'twilio';

export interface ReceivedWebhook {
  method: string;
  /** The full URL Twilio called (what the signature covers, with the POST parameters). */
  url: string;
  signature: string;
  params: Record<string, string>;
}

export interface DemoApp {
  /** Where it listens: http://127.0.0.1:PORT */
  url: string;
  received: ReceivedWebhook[];
  /** Whether the webhook's signature validates with this Auth Token. */
  signedWith(webhook: ReceivedWebhook, authToken: string): boolean;
  close(): Promise<void>;
}

export async function startDemoApp(): Promise<DemoApp> {
  const received: ReceivedWebhook[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const params = Object.fromEntries(
        req.method === 'POST' ? form.entries() : url.searchParams.entries(),
      );
      received.push({
        method: req.method ?? 'POST',
        url: url.href,
        signature: String(req.headers['x-twilio-signature'] ?? ''),
        params,
      });
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    received,
    signedWith: (webhook, authToken) =>
      twilio.validateRequest(
        authToken,
        webhook.signature,
        webhook.url,
        webhook.method === 'POST' ? webhook.params : {},
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
