/**
 * Bulk Export v1 for Messages: custom jobs, their status, the list of day files
 * and a day's file through a 307 redirect to signed storage. A subdomain API: every route acts
 * on the authenticated account's own history (a subaccount needs its own credentials).
 *
 * Twilio documents the rules for a job (StartDay ≤ EndDay, EndDay at least two days before
 * the current UTC day, WebhookUrl and WebhookMethod both or neither) but not the error codes
 * for breaking them; the emulator answers 400 with 20001, as for any other bad parameter.
 * Completion webhooks and emails are remembered on the job, not sent.
 */

import { ApiError, notFound } from '../api-error.js';
import { dayOf, DAY_MS, parseDay } from '../exports/day-files.js';
import { dayStatuses, type DayFile, type ExportJob } from '../exports/export-store.js';
import type { ExportStorage } from '../exports/storage.js';
import { envelopeV1, pageList, readPageRequest } from '../paging.js';
import { optional, required, route, type Route, type TwilioRequest } from '../router.js';
import type { EmulatorState } from '../state.js';

export const BULKEXPORTS_ORIGIN = 'https://bulkexports.twilio.com';
const DAYS_PAGE_MAX = 400;
const DAY_TOKEN = /^\d{4}-\d{2}-\d{2}$/;

const invalid = (message: string) => new ApiError(400, 20001, message);

function renderJob(job: ExportJob, now: number, withUrl: boolean) {
  const statuses = dayStatuses(job, now);
  const done = job.emptyDays !== null;
  return {
    resource_type: 'Messages',
    friendly_name: job.friendlyName,
    details: [...statuses].map(([status, days]) => ({ status, count: days.length, days })),
    start_day: job.startDay,
    end_day: job.endDay,
    job_sid: job.sid,
    webhook_url: job.webhookUrl,
    webhook_method: job.webhookMethod,
    email: job.email,
    ...(withUrl ? { url: `${BULKEXPORTS_ORIGIN}/v1/Exports/Jobs/${job.sid}` } : {}),
    job_queue_position: done ? null : '1',
    // As Twilio writes it (its API definition's example: `2021-03-15T20:20:14.547`): to the
    // millisecond and without an offset, though it is UTC as Twilio's other dates are.
    estimated_completion_time: new Date(job.completesAt).toISOString().slice(0, -1),
  };
}

function readDay(form: URLSearchParams, name: string): string {
  const day = required(form, name);
  if (parseDay(day) === null) throw invalid(`Invalid ${name}: ${day} is not a day (yyyy-mm-dd)`);
  return day;
}

export function exportRoutes(state: EmulatorState, storage: ExportStorage): Route[] {
  /** Messages is the one resource type the emulator has; the others are not found. */
  const messagesOnly = (request: TwilioRequest, type: string | undefined) => {
    if (type !== 'Messages') throw notFound(request.path);
    state.settleExports();
    return request.principal.account.sid;
  };
  const ownJob = (request: TwilioRequest, sid: string) => {
    state.settleExports();
    const job = state.exports.job(sid);
    if (job === undefined || job.accountSid !== request.principal.account.sid) {
      throw notFound(request.path);
    }
    return job;
  };

  return [
    route('GET', '/v1/Exports/:name', (request, [type]) => {
      messagesOnly(request, type);
      const url = `${BULKEXPORTS_ORIGIN}/v1/Exports/Messages`;
      return {
        status: 200,
        body: { resource_type: 'Messages', url, links: { days: `${url}/Days` } },
      };
    }),

    route('POST', '/v1/Exports/:name/Jobs', (request, [type]) => {
      const accountSid = messagesOnly(request, type);
      const { form } = request;
      const startDay = readDay(form, 'StartDay');
      const endDay = readDay(form, 'EndDay');
      const friendlyName = required(form, 'FriendlyName');
      const now = state.now();
      const today = parseDay(dayOf(now))!;
      if (parseDay(endDay)! > today - 2 * DAY_MS) {
        throw invalid(
          `Invalid EndDay: ${endDay}; it must be 2 days earlier than the current UTC day (${dayOf(today)})`,
        );
      }
      if (startDay > endDay) throw invalid(`StartDay ${startDay} is after EndDay ${endDay}`);
      const webhookUrl = optional(form, 'WebhookUrl') ?? null;
      const webhookMethod = optional(form, 'WebhookMethod') ?? null;
      if ((webhookUrl === null) !== (webhookMethod === null)) {
        throw invalid('WebhookUrl and WebhookMethod must be given together');
      }
      if (webhookMethod !== null && webhookMethod !== 'GET' && webhookMethod !== 'POST') {
        throw invalid(`Invalid WebhookMethod: ${webhookMethod}`);
      }
      const seconds = state.settings.get(accountSid).export_job_seconds;
      const job = state.exports.createJob({
        sid: state.newSid('JS'),
        accountSid,
        friendlyName,
        startDay,
        endDay,
        webhookUrl,
        webhookMethod,
        email: optional(form, 'Email') ?? null,
        createdAt: now,
        completesAt: now + Math.round(seconds * 1000),
      });
      state.settleExports();
      return { status: 201, body: renderJob(job, now, false) };
    }),

    route('GET', '/v1/Exports/:name/Jobs', (request, [type]) => {
      const accountSid = messagesOnly(request, type);
      const page = readPageRequest(request.query);
      const jobs = state.exports.jobsOf(accountSid);
      const now = state.now();
      return {
        status: 200,
        body: envelopeV1(
          'jobs',
          request.path,
          request.query,
          page,
          pageList(jobs, page),
          (job) => renderJob(job, now, false),
          BULKEXPORTS_ORIGIN,
        ),
      };
    }),

    route('GET', '/v1/Exports/Jobs/:sid', (request, [sid]) => ({
      status: 200,
      body: renderJob(ownJob(request, sid!), state.now(), true),
    })),

    route('DELETE', '/v1/Exports/Jobs/:sid', (request, [sid]) => {
      state.exports.deleteJob(ownJob(request, sid!));
      return { status: 204 };
    }),

    route('GET', '/v1/Exports/:name/Days', async (request, [type]) => {
      const accountSid = messagesOnly(request, type);
      const page = readPageRequest(request.query, {
        maxPageSize: DAYS_PAGE_MAX,
        tokenId: DAY_TOKEN,
      });
      const files = state.exports.filesOf(accountSid, state.now()).map((file) => ({
        sid: file.day,
        file,
      }));
      const result = pageList(files, page);
      const sizes = new Map<string, number>();
      // One day at a time: each is produced once to measure it, and only one is in memory.
      for (const { file } of result.items) {
        sizes.set(file.day, await storage.sizeOf(accountSid, file.day));
      }
      return {
        status: 200,
        body: envelopeV1(
          'days',
          request.path,
          request.query,
          page,
          result,
          ({ file }) => renderDay(file, sizes.get(file.day) ?? 0),
          BULKEXPORTS_ORIGIN,
        ),
      };
    }),

    route('GET', '/v1/Exports/:name/Days/:day', (request, [type, day]) => {
      const accountSid = messagesOnly(request, type);
      if (state.exports.file(accountSid, day!, state.now()) === undefined) {
        throw notFound(request.path);
      }
      const location = storage.signedUrl(accountSid, day!);
      return { status: 307, body: { redirect_to: location }, headers: { Location: location } };
    }),
  ];
}

function renderDay(file: DayFile, size: number) {
  return {
    day: file.day,
    size,
    resource_type: 'Messages',
    create_date: dayOf(file.createdAt),
    friendly_name: file.friendlyName,
  };
}
