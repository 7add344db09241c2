/**
 * The emulator's HTTP server: Twilio's own paths (api, messaging, bulkexports, accounts) on
 * one origin, plus the control plane and the export storage. Each Twilio request is
 * authenticated, held to the fault settings, answered in Twilio's JSON, and logged without
 * credentials.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { ApiError } from './api-error.js';
import { authenticate, type Principal } from './auth.js';
import { handleControl, type RequestLogEntry } from './control.js';
import { ExportStorage, STORAGE_PREFIX } from './exports/storage.js';
import { FaultInjector } from './faults.js';
import { createSidFactory } from './random.js';
import { dispatch, productOfHost, type Route } from './router.js';
import { accountRoutes } from './routes/accounts.js';
import { consentRoutes } from './routes/consents.js';
import { exportRoutes } from './routes/exports.js';
import { messageRoutes } from './routes/messages.js';
import { numberRoutes } from './routes/numbers.js';
import { serviceRoutes } from './routes/services.js';
import { EmulatorState } from './state.js';
import { WebhookLog } from './webhooks.js';

export interface EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  seed?: number;
  /** The emulator's own main account; derived from the seed when not given. */
  accountSid?: string;
  authToken?: string;
  /** The emulator's clock for dates it assigns; the real clock by default. */
  now?: () => number;
  /** Fills the state once, before the server listens. */
  load?: (state: EmulatorState) => void;
}

export interface RunningEmulator {
  url: string;
  accountSid: string;
  authToken: string;
  state: EmulatorState;
  close(): Promise<void>;
}

const REQUEST_LOG_LIMIT = 200_000;

