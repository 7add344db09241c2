/**
 * A proxy in front of the emulator that holds one client's writes: every request whose method
 * is in `methods` waits, unsent, until `release()`; the rest pass at once. The emulator's own
 * hold (`hold_after`) holds every client's requests alike; this one lets a test stop one
 * process at its first write while another runs on to the end against the same emulator.
 */

import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HoldingProxy {
  url: string;
  /** How many requests wait now. */
  readonly held: number;
  /** Sends on every request held, and lets every later one through. */
  release(): void;
  close(): Promise<void>;
}

export async function startHoldingProxy(
  upstream: string,
  methods: readonly string[] = ['POST', 'DELETE'],
): Promise<HoldingProxy> {
  let holding = true;
  const parked: (() => void)[] = [];
  const server = createServer((req, res) => {
    const forward = () => {
      const forwarded = request(
        `${upstream}${req.url}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on('error', () => res.destroy());
      req.pipe(forwarded);
    };
    if (holding && methods.includes(req.method ?? '')) parked.push(forward);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get held() {
      return parked.length;
    },
    release() {
      holding = false;
      for (const forward of parked.splice(0)) forward();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
