/**
 * The seed document (docs/emulator.md): subaccounts, API keys, numbers, services and messages,
 * applied in that order. Messages are replayed in date order so that inbound keywords drive
 * the opt-out store exactly as live ones would.
 */

import { createKey, createSubaccount, updateAccountStatus } from './accounts.js';
import { ApiError } from './api-error.js';
import type { MessageDirection } from './message-store.js';
import {
  NUMBER_FIELDS,
  readSeedFields,
  SERVICE_FIELDS,
  type NumberSettings,
  type ServiceSettings,
} from './resource-settings.js';
import { parseGivenDate } from './render.js';
import type { AccountStatus, EmulatorState, NumberType, SidKind } from './state.js';

export interface SeedDocument {
  subaccounts?: {
    friendly_name: string;
    sid?: string;
    auth_token?: string;
    status?: AccountStatus;
  }[];
  keys?: { account_sid?: string; kind?: 'main' | 'standard'; sid?: string; secret?: string }[];
  /** A number, with any of its webhook fields (`sms_url`, `sms_method`, `voice_url`, …). */
  numbers?: ({
    phone_number: string;
    sid?: string;
    account_sid?: string;
    type?: NumberType;
  } & Partial<NumberSettings>)[];
  /**
   * A service, with any field of the Services API (`inbound_request_url`,
   * `use_inbound_webhook_on_number`, `status_callback`, …); the rest take Twilio's defaults.
   */
  services?: ({
    friendly_name: string;
    sid?: string;
    account_sid?: string;
    phone_numbers?: string[];
  } & Partial<ServiceSettings>)[];
  messages?: {
    from: string;
    to: string;
    body: string;
    direction: MessageDirection;
    date_sent: string | number;
    status?: string;
    error_code?: number | null;
    account_sid?: string;
    messaging_service_sid?: string | null;
  }[];
}

export interface SeedResult {
  subaccounts: { sid: string; friendly_name: string; auth_token: string; status: string }[];
  keys: { sid: string; secret: string; account_sid: string; kind: string }[];
  numbers: { sid: string; phone_number: string; account_sid: string }[];
  services: { sid: string; friendly_name: string; account_sid: string; phone_numbers: string[] }[];
  messages: { sid: string }[];
}

const DIRECTIONS = new Set(['inbound', 'outbound-api', 'outbound-call', 'outbound-reply']);

function parseDate(value: string | number, where: string): number {
  const ms = typeof value === 'number' ? value : parseGivenDate(value);
  if (!Number.isFinite(ms)) throw new ApiError(400, 20001, `${where}: invalid date_sent ${value}`);
  return ms;
}

/** What a seed may hold: anything else is a misspelling, which would seed nothing silently. */
const SEED_MEMBERS = ['subaccounts', 'keys', 'numbers', 'services', 'messages'];

export function applySeed(state: EmulatorState, doc: SeedDocument): SeedResult {
  const unknown = Object.keys(doc).filter((key) => !SEED_MEMBERS.includes(key));
  if (unknown.length > 0) {
    throw new ApiError(
      400,
      20001,
      `unknown member ${unknown.map((key) => JSON.stringify(key)).join(', ')}: a seed holds ${SEED_MEMBERS.join(', ')}`,
    );
  }
  const explicit = explicitSids(state, doc);
  // SIDs made for this seed's other resources skip the ones it gives, even those made first.
  return state.withReservedSids(explicit, () => seed(state, doc));
}

/**
 * The SIDs a seed gives explicitly, each checked before anything is seeded: one already used
 * by a resource of its kind (say, copied from an earlier run with the same seed), or given
 * twice in the document, is refused with 400, naming both.
 */
function explicitSids(state: EmulatorState, doc: SeedDocument): string[] {
  const given = new Map<string, string>();
  const check = (kind: SidKind, sid: string | undefined, where: string) => {
    if (sid === undefined) return;
    const holder = state.sidHolder(kind, sid);
    const twice = given.get(sid);
    if (holder === undefined && twice === undefined) {
      given.set(sid, where);
      return;
    }
    throw new ApiError(
      400,
      20001,
      `${where}: SID ${sid} is already used by ${holder ?? twice}; leave "sid" out to have a new one made, or give one nothing else uses. Nothing was seeded.`,
    );
  };
  (doc.subaccounts ?? []).forEach((s, i) => check('AC', s.sid, `subaccounts[${i}]`));
  (doc.keys ?? []).forEach((k, i) => check('SK', k.sid, `keys[${i}]`));
  (doc.numbers ?? []).forEach((n, i) => check('PN', n.sid, `numbers[${i}]`));
  (doc.services ?? []).forEach((s, i) => check('MG', s.sid, `services[${i}]`));
  return [...given.keys()];
}

