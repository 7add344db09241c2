/**
 * The time arithmetic of a snapshot: which spans of history are still to be read, where the
 * Messages API's retention window divides them from what only Bulk Export holds, the UTC days
 * an export reads, and how a window is cut into slices read side by side.
 */

import type { MessageFilter } from '../twilio/port.js';

const SECOND = 1000;
export const DAY_MS = 86_400 * SECOND;

/** What Twilio lets an account owner set the Messages API's retention window to, in days. */
export const MIN_RETENTION_DAYS = 7;
export const MAX_RETENTION_DAYS = 400;

/** Twilio started in 2008: no account has a message before this. */
export const HISTORY_FLOOR = new Date(Date.UTC(2008, 0, 1));

/** The oldest instant the Messages API still shows, with a window of `retentionDays`. */
export function apiBoundary(now: Date, retentionDays: number): Date {
  return new Date(wholeSecond(now.getTime() - retentionDays * DAY_MS));
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export const dayOf = (at: Date) => at.toISOString().slice(0, 10);

/** Every UTC day that `start`…`end` touches, oldest first. */
export function daysBetween(start: Date, end: Date): string[] {
  const days: string[] = [];
  const last = dayOf(end);
  for (let at = Date.parse(dayOf(start)); ; at += DAY_MS) {
    const day = dayOf(new Date(at));
    if (day > last) break;
    days.push(day);
  }
  return days;
}

/** Bulk Export makes no file for the last two days: EndDay must be before today − 1 (UTC). */
export function lastExportableDay(now: Date): string {
  return dayOf(new Date(Date.parse(dayOf(now)) - 2 * DAY_MS));
}

/**
 * Spans divided at the API's boundary: the parts it shows, and the older parts only Bulk
 * Export holds (both keep the boundary second). A span that ends at now, however short, is
 * always among the API's.
 */
export function splitAtBoundary(
  spans: readonly TimeRange[],
  boundary: Date,
): { api: TimeRange[]; older: TimeRange[] } {
  const api: TimeRange[] = [];
  const older: TimeRange[] = [];
  for (const span of spans) {
    if (span.end >= boundary) {
      api.push({ start: span.start > boundary ? span.start : boundary, end: span.end });
    }
    if (span.start < boundary) {
      older.push({ start: span.start, end: span.end < boundary ? span.end : boundary });
    }
  }
  return { api, older };
}

/** A slice shorter than this is not worth a request of its own. */
export const MIN_SLICE_MS = 3_600 * SECOND;

/** Read again on an incremental run: late-dated messages and a clock ahead of Twilio's. */
export const INCREMENTAL_OVERLAP_MS = 10 * 60 * SECOND;

export interface TimeRange {
  start: Date;
  end: Date;
}

const wholeSecond = (ms: number) => Math.floor(ms / SECOND) * SECOND;

/** Windows merged where they overlap or touch, per the order given (one account's). */
export function mergeRanges(ranges: readonly TimeRange[]): TimeRange[] {
  const sorted = [...ranges].sort((a, b) => a.start.getTime() - b.start.getTime());
  const merged: TimeRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range.start.getTime() <= last.end.getTime()) {
      if (range.end > last.end) last.end = range.end;
    } else {
      merged.push({ start: range.start, end: range.end });
    }
  }
  return merged;
}

/** The parts of `target` that no range in `covered` reads (boundary seconds count as read). */
export function uncoveredSpans(target: TimeRange, covered: readonly TimeRange[]): TimeRange[] {
  const spans: TimeRange[] = [];
  let cursor = target.start.getTime();
  const end = target.end.getTime();
  for (const range of mergeRanges(covered)) {
    if (range.end.getTime() <= cursor) continue;
    if (range.start.getTime() >= end) break;
    if (range.start.getTime() > cursor) {
      spans.push({ start: new Date(cursor), end: range.start });
    }
    cursor = Math.max(cursor, range.end.getTime());
  }
  if (cursor < end) spans.push({ start: new Date(cursor), end: new Date(end) });
  return spans;
}

/**
 * What a plain (incremental) run reads of an account: every span between the start of its
 * history and now that no completed run has read, each reaching back `INCREMENTAL_OVERLAP_MS`
 * into what was read before it (late-dated messages, a clock ahead of Twilio's). Whatever
 * was read before, the span up to now is always among them.
 */
export function windowsToRead(
  historyStart: Date,
  now: Date,
  covered: readonly TimeRange[],
): TimeRange[] {
  const start = historyStart < now ? historyStart : now;
  const spans = uncoveredSpans({ start, end: now }, covered);
  const last = spans[spans.length - 1];
  if (last === undefined || last.end.getTime() < now.getTime()) {
    spans.push({ start: now, end: now });
  }
  return spans.map((span) => ({
    start:
      span.start.getTime() > start.getTime()
        ? new Date(Math.max(start.getTime(), span.start.getTime() - INCREMENTAL_OVERLAP_MS))
        : span.start,
    end: span.end,
  }));
}

/** Cuts a window into at most `partitions` equal slices, none shorter than an hour. */
export function planSlices(window: TimeRange, partitions: number): TimeRange[] {
  const start = wholeSecond(window.start.getTime());
  const end = wholeSecond(window.end.getTime());
  const span = Math.max(0, end - start);
  const count = Math.max(1, Math.min(partitions, Math.floor(span / MIN_SLICE_MS)));
  const bounds = Array.from({ length: count + 1 }, (_, i) =>
    i === count ? end : wholeSecond(start + (span * i) / count),
  );
  return bounds.slice(0, -1).map((sliceStart, i) => ({
    start: new Date(sliceStart),
    end: new Date(bounds[i + 1]!),
  }));
}

/**
 * The filter that reads a slice. Slices share their boundary second and each reaches one
 * second further back, so every second is covered whether Twilio's `DateSent>`/`DateSent<`
 * turn out inclusive or exclusive; a message read twice is absorbed by its SID (and counted by
 * the slice whose own span holds it: see `SliceContext.ownsEnd`).
 */
export function sliceFilter(slice: TimeRange, last: boolean): MessageFilter {
  return {
    sentAfter: new Date(slice.start.getTime() - SECOND),
    sentBefore: new Date(slice.end.getTime() + (last ? SECOND : 0)),
  };
}

/**
 * Which messages of a Bulk Export day file the run counts as read from it. A day file holds
 * the whole UTC day, while the run's export windows end where its API windows begin (and may
 * start mid-day, at `--since`): the day where the two meet is read from both sources, so that
 * nothing falls between them. The ledger absorbs the repeat by SID; the count must too. A
 * message counts here when it lies in one of the account's export windows and in none of its
 * API windows (the API's pages count those). A message without a date is counted: no API
 * window can have shown it.
 */
export function countedFromExport(
  windows: readonly { source: string; windowStart: string; windowEnd: string }[],
): (dateSent: Date | null) => boolean {
  const ranges = (source: string) =>
    windows
      .filter((w) => w.source === source)
      .map((w) => ({ start: Date.parse(w.windowStart), end: Date.parse(w.windowEnd) }));
  const exported = ranges('export');
  const api = ranges('api');
  return (dateSent) => {
    if (dateSent === null) return true;
    const at = dateSent.getTime();
    return (
      exported.some((r) => at >= r.start && at <= r.end) &&
      !api.some((r) => at >= r.start && at <= r.end)
    );
  };
}
