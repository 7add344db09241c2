/**
 * A proxy in front of the emulator that passes every request on and may change an answer on
 * its way back: what a real proxy between submigrate and Twilio may do (an HTML page instead
 * of JSON, a rewritten link). `tamper` gets each answer's path, status and body (and the
 * request's method and headers, for a proxy that echoes them), and returns the answer to give
 * instead, or null to pass it on as it came. `arriving`, if given, sees each request before it
 * is passed on (what the world does in between: a subaccount suspended as the request is made,
 * a number moved by hand as apply's transfer of it leaves); the request waits for its promise.
 */

import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Tampered {
  status: number;
  type: string;
  body: string;
}

export interface TamperingProxy {
  url: string;
  close(): Promise<void>;
}

export async function startTamperingProxy(
  upstream: string,
  tamper: (
    path: string,
    status: number,
    body: Buffer,
    request: { method: string; headers: IncomingHttpHeaders },
  ) => Tampered | null,
  arriving?: (
    path: string,
    request: { method: string; headers: IncomingHttpHeaders },
  ) => void | Promise<void>,
): Promise<TamperingProxy> {
  const server = createServer((req, res) => {
    void Promise.resolve(
      arriving?.(req.url ?? '', { method: req.method ?? '', headers: req.headers }),
    ).then(
      () => forward(req, res),
      () => res.destroy(),
    );
  });
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const forwarded = request(
      `${upstream}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          const changed = tamper(req.url ?? '', answer.statusCode ?? 0, body, {
            method: req.method ?? '',
            headers: req.headers,
          });
          if (changed === null) {
            const headers = { ...answer.headers, 'content-length': String(body.length) };
            delete headers['transfer-encoding'];
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(body);
            return;
          }
          res.writeHead(changed.status, {
            'content-type': changed.type,
            'content-length': String(Buffer.byteLength(changed.body)),
          });
          res.end(changed.body);
        });
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