/** The emulator's default main-account credentials for a seed: stable across runs. */
export function defaultCredentials(seed: number): { accountSid: string; authToken: string } {
  const sids = createSidFactory(seed ^ 0xacc0);
  return { accountSid: sids.next('AC'), authToken: sids.next('').slice(0, 32) };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const seed = options.seed ?? 1;
  const defaults = defaultCredentials(seed);
  const accountSid = options.accountSid ?? defaults.accountSid;
  const authToken = options.authToken ?? defaults.authToken;
  const now = options.now ?? Date.now;
  const state = new EmulatorState({ seed, parentSid: accountSid, parentToken: authToken, now });
  options.load?.(state);

  const faults = new FaultInjector(seed);
  const requests: RequestLogEntry[] = [];
  const webhooks = new WebhookLog();
  // The storage's signing key: stable for a seed, like every other secret the emulator makes.
  const storage = new ExportStorage(state, createSidFactory(seed ^ 0x5704a6e).next(''), now);
  const routes: Route[] = [
    ...accountRoutes(state),
    ...numberRoutes(state),
    ...messageRoutes(state),
    ...serviceRoutes(state),
    ...exportRoutes(state, storage),
    ...consentRoutes(state),
  ];
  const requestIds = createSidFactory(seed ^ 0x7e9);

  const log = (entry: RequestLogEntry) => {
    requests.push(entry);
    if (requests.length > REQUEST_LOG_LIMIT)
      requests.splice(0, requests.length - REQUEST_LOG_LIMIT);
  };

  async function serveTwilio(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // Wall time, whatever the emulator's business clock says: the log is for timing requests.
    const arrived = Date.now();
    const started = performance.now();
    const path = decodeURIComponent(url.pathname);
    const entry = (status: number, accountSid: string | null): RequestLogEntry => ({
      time: new Date(arrived).toISOString(),
      method: req.method ?? 'GET',
      path,
      query: url.search,
      account_sid: accountSid,
      status,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });

    // The body first: a held request is processed when the hold lifts, whether or not the
    // client is still there to hear the answer (as Twilio does with a request it received).
    const form = new URLSearchParams(await readBody(req));
    const held = faults.holdRequest(req.method ?? 'GET');
    if (held !== null) await held;
    if (faults.shouldDrop()) {
      req.socket.destroy();
      log(entry(0, null));
      return;
    }
    let principal: Principal | null = null;
    let status = 500;
    let body: unknown;
    let payload: Buffer | undefined;
    const headers: Record<string, string> = { 'Twilio-Request-Id': requestIds.next('RQ') };
    try {
      principal = authenticate(state, req.headers.authorization);
      if (faults.shouldThrottle()) throw new ApiError(429, 20429, 'Too Many Requests');
      const slot = faults.acquire(principal.account.sid);
      if (slot === null) {
        headers['Twilio-Concurrent-Requests'] = String(
          faults.concurrent(principal.account.sid) + 1,
        );
        throw new ApiError(429, 20429, 'Too Many Requests');
      }
      headers['Twilio-Concurrent-Requests'] = String(slot.concurrent);
      try {
        try {
          if (faults.shouldFail()) {
            const failStatus = faults.settings.error_status;
            throw new ApiError(
              failStatus,
              failStatus === 503 ? 20503 : 20500,
              'Internal Server Error',
            );
          }
          const meant = req.headers['x-twilio-host'];
          const reply = await dispatch(routes, {
            method: req.method ?? 'GET',
            path,
            query: url.searchParams,
            form,
            principal,
            // The host submigrate's client meant (`Host` is its --api-url's), else `Host`.
            host: productOfHost(typeof meant === 'string' ? meant : req.headers.host),
          });
          status = reply.status;
          body = reply.body;
          Object.assign(headers, reply.headers);
          // Done, and then answered as a failure: the answer is all the client hears of it.
          if (faults.shouldFailAfterCommit(req.method ?? 'GET')) {
            const failStatus = faults.settings.error_status;
            throw new ApiError(
              failStatus,
              failStatus === 503 ? 20503 : 20500,
              'Internal Server Error',
            );
          }
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          status = error.status;
          body = error.toBody();
        }
        // Latency is how long Twilio takes to answer, its own work included: the answer is
        // made first, then leaves no sooner than latency_ms after the request arrived.
        payload = encodeJson(status, body);
        await until(started + faults.settings.latency_ms);
      } finally {
        slot.release();
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status = error.status;
      body = error.toBody();
    }
    if (status === 429 && faults.settings.retry_after !== '') {
      headers['Retry-After'] = faults.settings.retry_after;
    }
    headers['Twilio-Request-Duration'] = ((performance.now() - started) / 1000).toFixed(3);
    sendJson(res, status, payload ?? body, headers);
    log(entry(status, principal?.account.sid ?? null));
  }

  async function serveControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const text = await readBody(req);
    let parsed: unknown = {};
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        sendJson(res, 400, { error: 'the body is not JSON' });
        return;
      }
    }
    try {
      const reply = await handleControl(
        { state, faults, requests, downloads: storage.downloads, webhooks, now },
        req.method ?? 'GET',
        url.pathname,
        url.searchParams,
        parsed,
      );
      sendJson(res, reply.status, reply.body);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      sendJson(res, error.status, { error: error.message, code: error.code });
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const serve = url.pathname.startsWith('/__emulator/')
      ? serveControl
      : url.pathname.startsWith(STORAGE_PREFIX)
        ? storage.serve.bind(storage)
        : serveTwilio;
    serve(req, res, url).catch((error: unknown) => {
      // A bug in the emulator: answer 500 so the client sees it, and say why on stderr.
      process.stderr.write(`emulator: ${error instanceof Error ? error.stack : String(error)}\n`);
      if (!res.headersSent)
        sendJson(res, 500, { code: 20500, message: 'Emulator bug', status: 500 });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  // Known only now: the storage's redirect URLs point back at this origin.
  storage.origin = `http://${host}:${address.port}`;

  return {
    url: storage.origin,
    accountSid,
    authToken,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = encodeJson(status, body);
  if (bytes === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': bytes.length,
  });
  res.end(bytes);
}

/** An answer's bytes; a Buffer is JSON already serialised (a Messages page from the cache). */
function encodeJson(status: number, body: unknown): Buffer | undefined {
  if (status === 204 || body === undefined) return undefined;
  return Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
}

/**
 * Waits until performance.now() reaches `due`: never earlier, as a timer alone may be, and
 * not a millisecond or two later, as a timer often is. The timer takes it to within a
 * millisecond; the rest is waited out a turn of the event loop at a time (I/O still served).
 */
async function until(due: number): Promise<void> {
  for (let left = due - performance.now(); left > 1; left = due - performance.now())
    await sleep(Math.floor(left - 1));
  while (performance.now() < due) await new Promise((resolve) => setImmediate(resolve));
}
