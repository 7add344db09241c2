/**
 * The time arithmetic of a snapshot: where an account's history starts (found by probing,
 * not assumed), and how a window is cut into slices read side by side.
 */

import type { MessageFilter, TwilioPort } from '../twilio/port.js';

const SECOND = 1000;
const DAY = 86_400 * SECOND;

/** Twilio started in 2008: no account has a message before this. */
export const HISTORY_FLOOR = new Date(Date.UTC(2008, 0, 1));

/** A slice shorter than this is not worth a request of its own. */
export const MIN_SLICE_MS = 3_600 * SECOND;

/** Read again on an incremental run: late-dated messages and a clock ahead of Twilio's. */
export const INCREMENTAL_OVERLAP_MS = 10 * 60 * SECOND;

export interface TimeRange {
  start: Date;
  end: Date;
}

const wholeSecond = (ms: number) => Math.floor(ms / SECOND) * SECOND;

/**
 * The start of an account's history to the day: a binary search on "is there a message on
 * or before T" (one single-message page per probe, about 13 probes), or null when the
 * account has no messages at all.
 */
export async function probeOldestMessage(
  twilio: TwilioPort,
  accountSid: string,
  now: Date,
): Promise<Date | null> {
  const anyBefore = async (filter: MessageFilter) =>
    (await twilio.readMessagesPage(accountSid, { filter, pageSize: 1 })).messages.length > 0;
  if (!(await anyBefore({ sentBefore: now }))) return null;
  let none = HISTORY_FLOOR.getTime();
  let some = now.getTime();
  while (some - none > DAY) {
    const mid = wholeSecond((none + some) / 2);
    if (await anyBefore({ sentBefore: new Date(mid) })) some = mid;
    else none = mid;
  }
  return new Date(none);
}

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
 * turn out inclusive or exclusive; a message read twice is absorbed by its SID.
 */
export function sliceFilter(slice: TimeRange, last: boolean): MessageFilter {
  return {
    sentAfter: new Date(slice.start.getTime() - SECOND),
    sentBefore: new Date(slice.end.getTime() + (last ? SECOND : 0)),
  };
}
