/**
 * The configurable fields of a Messaging Service (messaging v1) and of a phone number's
 * webhooks (2010 IncomingPhoneNumbers), each once: its JSON name, its form parameter, its kind
 * and Twilio's default. Create/update read them from a form (`InboundRequestUrl=…`), seeds
 * from JSON (`inbound_request_url`), and responses and the state view render them as stored.
 */

import { ApiError } from './api-error.js';

type Kind =
  | { type: 'url' }
  | { type: 'method' }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'integer'; min: number; max: number }
  | { type: 'sid'; prefix: string };

interface Field {
  /** The form parameter; null when the API does not take it (seeds still may). */
  param: string | null;
  kind: Kind;
  default: string | number | boolean | null;
}

const url: Kind = { type: 'url' };
const method: Kind = { type: 'method' };
const boolean: Kind = { type: 'boolean' };
/** A TwiML App's SID (AP…): stored and shown; the emulator keeps no apps to call. */
const application: Kind = { type: 'sid', prefix: 'AP' };

/**
 * Twilio's defaults for a service created with only a FriendlyName (as Twilio answers). Note
 * `inbound_request_url: null` with `use_inbound_webhook_on_number: false`: such a service
 * disables inbound SMS for every number added to it.
 */
export const SERVICE_FIELDS = {
  inbound_request_url: { param: 'InboundRequestUrl', kind: url, default: null },
  inbound_method: { param: 'InboundMethod', kind: method, default: 'POST' },
  fallback_url: { param: 'FallbackUrl', kind: url, default: null },
  fallback_method: { param: 'FallbackMethod', kind: method, default: 'POST' },
  status_callback: { param: 'StatusCallback', kind: url, default: null },
  sticky_sender: { param: 'StickySender', kind: boolean, default: true },
  mms_converter: { param: 'MmsConverter', kind: boolean, default: true },
  smart_encoding: { param: 'SmartEncoding', kind: boolean, default: true },
  scan_message_content: {
    param: 'ScanMessageContent',
    kind: { type: 'enum', values: ['inherit', 'enable', 'disable'] },
    default: 'inherit',
  },
  fallback_to_long_code: { param: 'FallbackToLongCode', kind: boolean, default: false },
  area_code_geomatch: { param: 'AreaCodeGeomatch', kind: boolean, default: true },
  validity_period: {
    param: 'ValidityPeriod',
    kind: { type: 'integer', min: 1, max: 36_000 },
    default: 36_000,
  },
  synchronous_validation: { param: 'SynchronousValidation', kind: boolean, default: false },
  usecase: {
    param: 'Usecase',
    kind: {
      type: 'enum',
      values: ['notifications', 'marketing', 'verification', 'discussion', 'poll', 'undeclared'],
    },
    default: 'undeclared',
  },
  /** Set by A2P registration, not by the Services API. */
  us_app_to_person_registered: { param: null, kind: boolean, default: false },
  use_inbound_webhook_on_number: {
    param: 'UseInboundWebhookOnNumber',
    kind: boolean,
    default: false,
  },
} as const satisfies Record<string, Field>;

/** A number's webhooks; a URL unset is null (the 2010 API renders it so). */
export const NUMBER_FIELDS = {
  sms_url: { param: 'SmsUrl', kind: url, default: null },
  sms_method: { param: 'SmsMethod', kind: method, default: 'POST' },
  sms_fallback_url: { param: 'SmsFallbackUrl', kind: url, default: null },
  sms_fallback_method: { param: 'SmsFallbackMethod', kind: method, default: 'POST' },
  voice_url: { param: 'VoiceUrl', kind: url, default: null },
  voice_method: { param: 'VoiceMethod', kind: method, default: 'POST' },
  voice_fallback_url: { param: 'VoiceFallbackUrl', kind: url, default: null },
  voice_fallback_method: { param: 'VoiceFallbackMethod', kind: method, default: 'POST' },
  status_callback: { param: 'StatusCallback', kind: url, default: null },
  status_callback_method: { param: 'StatusCallbackMethod', kind: method, default: 'POST' },
  sms_application_sid: { param: 'SmsApplicationSid', kind: application, default: null },
  voice_application_sid: { param: 'VoiceApplicationSid', kind: application, default: null },
} as const satisfies Record<string, Field>;

