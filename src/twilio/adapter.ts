/**
 * The TwilioPort on the real twilio SDK. 2010 calls use the parent's credentials with the
 * subaccount's SID in the path; v1 calls (Messaging Services) use the subaccount's own
 * credentials, because Twilio acts on whoever authenticated there.
 */

import { isoSeconds } from '../clock.js';
import type { Credentials } from '../config.js';
import { createAccountClient, createParentClient, type TwilioClient } from './client.js';
import { maskUrlPasswords, TwilioError } from '../errors.js';
import {
  answeredFields,
  describeRequest,
  isRetryableStatus,
  toTwilioError,
} from './error-mapping.js';
import { RAW_BODY_HEADER, type TwilioHttpClient } from './http-client.js';
import { readDayFile } from './export-file.js';
import {
  fromMessageJson,
  missingMessageField,
  parseDate,
  recordSid,
  type MessageJson,
} from './message-json.js';
import type { ScannedPage } from './message-page.js';
import { pageParser } from './page-parser.js';
import { PageTrail } from './page-trail.js';
import type {
  Account,
  AccountStatus,
  ConsentResult,
  ExportJobStatus,
  Message,
  MessageDirection,
  MessageFilter,
  MessagePage,
  MessagingService,
  NumberWebhook,
  PhoneNumber,
  ServicePhoneNumber,
  ServiceSettings,
  TwilioPort,
} from './port.js';

const LIST_PAGE_SIZE = 1000;

interface SdkAccount {
  sid: string;
  friendlyName: string;
  status: string;
  ownerAccountSid: string;
  dateCreated: Date | null;
  dateUpdated?: Date | null;
}

interface SdkNumber {
  sid: string;
  accountSid: string;
  phoneNumber: string;
  friendlyName: string;
  type?: string | null;
  smsUrl?: string | null;
  smsMethod?: string | null;
  smsFallbackUrl?: string | null;
  smsFallbackMethod?: string | null;
  voiceUrl?: string | null;
  voiceFallbackUrl?: string | null;
  statusCallback?: string | null;
  smsApplicationSid?: string | null;
  voiceApplicationSid?: string | null;
  dateUpdated?: Date | null;
}

interface SdkMessage {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  direction: string;
  status: string;
  dateSent: Date | null;
  dateCreated: Date | null;
  errorCode: number | null;
  messagingServiceSid: string | null;
}

const toAccount = (a: SdkAccount): Account => ({
  sid: a.sid,
  friendlyName: a.friendlyName,
  status: a.status as AccountStatus,
  ownerAccountSid: a.ownerAccountSid,
  dateCreated: a.dateCreated ?? null,
  ...(a.dateUpdated instanceof Date && !Number.isNaN(a.dateUpdated.getTime())
    ? { dateUpdated: a.dateUpdated }
    : {}),
});

/** Twilio writes an unset URL as null or as an empty string: both mean none. */
const url = (value: string | null | undefined) =>
  value === undefined || value === null || value === '' ? null : value;

/** The URLs set among these, or nothing (most numbers have none). */
function webhooks(...values: (string | null | undefined)[]): { otherWebhooks?: string[] } {
  const set = values.map(url).filter((v): v is string => v !== null);
  return set.length === 0 ? {} : { otherWebhooks: set };
}

/** A number's own SMS fallback, or nothing (most numbers have none). */
function smsFallback(
  fallbackUrl: string | null | undefined,
  method: string | null | undefined,
): { smsFallback?: { url: string; method: string } } {
  const set = url(fallbackUrl);
  return set === null ? {} : { smsFallback: { url: set, method: method ?? 'POST' } };
}

/** The TwiML Apps a number answers through, or nothing (most numbers have none). */
function applications(
  sms: string | null | undefined,
  voice: string | null | undefined,
): { applications?: { sms: string | null; voice: string | null } } {
  const app = { sms: url(sms), voice: url(voice) };
  return app.sms === null && app.voice === null ? {} : { applications: app };
}

