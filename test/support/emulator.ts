/**
 * Test harness: the emulator in-process on a free loopback port, the real twilio SDK pointed
 * at it through our TwilioHttpClient, and every success response checked against Twilio's
 * OpenAPI schema as it arrives.
 */

import type { Credentials } from '../../src/config.js';
import type { SeedDocument, SeedResult } from '../../src/emulator/seed.js';
import {
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from '../../src/emulator/server.js';
import { createTwilioPort } from '../../src/twilio/adapter.js';
import {
  createAccountClient,
  createParentClient,
  type TwilioClient,
} from '../../src/twilio/client.js';
import {
  TwilioHttpClient,
  type RequestOptions,
  type Response,
  type TwilioHttpClientOptions,
} from '../../src/twilio/http-client.js';
import type { TwilioPort } from '../../src/twilio/port.js';
import { checkResponse } from './openapi.js';

export interface SchemaViolation {
  request: string;
  operation: string | null;
  errors: string[];
}

/** A TwilioHttpClient that validates every 2xx answer against the OpenAPI spec. */
export class ValidatingHttpClient extends TwilioHttpClient {
  readonly violations: SchemaViolation[] = [];
  validated = 0;

  override async request<TData>(opts: RequestOptions<TData>): Promise<Response<TData>> {
    const response = await super.request<TData>(opts);
    if (response.statusCode >= 200 && response.statusCode < 300 && response.statusCode !== 204) {
      // A raw-body read (the snapshot's pages) is validated like any other answer.
      const body = Buffer.isBuffer(response.body)
        ? (JSON.parse(response.body.toString('utf8')) as unknown)
        : response.body;
      const check = checkResponse(opts.method, opts.uri, response.statusCode, body);
      this.validated += 1;
      if (!check.ok) {
        this.violations.push({
          request: `${opts.method.toUpperCase()} ${opts.uri}`,
          operation: check.operation,
          errors: check.errors,
        });
      }
    }
    return response;
  }
}

export interface TestEmulator {
  url: string;
  parentSid: string;
  parentToken: string;
  emulator: RunningEmulator;
  httpClient: ValidatingHttpClient;
  parentCredentials: Credentials;
  /** The parent's SDK client (Auth Token). */
  parent: TwilioClient;
  /** An SDK client with some account's own SID and token. */
  clientFor(accountSid: string, authToken: string): TwilioClient;
  /** The port on the parent's credentials. */
  port(credentials?: Credentials): TwilioPort;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  seed(document: SeedDocument): Promise<SeedResult>;
  close(): Promise<void>;
}

/**
 * The SDK sees the emulator exactly as it answers: no retries and no client-side limits
 * unless a test asks for them, so a 429 or a 5xx reaches the test as Twilio sent it.
 */
export const NO_RETRY = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 };
export const NO_LIMITS = { concurrency: 256, ratePerSecond: 0 };

export async function startTestEmulator(
  options: EmulatorOptions = {},
  client: Partial<TwilioHttpClientOptions> = {},
): Promise<TestEmulator> {
  const emulator = await startEmulator({ seed: 42, ...options });
  const httpClient = new ValidatingHttpClient({
    apiUrl: emulator.url,
    retry: NO_RETRY,
    limits: NO_LIMITS,
    ...client,
  });
  const parentCredentials: Credentials = {
    kind: 'auth-token',
    accountSid: emulator.accountSid,
    authToken: emulator.authToken,
  };

  async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${emulator.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed = (await response.json()) as T;
    if (!response.ok) {
      throw new Error(`${method} ${path} → ${response.status}: ${JSON.stringify(parsed)}`);
    }
    return parsed;
  }

  return {
    url: emulator.url,
    parentSid: emulator.accountSid,
    parentToken: emulator.authToken,
    emulator,
    httpClient,
    parentCredentials,
    parent: createParentClient(parentCredentials, httpClient),
    clientFor: (accountSid, authToken) => createAccountClient(accountSid, authToken, httpClient),
    port: (credentials = parentCredentials) => createTwilioPort(credentials, httpClient),
    control,
    seed: (document) => control<SeedResult>('POST', '/__emulator/seed', document),
    close: () => emulator.close(),
  };
}
