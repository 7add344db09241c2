/**
 * The control plane under `/__emulator/` (docs/emulator.md): JSON in, JSON out, no Twilio auth,
 * no faults, not in the request log. Tests and the demo set the world up through it.
 */

import { ApiError } from './api-error.js';
import { handleInbound } from './control-inbound.js';
import { describeOptOuts, describeState } from './control-views.js';
import type { DownloadLogEntry } from './exports/storage.js';
import type { FaultInjector } from './faults.js';
import { applySeed, type SeedDocument } from './seed.js';
import { checkSettingsPatch } from './settings.js';
import type { EmulatorState } from './state.js';
import type { WebhookLog } from './webhooks.js';

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
  /** Every webhook made, or that would be made, for a live inbound message. */
  webhooks: WebhookLog;
  /** The emulator clock, to the millisecond. */
  now: () => number;
}

export interface ControlReply {
  status: number;
  body: unknown;
}

const ok = (body: unknown): ControlReply => ({ status: 200, body });

export async function handleControl(
  context: ControlContext,
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): Promise<ControlReply> {
  const { state, faults, requests, downloads, webhooks } = context;
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /__emulator/health':
      return ok({ status: 'ok', messages: state.messages.size, held_requests: faults.held });
    case 'POST /__emulator/reset':
      state.reset();
      faults.reset();
      requests.length = 0;
      downloads.length = 0;
      webhooks.clear();
      return ok({ status: 'reset' });
    case 'POST /__emulator/seed':
      return ok(applySeed(state, asObject(body) as SeedDocument));
    case 'POST /__emulator/inbound':
      return ok(await handleInbound(state, webhooks, context.now(), asObject(body)));
    case 'GET /__emulator/webhooks':
      return ok(webhooks.entries);
    case 'DELETE /__emulator/webhooks':
      webhooks.clear();
      return ok({ status: 'cleared' });
    case 'GET /__emulator/optouts':
      return ok({ optouts: describeOptOuts(state, query.get('include') === 'all') });
    case 'GET /__emulator/state':
      return ok(describeState(state));
    case 'POST /__emulator/faults': {
      const error = faults.update(asObject(body));
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

/** One account's settings: `{account_sid, message_retention_days, consent_api, …}`. */
function settingsOf(state: EmulatorState, accountSid: string): ControlReply {
  if (state.account(accountSid) === undefined) {
    return { status: 404, body: { error: `no account ${accountSid}` } };
  }
  return ok({ account_sid: accountSid, ...state.settings.get(accountSid) });
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 20001, 'expected a JSON object');
  }
  return body as Record<string, unknown>;
}