const toNumber = (n: SdkNumber): PhoneNumber => ({
  sid: n.sid,
  accountSid: n.accountSid,
  phoneNumber: n.phoneNumber,
  friendlyName: n.friendlyName,
  type: n.type ?? null,
  smsUrl: url(n.smsUrl),
  smsMethod: n.smsMethod ?? null,
  ...webhooks(n.smsFallbackUrl, n.voiceUrl, n.voiceFallbackUrl, n.statusCallback),
  ...smsFallback(n.smsFallbackUrl, n.smsFallbackMethod),
  ...applications(n.smsApplicationSid, n.voiceApplicationSid),
  ...(n.dateUpdated instanceof Date && !Number.isNaN(n.dateUpdated.getTime())
    ? { dateUpdated: n.dateUpdated }
    : {}),
});

interface SdkService {
  sid: string;
  accountSid: string;
  friendlyName: string;
  dateCreated?: Date | null;
  inboundRequestUrl?: string | null;
  inboundMethod?: string | null;
  fallbackUrl?: string | null;
  fallbackMethod?: string | null;
  statusCallback?: string | null;
  stickySender?: boolean | null;
  smartEncoding?: boolean | null;
  mmsConverter?: boolean | null;
  validityPeriod?: number | null;
  usecase?: string | null;
  areaCodeGeomatch?: boolean | null;
  scanMessageContent?: string | null;
  useInboundWebhookOnNumber?: boolean | null;
}

const toService = (s: SdkService): MessagingService => ({
  sid: s.sid,
  accountSid: s.accountSid,
  friendlyName: s.friendlyName,
  dateCreated: s.dateCreated ?? null,
  settings: {
    inbound_request_url: url(s.inboundRequestUrl),
    inbound_method: s.inboundMethod ?? null,
    fallback_url: url(s.fallbackUrl),
    fallback_method: s.fallbackMethod ?? null,
    status_callback: url(s.statusCallback),
    sticky_sender: s.stickySender ?? null,
    smart_encoding: s.smartEncoding ?? null,
    mms_converter: s.mmsConverter ?? null,
    validity_period: s.validityPeriod ?? null,
    usecase: s.usecase ?? null,
    area_code_geomatch: s.areaCodeGeomatch ?? null,
    scan_message_content: s.scanMessageContent ?? null,
    use_inbound_webhook_on_number: s.useInboundWebhookOnNumber ?? null,
  },
});

/** A number's webhook as the SDK's update parameters; a fallback left out is not sent. */
function numberWebhookParams(webhook: NumberWebhook): Record<string, string> {
  return {
    smsUrl: webhook.smsUrl,
    smsMethod: webhook.smsMethod,
    ...(webhook.smsFallbackUrl === null
      ? {}
      : {
          smsFallbackUrl: webhook.smsFallbackUrl,
          smsFallbackMethod: webhook.smsFallbackMethod ?? 'POST',
        }),
  };
}

/** Service settings as the SDK's create parameters; unset ones left to Twilio's defaults. */
function serviceParams(settings: Partial<ServiceSettings>): Record<string, unknown> {
  const names: Record<keyof ServiceSettings, string> = {
    inbound_request_url: 'inboundRequestUrl',
    inbound_method: 'inboundMethod',
    fallback_url: 'fallbackUrl',
    fallback_method: 'fallbackMethod',
    status_callback: 'statusCallback',
    sticky_sender: 'stickySender',
    smart_encoding: 'smartEncoding',
    mms_converter: 'mmsConverter',
    validity_period: 'validityPeriod',
    usecase: 'usecase',
    area_code_geomatch: 'areaCodeGeomatch',
    scan_message_content: 'scanMessageContent',
    use_inbound_webhook_on_number: 'useInboundWebhookOnNumber',
  };
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value !== null && value !== undefined) params[names[key as keyof ServiceSettings]] = value;
  }
  return params;
}

const toServiceNumber = (n: {
  sid: string;
  serviceSid: string;
  accountSid: string;
  phoneNumber: string;
}): ServicePhoneNumber => ({
  sid: n.sid,
  serviceSid: n.serviceSid,
  accountSid: n.accountSid,
  phoneNumber: n.phoneNumber,
});

export const toMessage = (m: SdkMessage): Message => ({
  sid: m.sid,
  accountSid: m.accountSid,
  from: m.from,
  to: m.to,
  body: m.body ?? '',
  direction: m.direction as MessageDirection,
  status: m.status,
  dateSent: m.dateSent ?? m.dateCreated ?? null,
  errorCode: m.errorCode ?? null,
  messagingServiceSid: m.messagingServiceSid ?? null,
});