function seed(state: EmulatorState, doc: SeedDocument): SeedResult {
  const parent = state.account(state.parentSid)!;
  const result: SeedResult = { subaccounts: [], keys: [], numbers: [], services: [], messages: [] };

  for (const sub of doc.subaccounts ?? []) {
    const account = createSubaccount(state, parent, {
      friendlyName: sub.friendly_name,
      sid: sub.sid,
      authToken: sub.auth_token,
    });
    // Seeding a closed subaccount goes through the real rule, so it holds no numbers.
    if (sub.status !== undefined && sub.status !== 'active') {
      updateAccountStatus(state, account, sub.status);
    }
    result.subaccounts.push({
      sid: account.sid,
      friendly_name: account.friendlyName,
      auth_token: account.authToken,
      status: account.status,
    });
  }

  for (const init of doc.keys ?? []) {
    const key = createKey(state, {
      accountSid: init.account_sid,
      kind: init.kind,
      sid: init.sid,
      secret: init.secret,
    });
    result.keys.push({
      sid: key.sid,
      secret: key.secret,
      account_sid: key.accountSid,
      kind: key.kind,
    });
  }

  for (const [index, init] of (doc.numbers ?? []).entries()) {
    const number = state.addNumber({
      phoneNumber: init.phone_number,
      accountSid: init.account_sid,
      sid: init.sid,
      type: init.type,
      settings: readSeedFields<NumberSettings>(NUMBER_FIELDS, init, `numbers[${index}]`),
    });
    result.numbers.push({
      sid: number.sid,
      phone_number: number.phoneNumber,
      account_sid: number.accountSid,
    });
  }

  for (const [index, init] of (doc.services ?? []).entries()) {
    const members = (init.phone_numbers ?? []).map((ref) => {
      const number = ref.startsWith('PN') ? state.numbers.get(ref) : state.numberByPhone(ref);
      if (number === undefined) {
        throw new ApiError(400, 21421, `service "${init.friendly_name}": unknown number ${ref}`);
      }
      return number;
    });
    const service = state.createService(
      init.account_sid ?? members[0]?.accountSid ?? state.parentSid,
      {
        friendlyName: init.friendly_name,
        sid: init.sid,
        settings: readSeedFields<ServiceSettings>(SERVICE_FIELDS, init, `services[${index}]`),
      },
    );
    for (const number of members) state.joinService(service, number.sid);
    result.services.push({
      sid: service.sid,
      friendly_name: service.friendlyName,
      account_sid: service.accountSid,
      phone_numbers: [...service.numbers],
    });
  }

  const messages = (doc.messages ?? []).map((m, index) => {
    if (!DIRECTIONS.has(m.direction)) {
      throw new ApiError(400, 20001, `messages[${index}]: invalid direction ${m.direction}`);
    }
    return { m, index, dateSent: parseDate(m.date_sent, `messages[${index}]`) };
  });
  messages.sort((a, b) => a.dateSent - b.dateSent || a.index - b.index);
  const sids: string[] = new Array(messages.length);
  for (const { m, index, dateSent } of messages) {
    // A channel address (`rcs:+1…`, `whatsapp:+1…`) belongs to the number it carries; an RCS
    // agent, a short code or an alphanumeric sender to no number: its account must be given.
    const twilioSide = m.direction === 'inbound' ? m.to : m.from;
    const number = state.numberByAddress(twilioSide);
    const accountSid = m.account_sid ?? number?.accountSid;
    if (accountSid === undefined || state.account(accountSid) === undefined) {
      throw new ApiError(
        400,
        20001,
        `messages[${index}]: no account owns ${twilioSide}; give the message an account_sid`,
      );
    }
    const record = state.recordMessage({
      accountSid,
      from: m.from,
      to: m.to,
      body: m.body,
      direction: m.direction,
      status: m.status ?? (m.direction === 'inbound' ? 'received' : 'delivered'),
      dateSent,
      errorCode: m.error_code ?? null,
      messagingServiceSid:
        m.messaging_service_sid === undefined
          ? (number?.serviceSid ?? null)
          : m.messaging_service_sid,
    });
    sids[index] = record.sid;
  }
  result.messages = sids.map((sid) => ({ sid }));
  return result;
}
