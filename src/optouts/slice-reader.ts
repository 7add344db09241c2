/**
 * Reading one slice of an account's history, page after page, and the writer that commits
 * the evidence. Commits are batched (every ~25,000 messages, every two seconds, whenever a
 * slice ends, and two seconds after the last page when no other comes): a page's events and
 * its slice's progress always land in the same transaction, so a crash loses at most the
 * batch in hand, which the resumed run reads again.
 */

import { isoSeconds, type Clock } from '../clock.js';
import type { Db } from '../db/open.js';
import {
  recordPages,
  type PageRecord,
  type ServiceMessageRow,
  type SnapshotSlice,
} from '../db/snapshot-runs.js';
import { PageTrail } from '../twilio/page-trail.js';
import type { ServiceSighting, TwilioPort } from '../twilio/port.js';
import { splitAddress } from './channels.js';
import { classifyMessage } from './classify.js';
import { sliceFilter } from './windows.js';

export const PAGE_SIZE = 1000;
const SECOND = 1000;
const FLUSH_MESSAGES = 25_000;
const FLUSH_INTERVAL_MS = 2_000;

export interface SnapshotProgress {
  /**
   * Messages read, from the Messages API and from Bulk Export day files: each counted once,
   * by the source whose span holds it (read twice where the sources overlap).
   */
  messagesRead: number;
  /** Of those, the ones counted from day files. */
  exportMessagesRead: number;
  pagesRead: number;
  slicesDone: number;
  slicesTotal: number;
  /** Bulk Export days read (or reported empty by Twilio), of those the run reads. */
  daysDone: number;
  daysTotal: number;
  eventsAdded: number;
}

export class LedgerWriter {
  private pending: PageRecord[] = [];
  private pendingMessages = 0;
  private lastFlush: number;
  /** Commits what is in hand when no page has come for a while (a stall, a slow Twilio). */
  private idleFlush: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly runId: number,
    private readonly clock: Clock,
    private readonly progress: SnapshotProgress,
  ) {
    this.lastFlush = clock.now().getTime();
  }

  add(page: PageRecord): void {
    this.pending.push(page);
    this.pendingMessages += page.messagesRead;
    const due =
      page.nextPageUrl === null ||
      this.pendingMessages >= FLUSH_MESSAGES ||
      this.clock.now().getTime() - this.lastFlush >= FLUSH_INTERVAL_MS;
    if (due) this.flush();
    else if (this.idleFlush === null) {
      this.idleFlush = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
      this.idleFlush.unref();
    }
  }

  flush(): void {
    if (this.idleFlush !== null) {
      clearTimeout(this.idleFlush);
      this.idleFlush = null;
    }
    if (this.pending.length > 0) {
      this.progress.eventsAdded += recordPages(this.db, this.runId, this.pending);
    }
    this.pending = [];
    this.pendingMessages = 0;
    this.lastFlush = this.clock.now().getTime();
  }
}

export interface SliceContext {
  twilio: TwilioPort;
  writer: LedgerWriter;
  /** Phone number → the type Twilio reports for it (toll-free changes what YES means). */
  numberTypes: Promise<ReadonlyMap<string, string | null>>;
  progress: SnapshotProgress;
  onProgress?(progress: SnapshotProgress): void;
  /**
   * Whether the slice counts the messages of its last second (no other slice of the account
   * starts there). Slices share their boundary seconds, so each message is counted by one.
   */
  ownsEnd(slice: SnapshotSlice): boolean;
  /** Splitting, when the run wants it: whether a request slot is idle now, and the split. */
  splitting?: {
    wanted(): boolean;
    /**
     * Records the cut and starts reading the new (older) half. `recounted`: the messages of
     * the cut's second this slice counted so far, no longer its (the newer half counts them).
     */
    split(
      slice: SnapshotSlice,
      at: { start: string; mid: string; last: string },
      recounted: number,
    ): void;
  };
}

/**
 * The page's messages of each number through each service SID, as the ledger keeps them: under
 * the E.164 number a channel address carries (`rcs:+1…`), as the evidence is kept.
 */