const API_ORIGIN = 'https://api.twilio.com';
const BULKEXPORTS_ORIGIN = 'https://bulkexports.twilio.com';
/** The Days list's largest page (Twilio: 400). */
const DAYS_PAGE_SIZE = 400;
/** How long a day file may take to arrive before it is given up and asked for again. */
const FILE_TIMEOUT_MS = 120_000;

interface JobJson {
  jobSid?: string;
  job_sid?: string;
  details?: { status?: string; days?: unknown[] }[];
  estimatedCompletionTime?: string | null;
  estimated_completion_time?: string | null;
}

/**
 * The statuses after which a day is never made in its job (Twilio's API definition lists them
 * beside `Submitted`, `Running`, `Completed` and `CompletedEmptyRecords`): the job failed it,
 * or it is being or has been deleted.
 */
const FAILED_DAY_STATUSES = new Set([
  'Failed',
  'ErrorDuringRun',
  'RunningToBeDeleted',
  'DeletedByUserRequest',
]);

/**
 * A job's `details` (days grouped by status) as the days in each state. A status Twilio has
 * not documented counts as pending: waited on (within `--export-wait`), never read as done.
 */
export function toExportJob(job: JobJson): ExportJobStatus {
  const status: ExportJobStatus = {
    jobSid: job.jobSid ?? job.job_sid ?? '',
    completedDays: [],
    emptyDays: [],
    pendingDays: [],
    failedDays: [],
    estimatedCompletion: null,
  };
  for (const group of job.details ?? []) {
    const days = (group.days ?? []).map(String);
    if (group.status === 'Completed') status.completedDays.push(...days);
    else if (group.status === 'CompletedEmptyRecords') status.emptyDays.push(...days);
    else if (FAILED_DAY_STATUSES.has(String(group.status))) {
      status.failedDays.push(...days.map((day) => ({ day, status: String(group.status) })));
    } else status.pendingDays.push(...days);
  }
  // Twilio writes it without an offset (`2021-03-15T20:20:14.547`, in its API definition):
  // UTC, as its other dates, not the machine's time zone.
  status.estimatedCompletion = parseDate(
    job.estimatedCompletionTime ?? job.estimated_completion_time ?? null,
  );
  for (const list of [status.completedDays, status.emptyDays, status.pendingDays]) list.sort();
  status.failedDays.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  return status;
}

interface NumberJson {
  sid: string;
  account_sid: string;
  phone_number: string;
  friendly_name: string;
  type?: string | null;
  sms_url?: string | null;
  sms_method?: string | null;
  sms_fallback_url?: string | null;
  sms_fallback_method?: string | null;
  voice_url?: string | null;
  voice_fallback_url?: string | null;
  status_callback?: string | null;
  sms_application_sid?: string | null;
  voice_application_sid?: string | null;
  date_updated?: string | null;
}

/**
 * A 2010 list page's `next_page_uri`, read from its text without parsing it: the key can only
 * match where it is a key (inside a string value its quotes would be escaped).
 */
export function nextPageUri(text: string): string | null {
  const match = /"next_page_uri"\s*:\s*(null|"((?:[^"\\]|\\.)*)")/.exec(text);
  if (match === null || match[2] === undefined || match[2] === '') return null;
  return JSON.parse(`"${match[2]}"`) as string;
}

const fromNumberJson = (n: NumberJson): PhoneNumber => ({
  sid: n.sid,
  accountSid: n.account_sid,
  phoneNumber: n.phone_number,
  friendlyName: n.friendly_name,
  type: n.type ?? null,
  smsUrl: url(n.sms_url),
  smsMethod: n.sms_method ?? null,
  ...webhooks(n.sms_fallback_url, n.voice_url, n.voice_fallback_url, n.status_callback),
  ...smsFallback(n.sms_fallback_url, n.sms_fallback_method),
  ...applications(n.sms_application_sid, n.voice_application_sid),
  ...updatedAt(n.date_updated),
});

/** A number's `date_updated` (RFC 2822 in the 2010 API), or nothing when absent or unreadable. */
function updatedAt(text: string | null | undefined): { dateUpdated?: Date } {
  const at = typeof text === 'string' ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? {} : { dateUpdated: new Date(at) };
}

