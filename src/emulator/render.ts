/**
 * Twilio's JSON for each resource: every property the OpenAPI schema declares is present,
 * null when Twilio has nothing to say (Twilio sends null, never a missing key).
 */

import type { MessageRecord } from './message-store.js';
import type { AccountRecord, NumberRecord, ServiceRecord } from './state.js';

export const MESSAGING_ORIGIN = 'https://messaging.twilio.com';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * A date a seed or a control request gives (`date_sent`), in ms, NaN when it is none: ISO
 * 8601 or RFC 2822, and a datetime without an offset (`2025-01-31T20:00:00`) in UTC, as
 * Twilio's own dates are. Date.parse alone reads that in the host's time zone: one seed
 * dated its messages hours apart on two machines, in or out of a window or a UTC day.
 */
export function parseGivenDate(text: string): number {
  const bare = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/.exec(text.trim());
  return Date.parse(bare === null ? text : `${bare[1]}T${bare[2]}Z`);
}

/**
 * RFC 2822 in GMT, as the 2010 API writes dates: `Thu, 30 Jul 2015 20:00:00 +0000`.
 * Spelled out from the UTC fields: a page of 1000 messages formats 1000 of these, and
 * `toUTCString()` plus a regex replace was a fifth of the emulator's time per page.
 */
export function rfc2822(ms: number): string {
  const d = new Date(ms);
  return `${WEEKDAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/**
 * ISO 8601 to the second, as the v1 APIs and Bulk Export files write dates:
 * `2015-07-30T20:00:00Z`. Spelled out from the UTC fields for the same reason as rfc2822:
 * a day file formats one per message.
 */
export function iso8601(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}Z`;
}

const ACCOUNT_SUBRESOURCES = [
  ['available_phone_numbers', 'AvailablePhoneNumbers'],
  ['calls', 'Calls'],
  ['conferences', 'Conferences'],
  ['incoming_phone_numbers', 'IncomingPhoneNumbers'],
  ['notifications', 'Notifications'],
  ['outgoing_caller_ids', 'OutgoingCallerIds'],
  ['recordings', 'Recordings'],
  ['transcriptions', 'Transcriptions'],
  ['addresses', 'Addresses'],
  ['signing_keys', 'SigningKeys'],
  ['connect_apps', 'ConnectApps'],
  ['sip', 'SIP'],
  ['authorized_connect_apps', 'AuthorizedConnectApps'],
  ['usage', 'Usage'],
  ['keys', 'Keys'],
  ['applications', 'Applications'],
  ['short_codes', 'SMS/ShortCodes'],
  ['queues', 'Queues'],
  ['messages', 'Messages'],
  ['balance', 'Balance'],
] as const;

export function renderAccount(account: AccountRecord) {
  const base = `/2010-04-01/Accounts/${account.sid}`;
  return {
    auth_token: account.authToken,
    date_created: rfc2822(account.dateCreated),
    date_updated: rfc2822(account.dateUpdated),
    friendly_name: account.friendlyName,
    owner_account_sid: account.ownerSid,
    sid: account.sid,
    status: account.status,
    subresource_uris: Object.fromEntries(
      ACCOUNT_SUBRESOURCES.map(([key, path]) => [key, `${base}/${path}.json`]),
    ),
    type: 'Full',
    uri: `${base}.json`,
  };
}

export function renderNumber(number: NumberRecord) {
  const hooks = number.settings;
  return {
    account_sid: number.accountSid,
    address_sid: null,
    address_requirements: 'none',
    api_version: '2010-04-01',
    beta: false,
    capabilities: { voice: number.type !== 'short-code', sms: true, mms: true, fax: false },
    date_created: rfc2822(number.dateCreated),
    date_updated: rfc2822(number.dateUpdated),
    friendly_name: number.friendlyName,
    identity_sid: null,
    phone_number: number.phoneNumber,
    origin: 'twilio',
    sid: number.sid,
    sms_application_sid: hooks.sms_application_sid,
    sms_fallback_method: hooks.sms_fallback_method,
    sms_fallback_url: hooks.sms_fallback_url,
    sms_method: hooks.sms_method,
    sms_url: hooks.sms_url,
    status_callback: hooks.status_callback,
    status_callback_method: hooks.status_callback_method,
    trunk_sid: null,
    uri: `/2010-04-01/Accounts/${number.accountSid}/IncomingPhoneNumbers/${number.sid}.json`,
    voice_receive_mode: 'voice',
    voice_application_sid: hooks.voice_application_sid,
    voice_caller_id_lookup: false,
    voice_fallback_method: hooks.voice_fallback_method,
    voice_fallback_url: hooks.voice_fallback_url,
    voice_method: hooks.voice_method,
    voice_url: hooks.voice_url,
    emergency_status: 'Inactive',
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    bundle_sid: null,
    status: 'in-use',
    type: number.type,
  };
}

