/**
 * The control plane under `/__emulator/` (docs/emulator.md): JSON in, JSON out, no Twilio auth,
 * no faults, not in the request log. Tests and the demo set the world up through it.
 */

import { ApiError } from './api-error.js';
import { handleInbound } from './control-inbound.js';
import { describeOptOuts, describeState } from './control-views.js';
import { parseDay } from './exports/day-files.js';
import { FAILED_STATUSES, type DayFailure, type FailedStatus } from './exports/export-store.js';
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
    case 'POST /__emulator/export-failures':
      return failDays(state, asObject(body));
    case 'GET /__emulator/export-failures':
      return ok(state.exports.dayFailures().map(renderFailure));
    case 'DELETE /__emulator/export-failures':
      state.exports.clearDayFailures();
      return ok({ status: 'cleared' });
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

const renderFailure = (failure: DayFailure) => ({
  account_sid: failure.accountSid,
  day: failure.day,
  status: failure.status,
  jobs: failure.jobsLeft,
});

/**
 * `{account_sid?, days, status?, jobs?}`: each day fails in the account's next `jobs` Bulk
 * Export jobs whose range holds it (every one when `jobs` is left out), showing `status`
 * (default `Failed`) once the job completes, and no file made for it. Setting a day again
 * replaces what was set for it.
 */
function failDays(state: EmulatorState, body: Record<string, unknown>): ControlReply {
  const { account_sid: given, days, status = 'Failed', jobs = null, ...rest } = body;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return { status: 400, body: { error: `unknown field "${unknown[0]}"` } };
  const accountSid = given === undefined ? state.parentSid : given;
  if (typeof accountSid !== 'string' || state.account(accountSid) === undefined) {
    return { status: 404, body: { error: `no account ${JSON.stringify(accountSid)}` } };
  }
  if (
    !Array.isArray(days) ||
    days.length === 0 ||
    !days.every((day) => typeof day === 'string' && parseDay(day) !== null)
  ) {
    return { status: 400, body: { error: 'days must be a list of one or more yyyy-mm-dd days' } };
  }
  if (!FAILED_STATUSES.includes(status as FailedStatus)) {
    return {
      status: 400,
      body: {
        error: `status must be one of ${FAILED_STATUSES.join(', ')}, got ${JSON.stringify(status)}`,
      },
    };
  }
  if (jobs !== null && !(typeof jobs === 'number' && Number.isInteger(jobs) && jobs >= 1)) {
    return {
      status: 400,
      body: { error: `jobs must be a whole number, 1 or more, got ${JSON.stringify(jobs)}` },
    };
  }
  for (const day of days as string[]) {
    state.exports.failDay({
      accountSid,
      day,
      status: status as FailedStatus,
      jobsLeft: jobs as number | null,
    });
  }
  return ok(state.exports.dayFailures().map(renderFailure));
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 20001, 'expected a JSON object');
  }
  return body as Record<string, unknown>;
}
