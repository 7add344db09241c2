/**
 * Test harness: the emulator in-process on a free loopback port, the real twilio SDK pointed
 * at it through our TwilioHttpClient, and every success response checked against Twilio's
 * OpenAPI schema as it arrives. `useEmulator` gives a describe block one such emulator through
 * its hooks; the rest reads the control plane (state, opt-outs, request log) and SDK errors.
 */

import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';

import type { Credentials } from '../../src/config.js';
import type { RequestLogEntry } from '../../src/emulator/control.js';
import type { NumberSettings, ServiceSettings } from '../../src/emulator/resource-settings.js';
import type { SeedDocument, SeedResult } from '../../src/emulator/seed.js';
import {
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from '../../src/emulator/server.js';
import type { WebhookLogEntry } from '../../src/emulator/webhooks.js';
import { createTwilioPort } from '../../src/twilio/adapter.js';
import { createParentClient, type TwilioClient } from '../../src/twilio/client.js';
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

/**
 * Which answers have a body the spec describes: every 2xx but 204, and a 307, the one
 * redirect Twilio's specs declare with a JSON body (Bulk Export's day file, `{redirect_to}`).
 * Other 3xx are not Twilio answers to validate; a 307 where the spec declares none is a
 * violation like any undeclared status.
 */
export function hasSpecifiedBody(status: number): boolean {
  return (status >= 200 && status < 300 && status !== 204) || status === 307;
}

/** A TwilioHttpClient that validates every success (and 307) answer against the OpenAPI spec. */
export class ValidatingHttpClient extends TwilioHttpClient {
  readonly violations: SchemaViolation[] = [];
  validated = 0;
  /** Answers validated, by operation (`POST /v1/Consents/Bulk 201`): what a test saw checked. */
  readonly validatedByOperation = new Map<string, number>();

  override async request<TData>(opts: RequestOptions<TData>): Promise<Response<TData>> {
    const response = await super.request<TData>(opts);
    if (hasSpecifiedBody(response.statusCode)) {
      // A raw-body read (the snapshot's pages) is validated like any other answer.
      const body = Buffer.isBuffer(response.body)
        ? (JSON.parse(response.body.toString('utf8')) as unknown)
        : response.body;
      const check = checkResponse(opts.method, opts.uri, response.statusCode, body);
      this.validated += 1;
      const operation = check.operation ?? 'unmatched';
      this.validatedByOperation.set(operation, (this.validatedByOperation.get(operation) ?? 0) + 1);
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

/**
 * `GET /__emulator/state` (describeState in src/emulator/control-views.ts): the world, minus
 * secrets. Numbers carry their webhook fields, services every setting of the Services API.
 */
export interface EmulatorStateView {
  parent_account_sid: string;
  accounts: { sid: string; friendly_name: string; status: string; owner_account_sid: string }[];
  numbers: ({
    sid: string;
    phone_number: string;
    account_sid: string;
    messaging_service_sid: string | null;
    type: string;
  } & NumberSettings)[];
  services: ({
    sid: string;
    account_sid: string;
    friendly_name: string;
    phone_numbers: string[];
  } & ServiceSettings)[];
  /** How many messages the emulator holds. */
  messages: number;
}

/** `POST /__emulator/inbound`'s answer: the message, and where it went. */
export interface InboundResult {
  sid: string;
  account_sid: string;
  messaging_service_sid: string | null;
  date_sent: string;
  stored: boolean;
  route: 'service-url' | 'number-url' | 'no-url' | 'dropped';
  webhook: {
    url: string;
    method: string;
    signature: string;
    delivered_status: number | null;
    error: string | null;
  } | null;
}

export const inbound = (
  env: TestEmulator,
  message: { from: string; to: string; body: string; date_sent?: string },
) => env.control<InboundResult>('POST', '/__emulator/inbound', message);

export const webhookLog = (env: TestEmulator) =>
  env.control<WebhookLogEntry[]>('GET', '/__emulator/webhooks');

/** `GET|POST /__emulator/settings`: one account's settings. */
export interface EmulatorSettings {
  account_sid: string;
  message_retention_days: number;
  consent_api: boolean;
  consent_requests_per_minute: number;
  export_job_seconds: number;
  default_service_sid: boolean;
}

/**
 * One entry of `GET /__emulator/optouts`: the emulator's opt-out store, ground truth. Written by
 * an inbound keyword (`source: 'keyword'`) or by the Consent Management API
 * (`source: 'consent-api'`: no keyword, body or message; `sender_number` null at service scope).
 */
export interface EmulatorOptOut {
  account_sid: string;
  scope: 'number' | 'service';
  sender_number: string | null;
  messaging_service_sid: string | null;
  recipient: string;
  opted_out: boolean;
  keyword: string | null;
  body: string | null;
  message_sid: string | null;
  /** When the event happened: the keyword's date_sent, or the consent record's date. */
  date_sent: string;
  source: 'keyword' | 'consent-api';
  correlation_id: string | null;
  /** The consent record's own `source` (website, offline, opt-out-message, …). */
  consent_source: string | null;
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
  /**
   * A plain SDK client with some account's own SID and token, over the validating client: the
   * emulator's answers as the SDK gives them (a 401 is the SDK's RestException), not as
   * submigrate's own subaccount clients reword them.
   */
  clientFor(accountSid: string, authToken: string): TwilioClient;
  /** The port on the parent's credentials. */
  port(credentials?: Credentials): TwilioPort;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  seed(document: SeedDocument): Promise<SeedResult>;
  /** `GET /__emulator/state`. */
  state(): Promise<EmulatorStateView>;
  close(): Promise<void>;
}

/**
 * The SDK sees the emulator exactly as it answers: no retries and no client-side limits
 * unless a test asks for them, so a 429 or a 5xx reaches the test as Twilio sent it.
 */
export const NO_RETRY = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 };
export const NO_LIMITS = { concurrency: 256, ratePerSecond: 0, consentPerMinute: 0 };

export async function startTestEmulator(
  options: EmulatorOptions = {},
  client: Partial<TwilioHttpClientOptions> = {},
): Promise<TestEmulator> {
  const emulator = await startEmulator({ seed: 42, ...options });
  const httpClient = new ValidatingHttpClient({
    apiUrl: emulator.url,
    retry: NO_RETRY,
    consentRetry: NO_RETRY,
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
    clientFor: (accountSid, authToken) => twilio(accountSid, authToken, { httpClient, env: {} }),
    port: (credentials = parentCredentials) => createTwilioPort(credentials, httpClient),
    control,
    seed: (document) => control<SeedResult>('POST', '/__emulator/seed', document),
    state: () => control<EmulatorStateView>('GET', '/__emulator/state'),
    close: () => emulator.close(),
  };
}

export interface UseEmulatorOptions extends EmulatorOptions {
  /**
   * Hold every answer to Twilio's schema (the default): each test fails on a violation in its
   * own answers, and the block fails when it validated nothing or saw any violation at all.
   */
  checkSchema?: boolean;
}

/**
 * One emulator for the describe block that calls this: started before its tests, reset before
 * each one (after any `beforeEach` registered earlier, before any registered later), closed
 * after them all. The handle forwards to the emulator running now, so use it only inside tests
 * and hooks.
 */
export function useEmulator({
  checkSchema = true,
  ...options
}: UseEmulatorOptions = {}): TestEmulator {
  let current: TestEmulator | undefined;
  /** Schema violations seen before the current test began. */
  let violationsBefore = 0;
  const env = (): TestEmulator => {
    if (current === undefined) throw new Error('the emulator runs only inside tests and hooks');
    return current;
  };

  beforeAll(async () => {
    current = await startTestEmulator(options);
  });
  afterAll(async () => {
    if (current === undefined) return;
    if (checkSchema) {
      expect(current.httpClient.validated).toBeGreaterThan(0);
      expect(current.httpClient.violations).toEqual([]);
    }
    await current.close();
  });
  beforeEach(async () => {
    violationsBefore = env().httpClient.violations.length;
    await env().control('POST', '/__emulator/reset');
  });
  if (checkSchema) {
    afterEach(() => {
      // Only this test's answers: one bad shape should not fail every test after it.
      expect(env().httpClient.violations.slice(violationsBefore)).toEqual([]);
    });
  }

  return new Proxy({} as TestEmulator, { get: (_target, key) => Reflect.get(env(), key) });
}

/**
 * A plain SDK client with an account's own SID and the Auth Token the emulator holds for it:
 * a customer's application, sending from its subaccount after the move.
 */
export const ownClient = (env: TestEmulator, accountSid: string): TwilioClient =>
  env.clientFor(accountSid, env.emulator.state.accounts.get(accountSid)!.authToken);

/** A subaccount as the seed made it, with its own Auth Token. */
/**
 * Someone moves `phone` in the console from account `from` into account `to` (a transfer the
 * tool did not make).
 */
export async function moveNumberByHand(
  env: TestEmulator,
  phone: string,
  from: string,
  to: string,
): Promise<void> {
  const [number] = await ownClient(env, from).incomingPhoneNumbers.list({ phoneNumber: phone });
  await env.parent.api.v2010
    .accounts(from)
    .incomingPhoneNumbers(number!.sid)
    .update({ accountSid: to });
}

export type SeededSubaccount = SeedResult['subaccounts'][number];

/** Four siblings: Acme Dental and Birch Bakery active, Cobalt Cafe suspended, Dune Diner closed. */
export async function seedSiblings(env: TestEmulator) {
  const { subaccounts } = await env.seed({
    subaccounts: [
      { friendly_name: 'Acme Dental' },
      { friendly_name: 'Birch Bakery' },
      { friendly_name: 'Cobalt Cafe', status: 'suspended' },
      { friendly_name: 'Dune Diner', status: 'closed' },
    ],
  });
  return subaccounts as [SeededSubaccount, SeededSubaccount, SeededSubaccount, SeededSubaccount];
}

/** The Twilio error a request ended in, as plain data; fails when it succeeded. */
export async function twilioFailure(request: Promise<unknown>) {
  try {
    await request;
  } catch (error) {
    expect(error).toBeInstanceOf(twilio.RestException);
    const { status, code, message } = error as InstanceType<typeof twilio.RestException>;
    return { status, code, message };
  }
  throw new Error('expected the request to fail, but it succeeded');
}

/** The emulator's opt-out store: the opted-out pairs, or with `all` every entry it keeps. */
export async function emulatorOptOuts(
  env: TestEmulator,
  { all = false }: { all?: boolean } = {},
): Promise<EmulatorOptOut[]> {
  const path = `/__emulator/optouts${all ? '?include=all' : ''}`;
  return (await env.control<{ optouts: EmulatorOptOut[] }>('GET', path)).optouts;
}

/** One entry of `GET /__emulator/downloads`: a request to the export storage. */
export interface StorageDownload {
  time: string;
  path: string;
  status: number;
  reason: string | null;
}

export const storageDownloads = (env: TestEmulator) =>
  env.control<StorageDownload[]>('GET', '/__emulator/downloads');

export const requestLog = (env: TestEmulator) =>
  env.control<RequestLogEntry[]>('GET', '/__emulator/requests');

export const clearRequestLog = (env: TestEmulator) => env.control('DELETE', '/__emulator/requests');

/** A send's outcome through the SDK: 201, or Twilio's error code (21610: an opted-out person). */
export async function sendOutcome(
  client: TwilioClient,
  to: string,
  from: { messagingServiceSid: string } | { from: string },
): Promise<number> {
  try {
    await client.messages.create({ ...from, to, body: 'Your table is ready' });
    return 201;
  } catch (error) {
    return (error as { code: number }).code;
  }
}
