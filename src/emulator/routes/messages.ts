/** Messages (2010): list with To/From/DateSent filters, fetch, and send. */

import { ApiError, notFound } from '../api-error.js';
import { reach2010 } from '../auth.js';
import type { MessageQuery, MessageRecord, PageCursor } from '../message-store.js';
import { envelope2010Bytes, readPageRequest } from '../paging.js';
import { renderMessage } from '../render.js';
import { optional, route, type Route } from '../router.js';
import { sendMessage } from '../send.js';
import type { EmulatorState } from '../state.js';

const DAY_MS = 86_400_000;

const messageText = (message: MessageRecord) => JSON.stringify(renderMessage(message));

/**
 * A `DateSent` filter value: a date (`2024-05-01`) means that whole UTC day; a datetime
 * (`2024-05-01T10:00:00Z`, `2024-05-01 10:00:00`, RFC 2822…) means that second. Bounds
 * are inclusive on both sides, as Twilio documents "on and before" / "on and after".
 */
export function parseDateFilter(key: string, value: string): { start: number; end: number } {
  // Date.UTC and V8's Date.parse roll `2025-02-30` over into March: no such day is refused.
  if (/^\d{4}-\d{2}-\d{2}/.test(value.trim()) && !isCalendarDay(value.trim().slice(0, 10))) {
    throw new ApiError(400, 20001, `Invalid value for ${key}: ${value}`);
  }
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (dateOnly !== null) {
    const start = Date.UTC(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3]));
    if (!Number.isNaN(start)) return { start, end: start + DAY_MS - 1000 };
  } else {
    let text = value.trim();
    // `2019-06-11 22:05:25.000` and zone-less ISO datetimes are UTC.
    const isoish =
      /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
    if (isoish !== null) text = `${isoish[1]}T${isoish[2]}${isoish[3] ?? 'Z'}`;
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) {
      const second = Math.floor(ms / 1000) * 1000;
      return { start: second, end: second };
    }
  }
  throw new ApiError(400, 20001, `Invalid value for ${key}: ${value}`);
}

/** Whether `YYYY-MM-DD` names a day that exists. */
function isCalendarDay(ymd: string): boolean {
  const [year, month, day] = ymd.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day)).toISOString().startsWith(ymd);
}

function readQuery(query: URLSearchParams): MessageQuery {
  const result: MessageQuery = {
    to: query.get('To') ?? undefined,
    from: query.get('From') ?? undefined,
  };
  const narrow = (min: number | undefined, max: number | undefined) => {
    if (min !== undefined) result.minDate = Math.max(result.minDate ?? min, min);
    if (max !== undefined) result.maxDate = Math.min(result.maxDate ?? max, max);
  };
  for (const key of ['DateSent', 'DateSent<', 'DateSent>'] as const) {
    const value = query.get(key);
    if (value === null) continue;
    const { start, end } = parseDateFilter(key, value);
    if (key === 'DateSent') narrow(start, end);
    else if (key === 'DateSent<') narrow(undefined, end);
    else narrow(start, undefined);
  }
  return result;
}

/**
 * The oldest `date_created` the Messages API still shows for an account: its retention window
 * (7–400 days, a Console setting) back from the emulator clock. Older records are hidden, not
 * deleted: Bulk Export day files and the opt-out store still have them. Every stored message
 * has `date_created` equal to `date_sent` (history is stored as sent), so the window is a
 * lower bound on the store's date order: a binary search, not a filter over every message.
 */
export function retentionCutoff(state: EmulatorState, accountSid: string): number {
  return state.now() - state.settings.get(accountSid).message_retention_days * DAY_MS;
}

export function messageRoutes(state: EmulatorState): Route[] {
  return [
    route('GET', '/2010-04-01/Accounts/:sid/Messages.json', (request, [sid]) => {
      const account = reach2010(state, request.principal, sid!, request.path);
      const page = readPageRequest(request.query);
      let cursor: PageCursor = { kind: 'first' };
      if (page.token !== null) {
        const record = state.messages.get(page.token.sid);
        if (record === undefined || record.accountSid !== account.sid) {
          throw new ApiError(400, 21481, 'Invalid PageToken');
        }
        cursor = { kind: page.token.direction, record };
      }
      const query = readQuery(request.query);
      query.minDate = Math.max(query.minDate ?? 0, retentionCutoff(state, account.sid));
      const result = state.messages.page(account.sid, query, cursor, page.pageSize);
      return {
        status: 200,
        body: envelope2010Bytes(
          'messages',
          request.path,
          request.query,
          page,
          { items: result.items, hasNext: result.hasMore },
          (message) => state.messages.json(message, messageText),
        ),
      };
    }),

    route('GET', '/2010-04-01/Accounts/:sid/Messages/:sid.json', (request, params) => {
      const account = reach2010(state, request.principal, params[0]!, request.path);
      const message = state.messages.get(params[1]!);
      if (
        message === undefined ||
        message.accountSid !== account.sid ||
        message.dateCreated < retentionCutoff(state, account.sid)
      ) {
        throw notFound(request.path);
      }
      return { status: 200, body: renderMessage(message) };
    }),

    route('POST', '/2010-04-01/Accounts/:sid/Messages.json', (request, [sid]) => {
      const account = reach2010(state, request.principal, sid!, request.path);
      const to = optional(request.form, 'To');
      if (to === undefined || to === '') {
        throw new ApiError(400, 21604, "A 'To' phone number is required.");
      }
      const body = optional(request.form, 'Body');
      if (body === undefined || body === '') {
        throw new ApiError(400, 21602, 'Message body is required.');
      }
      const message = sendMessage(state, account, {
        to,
        body,
        from: optional(request.form, 'From'),
        messagingServiceSid: optional(request.form, 'MessagingServiceSid'),
      });
      return { status: 201, body: renderMessage(message) };
    }),
  ];
}
