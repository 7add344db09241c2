/**
 * A proxy in front of the emulator that holds one client's writes: every request whose method
 * is in `methods` waits, unsent, until `release()`; the rest pass at once. The emulator's own
 * hold (`hold_after`) holds every client's requests alike; this one lets a test stop one
 * process at its first write while another runs on to the end against the same emulator.
 *
 * Once released, the requests that were held are sent on together, and any request that
 * arrives before all of their answers are back waits for them: two processes whose writes were
 * held both see the effect of both before either reads again, whatever the order their
 * answers come back in.
 */

import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HoldingProxy {
  url: string;
  /** How many requests wait now. */
  readonly held: number;
  /** Sends on every request held, and lets every later one through once they are answered. */
  release(): void;
  close(): Promise<void>;
}

export async function startHoldingProxy(
  upstream: string,
  methods: readonly string[] = ['POST', 'DELETE'],
): Promise<HoldingProxy> {
  let holding = true;
  const parked: ((answered: () => void) => void)[] = [];
  /** The requests that arrived while the released ones were still unanswered. */
  let waiting: (() => void)[] | null = null;

  const forwarder =
    (req: IncomingMessage, res: ServerResponse) =>
    (onAnswered: () => void = () => {}) => {
      let told = false;
      const answered = () => {
        if (!told) onAnswered();
        told = true;
      };
      const forwarded = request(
        `${upstream}${req.url}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.on('end', answered);
          answer.pipe(res);
        },
      );
      forwarded.on('error', () => {
        res.destroy();
        answered();
      });
      req.pipe(forwarded);
    };

  const server = createServer((req, res) => {
    const forward = forwarder(req, res);
    if (holding && methods.includes(req.method ?? '')) parked.push(forward);
    else if (waiting !== null) waiting.push(() => forward());
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
      const released = parked.splice(0);
      if (released.length === 0) return;
      const later: (() => void)[] = [];
      waiting = later;
      let unanswered = released.length;
      const answered = () => {
        if (--unanswered > 0) return;
        waiting = null;
        for (const go of later) go();
      };
      for (const forward of released) forward(answered);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