export function serviceMessages(
  accountSid: string,
  sightings: readonly ServiceSighting[],
): ServiceMessageRow[] {
  return sightings.map((s) => ({
    phoneNumber: splitAddress(s.address).address,
    accountSid,
    serviceSid: s.serviceSid,
    first: isoSeconds(s.first),
    last: isoSeconds(s.last),
  }));
}

/** A slice's unread part shorter than this is not split: a request of its own costs more. */
export const MIN_SPLIT_MS = 60 * 60 * 1000;

/**
 * Reads a slice from where it stopped (its saved next page) or from its first page. When the
 * run has idle request slots and a full page leaves much of the slice unread, the unread part
 * is cut in two (see `SliceContext.split`): this slice goes on with the newer half from its
 * first page, the older half becomes a slice of its own.
 */
export async function readSlice(
  initial: SnapshotSlice,
  lastOfWindow: boolean,
  context: SliceContext,
): Promise<void> {
  const { twilio, writer, numberTypes, progress } = context;
  let slice = initial;
  let last = lastOfWindow;
  // Every page this call follows, so that one named again is not read again (page-trail.ts).
  const trail = new PageTrail();
  let next = trail.follow(slice.nextPageUrl);
  let fresh = next === null;
  // The oldest second counted so far, and how many messages of it: a cut reads it again.
  let tail = { second: Infinity, count: 0 };
  for (;;) {
    const range = { start: new Date(slice.sliceStart), end: new Date(slice.sliceEnd) };
    // A slice reads a second either side of its own (see `sliceFilter`): it counts the
    // messages of its span only, its last second only when no other slice starts there.
    const owned = {
      start: range.start.getTime(),
      end: range.end.getTime() + (context.ownsEnd(slice) ? SECOND : 0),
    };
    const page = await twilio.readMessagesPage(
      slice.accountSid,
      fresh
        ? { filter: sliceFilter(range, last), pageSize: PAGE_SIZE, only: 'inbound-or-error' }
        : { pageUrl: next!, only: 'inbound-or-error' },
    );
    // Checked before the page is recorded: its slice must not be saved as going on there.
    next = trail.follow(page.nextPageUrl);
    const types = await numberTypes;
    let counted = 0;
    for (const sent of page.sent) {
      if (sent === null) {
        counted += 1;
        continue;
      }
      const at = sent.getTime();
      if (at < owned.start || at >= owned.end) continue;
      counted += 1;
      const second = Math.floor(at / SECOND) * SECOND;
      if (second === tail.second) tail.count += 1;
      else if (second < tail.second) tail = { second, count: 1 };
    }
    writer.add({
      slice,
      messagesRead: counted,
      nextPageUrl: next,
      oldestSent: page.lastDateSent === null ? null : isoSeconds(page.lastDateSent),
      events: page.messages.flatMap((m) => classifyMessage(m, types) ?? []),
      services: serviceMessages(slice.accountSid, page.services ?? []),
    });
    progress.messagesRead += counted;
    progress.pagesRead += 1;
    if (next === null) progress.slicesDone += 1;
    context.onProgress?.({ ...progress });
    if (next === null) return;
    fresh = false;
    const oldest = page.lastDateSent?.getTime() ?? null;
    const start = range.start.getTime();
    const splitting = context.splitting;
    if (
      splitting !== undefined &&
      oldest !== null &&
      oldest - start >= MIN_SPLIT_MS &&
      splitting.wanted()
    ) {
      const at = {
        start: slice.sliceStart,
        mid: isoSeconds(new Date(Math.floor((start + oldest) / 2000) * 1000)),
        last: isoSeconds(new Date(Math.floor(oldest / 1000) * 1000)),
      };
      // What this slice read so far is committed before the slice changes shape.
      writer.flush();
      // The newer half reads the cut's second again, whole: it counts it from now on.
      const recounted = tail.second === Date.parse(at.last) ? tail.count : 0;
      progress.messagesRead -= recounted;
      tail = { second: Infinity, count: 0 };
      splitting.split(slice, at, recounted);
      slice = { ...slice, sliceStart: at.mid, sliceEnd: at.last, nextPageUrl: null };
      last = false;
      fresh = true;
    }
  }
}
