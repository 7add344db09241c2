/**
 * The control plane under `/__emulator/` (DESIGN §3.5): JSON in, JSON out, no Twilio auth,
 * no faults, not in the request log. Tests and the demo set the world up through it.
 */

import { ApiError } from './api-error.js';
import type { DownloadLogEntry } from './exports/storage.js';
import { updateFaults, type FaultInjector } from './faults.js';
import { iso8601 } from './render.js';
import { applySeed, type SeedDocument } from './seed.js';
import { checkSettingsPatch } from './settings.js';
import type { EmulatorState } from './state.js';

export interface RequestLogEntry {
  /** When the request arrived, ISO 8601 to the millisecond. */
  time: string;
  method: string;
  path: string;
  query: string;
  /** Who authenticated; null when nobody did. */
  account_sid: string | null;
  /** 0 when the connection was dropped without an answer. */
  status: number;
  duration_ms: number;
}

export interface ControlContext {
  state: EmulatorState;
  faults: FaultInjector;
  requests: RequestLogEntry[];
  /** The export storage's log of downloads and refusals. */
  downloads: DownloadLogEntry[];
}

export interface ControlReply {
  status: number;
  body: unknown;
}

const ok = (body: unknown): ControlReply => ({ status: 200, body });

export function handleControl(
  context: ControlContext,
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): ControlReply {
  const { state, faults, requests, downloads } = context;
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /__emulator/health':
      return ok({ status: 'ok', messages: state.messages.size });
    case 'POST /__emulator/reset':
      state.reset();
      faults.reset();
      requests.length = 0;
      downloads.length = 0;
      return ok({ status: 'reset' });
    case 'POST /__emulator/seed':
      return ok(applySeed(state, asObject(body) as SeedDocument));
    case 'POST /__emulator/inbound': {
      const input = asObject(body);
      const from = requireString(input, 'from');
      const to = requireString(input, 'to');
      const text = requireString(input, 'body');
      const dateSent =
        input['date_sent'] === undefined ? undefined : Date.parse(String(input['date_sent']));
      if (dateSent !== undefined && Number.isNaN(dateSent)) {
        return { status: 400, body: { error: `invalid date_sent ${String(input['date_sent'])}` } };
      }
      const message = state.receiveInbound({ from, to, body: text, dateSent });
      return ok({
        sid: message.sid,
        account_sid: message.accountSid,
        messaging_service_sid: message.messagingServiceSid,
        date_sent: iso8601(message.dateSent),
      });
    }
    case 'GET /__emulator/optouts': {
      const all = query.get('include') === 'all';
      const entries = state.optOuts
        .list()
        .filter((entry) => all || entry.optedOut)
        .map((entry) => ({
          account_sid: entry.accountSid,
          scope: entry.scope,
          sender_number: entry.senderNumber,
          messaging_service_sid: entry.scope === 'service' ? entry.scopeId : null,
          recipient: entry.recipient,
          opted_out: entry.optedOut,
          keyword: entry.keyword,
          body: entry.body,
          message_sid: entry.messageSid,
          date_sent: iso8601(entry.dateSent),
          source: entry.source,
          correlation_id: entry.correlationId,
          consent_source: entry.consentSource,
        }));
      return ok({ optouts: entries });
    }
    case 'GET /__emulator/state':
      return ok(describeState(state));
    case 'POST /__emulator/faults': {
      const error = updateFaults(faults.settings, asObject(body));
      if (error !== null) return { status: 400, body: { error } };
      return ok(faults.settings);
    }
    case 'GET /__emulator/faults':
      return ok(faults.settings);
    case 'GET /__emulator/settings':
      return settingsOf(state, query.get('account_sid') ?? state.parentSid);
    case 'POST /__emulator/settings': {
      const { account_sid: accountSid, ...patch } = asObject(body);
      const sid = accountSid === undefined ? state.parentSid : accountSid;
      if (typeof sid !== 'string' || state.account(sid) === undefined) {
        return { status: 404, body: { error: `no account ${JSON.stringify(sid)}` } };
      }
      const error = checkSettingsPatch(patch);
      if (error !== null) return { status: 400, body: { error } };
      state.settings.update(sid, patch);
      return settingsOf(state, sid);
    }
    case 'GET /__emulator/requests':
      return ok(requests);
    case 'DELETE /__emulator/requests':
      requests.length = 0;
      return ok({ status: 'cleared' });
    case 'GET /__emulator/downloads':
      return ok(downloads);
    case 'DELETE /__emulator/downloads':
      downloads.length = 0;
      return ok({ status: 'cleared' });
    default:
      return { status: 404, body: { error: `no control route ${route}` } };
  }
}

/** `{account_sid, message_retention_days, consent_api, consent_requests_per_minute, export_job_seconds}`. */
function settingsOf(state: EmulatorState, accountSid: string): ControlReply {
  if (state.account(accountSid) === undefined) {
    return { status: 404, body: { error: `no account ${accountSid}` } };
  }
  return ok({ account_sid: accountSid, ...state.settings.get(accountSid) });
}

/** Accounts, numbers with owner and service, services: what Twilio would show, minus secrets. */
function describeState(state: EmulatorState) {
  return {
    parent_account_sid: state.parentSid,
    accounts: [...state.accounts.values()].map((a) => ({
      sid: a.sid,
      friendly_name: a.friendlyName,
      status: a.status,
      owner_account_sid: a.ownerSid,
    })),
    numbers: [...state.numbers.values()].map((n) => ({
      sid: n.sid,
      phone_number: n.phoneNumber,
      account_sid: n.accountSid,
      messaging_service_sid: n.serviceSid,
      type: n.type,
    })),
    services: [...state.services.values()].map((s) => ({
      sid: s.sid,
      account_sid: s.accountSid,
      friendly_name: s.friendlyName,
      phone_numbers: [...s.numbers],
    })),
    messages: state.messages.size,
  };
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 20001, 'expected a JSON object');
  }
  return body as Record<string, unknown>;
}

function requireString(input: Record<string, unknown>, key: string): string {
  const value = input[key];
  if (typeof value !== 'string' || value === '') {
    throw new ApiError(400, 20001, `"${key}" is required`);
  }
  return value;
}