type ValueOf<F extends Field> = F['kind'] extends { type: 'boolean' }
  ? boolean
  : F['kind'] extends { type: 'integer' }
    ? number
    : F['default'] extends null
      ? string | null
      : string;

export type ServiceSettings = {
  -readonly [K in keyof typeof SERVICE_FIELDS]: ValueOf<(typeof SERVICE_FIELDS)[K]>;
};
export type NumberSettings = {
  -readonly [K in keyof typeof NUMBER_FIELDS]: ValueOf<(typeof NUMBER_FIELDS)[K]>;
};

function defaults<T>(fields: Record<string, Field>): T {
  return Object.fromEntries(Object.entries(fields).map(([key, f]) => [key, f.default])) as T;
}

export const DEFAULT_SERVICE_SETTINGS: Readonly<ServiceSettings> = defaults(SERVICE_FIELDS);
export const DEFAULT_NUMBER_SETTINGS: Readonly<NumberSettings> = defaults(NUMBER_FIELDS);

/** One value in its field's kind, or not ok. Form values arrive as strings. */
function coerce(kind: Kind, value: unknown): { ok: true; value: unknown } | { ok: false } {
  const text = typeof value === 'string' ? value : null;
  switch (kind.type) {
    case 'url': {
      if (value === null || text === '') return { ok: true, value: null };
      if (text === null || !URL.canParse(text) || !/^https?:/i.test(text)) return { ok: false };
      return { ok: true, value: text };
    }
    case 'method': {
      const upper = text?.toUpperCase();
      return upper === 'GET' || upper === 'POST' ? { ok: true, value: upper } : { ok: false };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { ok: true, value };
      const lower = text?.toLowerCase();
      return lower === 'true' || lower === 'false'
        ? { ok: true, value: lower === 'true' }
        : { ok: false };
    }
    case 'enum':
      return text !== null && kind.values.includes(text)
        ? { ok: true, value: text }
        : { ok: false };
    case 'integer': {
      const n = typeof value === 'number' ? value : text === null ? NaN : Number(text);
      return Number.isInteger(n) && n >= kind.min && n <= kind.max
        ? { ok: true, value: n }
        : { ok: false };
    }
    case 'sid': {
      if (value === null || text === '') return { ok: true, value: null };
      // Twilio's pattern takes hex digits in either case (^AP[0-9a-fA-F]{32}$).
      return text !== null && new RegExp(`^${kind.prefix}[0-9a-fA-F]{32}$`).test(text)
        ? { ok: true, value: text }
        : { ok: false };
    }
  }
}

/**
 * The fields a form sets (by parameter name), checked: Twilio's 400 / 20001 for a bad value.
 * Fields the form leaves out are absent from the result.
 */
export function readFormFields<T>(
  fields: Record<string, Field>,
  form: URLSearchParams,
): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    if (field.param === null) continue;
    const raw = form.get(field.param);
    if (raw === null) continue;
    const result = coerce(field.kind, raw);
    if (!result.ok) throw new ApiError(400, 20001, `Invalid ${field.param}: ${raw}`);
    out[key] = result.value;
  }
  return out as Partial<T>;
}

/** The fields a seed object sets (by JSON name); `where` names the object in an error. */
export function readSeedFields<T>(
  fields: Record<string, Field>,
  input: Record<string, unknown>,
  where: string,
): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    if (input[key] === undefined) continue;
    const result = coerce(field.kind, input[key]);
    if (!result.ok) {
      throw new ApiError(400, 20001, `${where}: invalid ${key} ${JSON.stringify(input[key])}`);
    }
    out[key] = result.value;
  }
  return out as Partial<T>;
}