interface ConsentItemJson {
  correlation_id?: unknown;
  error_code?: unknown;
  error_messages?: unknown[];
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * A Messages page whose message lacks what the ledger keeps of every message (its SID,
 * account, direction): an error naming the page and the message, nothing of the page used.
 */
function refuseIncompleteMessages(uri: string, messages: readonly MessageJson[]): void {
  for (const [index, message] of messages.entries()) {
    const record = message as unknown as Record<string, unknown>;
    const missing = missingMessageField(record);
    if (missing === null) continue;
    throw new TwilioError({
      status: 200,
      code: null,
      message:
        `${describeRequest('get', uri)}: message ${index + 1} of the page (${recordSid(record)}) ` +
        `has no ${missing}; nothing of the page was used, and its slice counts as not read`,
      retryable: false,
    });
  }
}

/**
 * A success answer that is not the list page asked for (a proxy's HTML, an empty body, a page
 * without its list): read as nothing, it would pass for the end of the list, so it is an error.
 */
function notAListPage(uri: string, status: number, body: Buffer, why: string): TwilioError {
  return new TwilioError({
    status,
    code: null,
    message:
      `${describeRequest('get', uri)}: answered HTTP ${status} with ${why} (${body.length} ` +
      'bytes); nothing in it was used. Run the command again; if it goes on, check the network ' +
      'or proxy between here and Twilio.',
    retryable: false,
  });
}

/**
 * The next page a 2010 list page names, checked: a page must say whether one follows
 * (`next_page_uri`, null on the last), and the one it names must be the same list of the same
 * account, and not the page itself. A link elsewhere (another account's list, another host)
 * would read that as this list, and a page that names itself would be read for ever.
 */
function checkedNextPage(
  envelope: Record<string, unknown>,
  listPath: string,
  current: string,
  status: number,
  body: Buffer,
): string | null {
  if (!('next_page_uri' in envelope)) {
    throw notAListPage(
      current,
      status,
      body,
      'a list page that does not say whether another follows (no next_page_uri)',
    );
  }
  return checkedLink(envelope['next_page_uri'], listPath, current, status, body);
}

const samePath = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** A `next_page_uri` value, checked as `checkedNextPage` says: the absolute URL, or null. */
function checkedLink(
  next: unknown,
  listPath: string,
  current: string,
  status: number,
  body: Buffer,
): string | null {
  if (next === null || next === '') return null;
  let url: URL | null = null;
  try {
    url = typeof next === 'string' && next.startsWith('/') ? new URL(`${API_ORIGIN}${next}`) : null;
  } catch {
    url = null;
  }
  // Twilio may spell the account's SID in its own case where it was asked in another.
  if (url === null || url.origin !== API_ORIGIN || !samePath(url.pathname, listPath)) {
    const shown = typeof next === 'string' ? next.replace(/\?.*$/s, '') : JSON.stringify(next);
    throw notAListPage(
      current,
      status,
      body,
      `a list page whose next page is ${shown}, not more of ${listPath}`,
    );
  }
  const absolute = `${API_ORIGIN}${next as string}`;
  if (absolute === current) {
    throw notAListPage(current, status, body, 'a list page that names itself as the next one');
  }
  return absolute;
}

/** DateSent bounds as the SDK serialises Dates: `YYYY-MM-DDTHH:mm:ssZ`. */
function messageQuery(filter: MessageFilter, pageSize: number): Record<string, string | number> {
  return {
    ...(filter.to === undefined ? {} : { To: filter.to }),
    ...(filter.from === undefined ? {} : { From: filter.from }),
    ...(filter.sentAfter === undefined ? {} : { 'DateSent>': isoSeconds(filter.sentAfter) }),
    ...(filter.sentBefore === undefined ? {} : { 'DateSent<': isoSeconds(filter.sentBefore) }),
    PageSize: pageSize,
  };
}

/** A non-success answer to a raw request, as the SDK's RestException would have it. */
function answerError(status: number, body: unknown): TwilioError {
  const fields = (body ?? {}) as { code?: unknown; message?: unknown; more_info?: unknown };
  return new TwilioError({
    ...answeredFields(status, fields),
    retryable: isRetryableStatus(status, true),
  });
}

/** An SDK list page, as far as `sdkList` reads it. */
interface SdkPage<T> {
  instances: T[];
  nextPageUrl?: string;
  nextPage(): Promise<SdkPage<T>> | undefined;
}

/**
 * An SDK list, page by page from `first`, as its `list()` reads it, but stopping where a page
 * links back to one already read (the SDK would read on for ever). A page the SDK cannot read
 * (its list missing, or null) makes it throw a bare Error or TypeError, which is said as what it
 * is, naming the list.
 */
async function sdkList<T>(what: string, first: () => Promise<SdkPage<T>>): Promise<T[]> {
  const unread = (why: string) =>
    new TwilioError({
      status: 200,
      code: null,
      message:
        `${what}: Twilio answered ${why}; nothing of the list was used. Run the command ` +
        'again; if it goes on, check the network or proxy between here and Twilio.',
      retryable: false,
    });
  const items: T[] = [];
  const seen = new Set<string>();
  try {
    for (let page: SdkPage<T> | undefined = await first(); page !== undefined;) {
      items.push(...page.instances);
      const next = page.nextPageUrl;
      if (next !== undefined && seen.has(next)) {
        throw unread(`a page whose next page was read before (${describeRequest('get', next)})`);
      }
      if (next !== undefined) seen.add(next);
      page = await page.nextPage();
    }
    return items;
  } catch (error) {
    const mapped = toTwilioError(error, true);
    if (mapped instanceof TwilioError) throw mapped;
    const why = error instanceof Error ? error.message : String(error);
    throw unread(`a page of the list that could not be read (${why})`);
  }
}

const isToken = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * A subaccount's own Auth Token, as `/Accounts/{sub}.json` answered it. An answer without one
 * (left out, empty, not text: a proxy's doing, or an account Twilio will not give it for)
 * stops here: its requests would go out with no credentials, and their 401 would blame the
 * parent's.
 */
function ownToken(accountSid: string, token: unknown): string {
  if (isToken(token)) return token;
  throw new TwilioError({
    status: 200,
    code: null,
    message:
      `GET /2010-04-01/Accounts/${accountSid}.json answered without subaccount ${accountSid}'s ` +
      'Auth Token (auth_token), with which its own resources are reached (Messaging Services, ' +
      'Bulk Export, the Consent API; with an API key, all of them): nothing was sent for it ' +
      "without credentials. Twilio gives it to the parent's Auth Token or Main API key: check " +
      'that TWILIO_ACCOUNT_SID and its credentials are those, and any proxy between here and ' +
      'Twilio, then run the command again.',
    retryable: false,
  });
}

/** Runs one SDK call, mapping what it throws to TwilioError. */
async function call<T>(idempotent: boolean, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toTwilioError(error, idempotent);
  }
}

export function createTwilioPort(
  credentials: Credentials,
  httpClient: TwilioHttpClient,
): TwilioPort {
  const parentSid = credentials.accountSid;
  const parent = createParentClient(credentials, httpClient);
  const api = parent.api.v2010;
  // Subaccount clients, built on first use from a token fetched with parent credentials, or
  // from the one Twilio answers a subaccount's creation with (no second request for it).
  const accountClients = new Map<string, Promise<TwilioClient>>();

  const clientFor = (accountSid: string): Promise<TwilioClient> => {
    if (accountSid === parentSid) return Promise.resolve(parent);
    let client = accountClients.get(accountSid);
    if (client === undefined) {
      client = call(true, () => api.accounts(accountSid).fetch()).then((account) =>
        createAccountClient(accountSid, ownToken(accountSid, account.authToken), httpClient),
      );
      client.catch(() => accountClients.delete(accountSid));
      accountClients.set(accountSid, client);
    }
    return client;
  };
  const servicesOf = async (accountSid: string) =>
    (await clientFor(accountSid)).messaging.v1.services;
  // An API key reaches only its own account's 2010 paths (Twilio: "access to subaccount
  // resources will be denied"); a subaccount's are then read with the subaccount's own token.
  // The parent's Auth Token reaches them directly.
  const viaKey = credentials.kind === 'api-key';
  const client2010 = (accountSid: string): Promise<TwilioClient> =>
    viaKey ? clientFor(accountSid) : Promise.resolve(parent);
  const account2010 = async (accountSid: string) =>
    (await client2010(accountSid)).api.v2010.accounts(accountSid);

  return {
    parentAccountSid: parentSid,

    gateWrites: (gate) => httpClient.gateWrites(gate),

    fetchAccount: (sid) => call(true, async () => toAccount(await api.accounts(sid).fetch())),

    listSubaccounts: () =>
      call(true, async () =>
        (
          await sdkList('listing the subaccounts', () =>
            api.accounts.page({ pageSize: LIST_PAGE_SIZE }),
          )
        )
          .filter((a) => a.sid !== parentSid)
          .map(toAccount),
      ),

    listSubaccountsNamed: (friendlyName) =>
      call(true, async () =>
        (
          await sdkList(`listing the subaccounts named "${friendlyName}"`, () =>
            api.accounts.page({ friendlyName, pageSize: LIST_PAGE_SIZE }),
          )
        )
          .filter((a) => a.sid !== parentSid)
          .map(toAccount),
      ),

    createSubaccount: (friendlyName) =>
      call(false, async () => {
        const created = await api.accounts.create({ friendlyName });
        // Without its token in the answer, it is fetched when first needed (and checked then).
        if (isToken(created.authToken)) {
          const client = createAccountClient(created.sid, created.authToken, httpClient);
          accountClients.set(created.sid, Promise.resolve(client));
        }
        return toAccount(created);
      }),

    // Through the SDK's own request(), page by page, reading the few fields we use: a
    // 100,000-number account as IncomingPhoneNumberInstances (each with its dates parsed)
    // cost seconds and hundreds of MB. The pages must follow one another (each names the
    // next), so the next is asked for as soon as its URI is in hand, before this page is
    // parsed: parsing overlaps the wait instead of adding to it.
    listPhoneNumbers: (accountSid) =>
      call(true, async () => {
        const client = await client2010(accountSid);
        const fetchPage = (uri: string) =>
          client.request({
            method: 'get',
            uri,
            headers: { [RAW_BODY_HEADER]: '1' },
          }) as Promise<{ statusCode: number; body: Buffer }>;
        const numbers: PhoneNumber[] = [];
        const listPath = `/2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers.json`;
        // A page named again is not asked for again (page-trail.ts).
        const trail = new PageTrail();
        const first = `${API_ORIGIN}${listPath}?PageSize=${LIST_PAGE_SIZE}`;
        trail.follow(first);
        let uri: string | null = first;
        let pending: Promise<{ statusCode: number; body: Buffer }> | null = fetchPage(first);
        while (pending !== null && uri !== null) {
          const response = await pending;
          const text = response.body.toString('utf8');
          if (response.statusCode !== 200) {
            throw answerError(response.statusCode, parseJson(response.body));
          }
          const current: string = uri;
          const notAPage = () =>
            notAListPage(current, 200, response.body, 'a body that is not a phone numbers page');
          // The next page is asked for before this one is parsed (that it says whether one
          // follows at all is checked once it is).
          const next = trail.follow(
            checkedLink(nextPageUri(text), listPath, current, 200, response.body),
          );
          pending = next === null ? null : fetchPage(next);
          // If this page does not parse, the next one's answer is not wanted.
          pending?.catch(() => undefined);
          // The request is only on the wire once the event loop has turned: let it go out
          // before this page's megabyte is parsed, or the parse delays it.
          if (pending !== null) await new Promise((resolve) => setImmediate(resolve));
          let page: { incoming_phone_numbers?: unknown; next_page_uri?: unknown } | null;
          try {
            page = JSON.parse(text) as typeof page;
          } catch {
            throw notAPage();
          }
          if (page === null || !Array.isArray(page.incoming_phone_numbers)) throw notAPage();
          if (!('next_page_uri' in page)) {
            throw notAListPage(
              current,
              200,
              response.body,
              'a list page that does not say whether another follows (no next_page_uri)',
            );
          }
          uri = next;
          for (const n of page.incoming_phone_numbers as NumberJson[]) {
            numbers.push(fromNumberJson(n));
          }
        }
        return numbers;
      }),

    fetchPhoneNumber: (accountSid, numberSid) =>
      call(true, async () =>
        toNumber(await (await account2010(accountSid)).incomingPhoneNumbers(numberSid).fetch()),
      ),

    setNumberWebhook: (accountSid, numberSid, webhook) =>
      call(false, async () =>
        toNumber(
          await (
            await account2010(accountSid)
          )
            .incomingPhoneNumbers(numberSid)
            .update(numberWebhookParams(webhook)),
        ),
      ),

    // Setting the owner to a value is idempotent: a repeat either succeeds the same way or
    // answers 404 because the number has already moved.
    transferPhoneNumber: (fromAccountSid, numberSid, toAccountSid) =>
      call(true, async () =>
        toNumber(
          await api
            .accounts(fromAccountSid)
            .incomingPhoneNumbers(numberSid)
            .update({ accountSid: toAccountSid }),
        ),
      ),

    listServices: (accountSid) =>
      call(true, async () =>
        (
          await sdkList(`listing the Messaging Services of ${accountSid}`, async () =>
            (await servicesOf(accountSid)).page({ pageSize: LIST_PAGE_SIZE }),
          )
        ).map(toService),
      ),

    createService: (accountSid, friendlyName, settings = {}) =>
      call(false, async () =>
        toService(
          await (
            await servicesOf(accountSid)
          ).create({
            friendlyName,
            ...serviceParams(settings),
          }),
        ),
      ),

    listServicePhoneNumbers: (accountSid, serviceSid) =>
      call(true, async () =>
        (
          await sdkList(`listing the numbers of Messaging Service ${serviceSid}`, async () =>
            (await servicesOf(accountSid))(serviceSid).phoneNumbers.page({
              pageSize: LIST_PAGE_SIZE,
            }),
          )
        ).map(toServiceNumber),
      ),

    addServicePhoneNumber: (accountSid, serviceSid, numberSid) =>
      call(false, async () =>
        toServiceNumber(
          await (
            await servicesOf(accountSid)
          )(serviceSid).phoneNumbers.create({
            phoneNumberSid: numberSid,
          }),
        ),
      ),

    removeServicePhoneNumber: (accountSid, serviceSid, numberSid) =>
      call(true, async () => {
        await (await servicesOf(accountSid))(serviceSid).phoneNumbers(numberSid).remove();
      }),

    // The hot path of a snapshot: the SDK's own request() (same credentials, same
    // httpClient, limiter and retry), with the page's bytes read here (message-page.ts)
    // rather than through a MessageInstance per message.
    readMessagesPage: (accountSid, request) =>
      call(true, async (): Promise<MessagePage> => {
        const listPath = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
        const uri = 'pageUrl' in request ? request.pageUrl : `${API_ORIGIN}${listPath}`;
        const response = (await (
          await client2010(accountSid)
        ).request({
          method: 'get',
          headers: { [RAW_BODY_HEADER]: '1' },
          uri,
          ...('pageUrl' in request
            ? {}
            : { params: messageQuery(request.filter, request.pageSize) }),
        })) as { statusCode: number; body: Buffer };
        if (response.statusCode !== 200) {
          throw answerError(response.statusCode, parseJson(response.body));
        }
        let page: ScannedPage<MessageJson>;
        try {
          page = await pageParser().parse<MessageJson>(response.body, request.only ?? null);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw notAListPage(uri, 200, response.body, 'a body that is not a Messages page');
        }
        refuseIncompleteMessages(uri, page.kept);
        return {
          messages: page.kept.map(fromMessageJson),
          scanned: page.total,
          sent: page.sent.map(parseDate),
          nextPageUrl: checkedNextPage(page.envelope, listPath, uri, 200, response.body),
          lastDateSent: page.last === null ? null : fromMessageJson(page.last).dateSent,
          services: page.services.map(([address, serviceSid, first, last]) => ({
            address,
            serviceSid,
            first: new Date(first),
            last: new Date(last),
          })),
        };
      }),

    sendMessage: (accountSid, message) =>
      call(false, async () =>
        toMessage(
          await (
            await account2010(accountSid)
          ).messages.create({
            to: message.to,
            body: message.body,
            ...(message.from === undefined ? {} : { from: message.from }),
            ...(message.messagingServiceSid === undefined
              ? {}
              : { messagingServiceSid: message.messagingServiceSid }),
          }),
        ),
      ),

    // Idempotent: the Consent API upserts by correlation_id, so the same records sent again
    // write the same thing (the http client retries it as it retries a GET).
    writeConsents: (accountSid, records) =>
      call(true, async () => {
        const answer = await (
          await clientFor(accountSid)
        ).accounts.v1.bulkConsents.create({
          items: records.map((r) => ({
            contact_id: r.contactId,
            correlation_id: r.correlationId,
            sender_id: r.senderId,
            status: r.status,
            source: r.source,
            ...(r.dateOfConsent === null ? {} : { date_of_consent: r.dateOfConsent }),
          })),
        });
        return ((answer.items ?? []) as ConsentItemJson[]).map((item): ConsentResult => ({
          correlationId: typeof item.correlation_id === 'string' ? item.correlation_id : null,
          errorCode: typeof item.error_code === 'number' ? item.error_code : null,
          // Twilio's words, which may quote a URL: masked as a TwilioError's message is.
          errorMessages: Array.isArray(item.error_messages)
            ? item.error_messages.map((text) => maskUrlPasswords(String(text)))
            : [],
        }));
      }),

    listExportDays: (accountSid) =>
      call(true, async () => {
        const days = await sdkList(`listing the Bulk Export days of ${accountSid}`, async () =>
          (await clientFor(accountSid)).bulkexports.v1
            .exports('Messages')
            .days.page({ pageSize: DAYS_PAGE_SIZE }),
        );
        return days.map((d) => d.day).sort();
      }),

    // Idempotent for retries: a job sent twice only makes the same day files twice.
    createExportJob: (accountSid, job) =>
      call(true, async () =>
        toExportJob(
          (await (
            await clientFor(accountSid)
          ).bulkexports.v1
            .exports('Messages')
            .exportCustomJobs.create(job)) as unknown as JobJson,
        ),
      ),

    fetchExportJob: (accountSid, jobSid) =>
      call(true, async () => {
        try {
          return toExportJob(
            (await (
              await clientFor(accountSid)
            ).bulkexports.v1.exports
              .jobs(jobSid)
              .fetch()) as unknown as JobJson,
          );
        } catch (error) {
          if ((error as { status?: unknown }).status === 404) return null;
          throw error;
        }
      }),

    listExportCustomJobs: (accountSid) =>
      call(true, async () =>
        (
          await sdkList(`listing the Bulk Export jobs of ${accountSid}`, async () =>
            (await clientFor(accountSid)).bulkexports.v1
              .exports('Messages')
              .exportCustomJobs.page({ pageSize: LIST_PAGE_SIZE }),
          )
        ).map((job) => ({
          ...toExportJob(job as unknown as JobJson),
          friendlyName: typeof job.friendlyName === 'string' ? job.friendlyName : null,
        })),
      ),

    // The day answers 307 with the file's signed URL (the SDK's own fetch would take that for
    // an error); the file itself is read from there without the client's limiter or its
    // credentials, through its agent (so through HTTPS_PROXY, as every https request goes).
    readExportDay: (accountSid, day, onMessage) =>
      call(true, async () => {
        const response = (await (
          await clientFor(accountSid)
        ).request({
          method: 'get',
          uri: `${BULKEXPORTS_ORIGIN}/v1/Exports/Messages/Days/${day}`,
        })) as { statusCode: number; body: unknown };
        const location = (response.body as { redirect_to?: unknown } | null)?.redirect_to;
        if (response.statusCode >= 400) throw answerError(response.statusCode, response.body);
        if (typeof location !== 'string') {
          // Asked again, as a day file that cannot be read is: the next answer may have it.
          throw new TwilioError({
            status: response.statusCode,
            code: null,
            message:
              `GET ${BULKEXPORTS_ORIGIN}/v1/Exports/Messages/Days/${day}: answered HTTP ` +
              `${response.statusCode} without the address of the day's file (redirect_to); ` +
              'nothing of the day was read',
            retryable: true,
          });
        }
        return readDayFile(location, onMessage, {
          timeoutMs: FILE_TIMEOUT_MS,
          httpsAgent: httpClient.httpsProxyAgent(),
          day: `the day file of ${accountSid} for ${day}`,
        });
      }),
  };
}