/**
 * A number's JSON as bytes, kept between requests: a 100,000-number account is listed in 100
 * pages of 1,000, and rendering each number again was most of the time a page took. The
 * bytes are kept with a copy of the values they were rendered from and made again when any
 * differs, so no change to the record (a transfer, an update, a backdated scenario) can serve
 * stale JSON.
 */
interface RenderedNumber {
  from: Omit<NumberRecord, 'sid' | 'phoneNumber' | 'serviceSid' | 'serviceJoinedAt'>;
  json: Buffer;
}
const renderedNumbers = new WeakMap<NumberRecord, RenderedNumber>();

function sameRendering(number: NumberRecord, from: RenderedNumber['from']): boolean {
  if (
    number.accountSid !== from.accountSid ||
    number.friendlyName !== from.friendlyName ||
    number.type !== from.type ||
    number.dateCreated !== from.dateCreated ||
    number.dateUpdated !== from.dateUpdated
  ) {
    return false;
  }
  const now = number.settings as unknown as Record<string, unknown>;
  const then = from.settings as unknown as Record<string, unknown>;
  const keys = Object.keys(now);
  return keys.length === Object.keys(then).length && keys.every((key) => now[key] === then[key]);
}

export function numberJson(number: NumberRecord): Buffer {
  const kept = renderedNumbers.get(number);
  if (kept !== undefined && sameRendering(number, kept.from)) return kept.json;
  const json = Buffer.from(JSON.stringify(renderNumber(number)));
  renderedNumbers.set(number, {
    from: {
      accountSid: number.accountSid,
      friendlyName: number.friendlyName,
      type: number.type,
      dateCreated: number.dateCreated,
      dateUpdated: number.dateUpdated,
      settings: { ...number.settings },
    },
    json,
  });
  return json;
}

const ERROR_MESSAGES: Record<number, string> = {
  21610: 'Attempt to send to unsubscribed recipient',
  30003: 'Unreachable destination handset',
  30005: 'Unknown destination handset',
  30007: 'Message filtered',
};

export function renderMessage(message: MessageRecord) {
  const uri = `/2010-04-01/Accounts/${message.accountSid}/Messages/${message.sid}`;
  // Formatting dates is most of the cost of a page; history messages share all three.
  const sent = rfc2822(message.dateSent);
  const created = message.dateCreated === message.dateSent ? sent : rfc2822(message.dateCreated);
  const updated = message.dateUpdated === message.dateSent ? sent : rfc2822(message.dateUpdated);
  const errorMessage =
    message.errorCode === null ? null : (ERROR_MESSAGES[message.errorCode] ?? null);
  return {
    body: message.body,
    num_segments: String(message.numSegments),
    direction: message.direction,
    from: message.from,
    to: message.to,
    date_updated: updated,
    price: message.price,
    error_message: errorMessage,
    uri: `${uri}.json`,
    account_sid: message.accountSid,
    num_media: '0',
    status: message.status,
    messaging_service_sid: message.messagingServiceSid,
    sid: message.sid,
    date_sent: sent,
    date_created: created,
    error_code: message.errorCode,
    price_unit: 'USD',
    api_version: '2010-04-01',
    subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
  };
}

export function renderService(service: ServiceRecord) {
  const url = `${MESSAGING_ORIGIN}/v1/Services/${service.sid}`;
  return {
    sid: service.sid,
    account_sid: service.accountSid,
    friendly_name: service.friendlyName,
    date_created: iso8601(service.dateCreated),
    date_updated: iso8601(service.dateUpdated),
    ...service.settings,
    url,
    links: {
      phone_numbers: `${url}/PhoneNumbers`,
      short_codes: `${url}/ShortCodes`,
      alpha_senders: `${url}/AlphaSenders`,
      messages: `${url}/Messages`,
      us_app_to_person: `${url}/Compliance/Usa2p`,
      us_app_to_person_usecases: `${url}/Compliance/Usa2p/Usecases`,
      channel_senders: `${url}/ChannelSenders`,
      destination_alpha_senders: `${url}/DestinationAlphaSenders`,
    },
  };
}

export function renderServiceNumber(service: ServiceRecord, number: NumberRecord) {
  const joined = number.serviceJoinedAt ?? number.dateUpdated;
  return {
    sid: number.sid,
    account_sid: service.accountSid,
    service_sid: service.sid,
    date_created: iso8601(joined),
    date_updated: iso8601(joined),
    phone_number: number.phoneNumber,
    country_code: number.phoneNumber.startsWith('+1') ? 'US' : null,
    capabilities: number.type === 'short-code' ? ['SMS', 'MMS'] : ['SMS', 'MMS', 'Voice'],
    url: `${MESSAGING_ORIGIN}/v1/Services/${service.sid}/PhoneNumbers/${number.sid}`,
  };
}
