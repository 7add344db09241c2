/**
 * A proxy in front of the emulator that passes every request on unchanged and records what
 * was sent: method, path, the form (or other) body and whose credentials — what the emulator's
 * request log leaves out. For holding a listing of requests (apply --dry-run) to the bodies
 * apply really sent. The credentials' secret is not kept: only the account SID it names.
 */

import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** The path, percent-decoded, without its query. */
  path: string;
  body: string;
  /** The user of the request's Basic credentials: an account SID (or an API key's SID). */
  user: string | null;
  /** When it arrived and when Twilio's answer came back, as one count of both: no clock. */
  arrived: number;
  answered: number | null;
}

export interface RecordingProxy {
  url: string;
  /** Every request so far, in the order they arrived. */
  readonly requests: RecordedRequest[];
  clear(): void;
  close(): Promise<void>;
}

function userOf(authorization: string | undefined): string | null {
  const basic = /^Basic (.+)$/.exec(authorization ?? '');
  if (basic === null) return null;
  return Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] ?? null;
}

export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const requests: RecordedRequest[] = [];
  let events = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://proxy');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        body: body.toString('utf8'),
        user: userOf(req.headers.authorization),
        arrived: ++events,
        answered: null,
      };
      requests.push(recorded);
      const forwarded = request(
        `${upstream}${req.url}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          // Before the client can have it: a request it sends after this answer comes later.
          recorded.answered = ++events;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on('error', () => res.destroy());
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    clear: () => requests.splice(0, requests.length),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
