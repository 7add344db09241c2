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
