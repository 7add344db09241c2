/**
 * Reading one slice of an account's history, page after page, and the writer that commits
 * the evidence. Commits are batched (every ~25,000 messages, every two seconds, whenever a
 * slice ends, and two seconds after the last page when no other comes): a page's events and
 * its slice's progress always land in the same transaction, so a crash loses at most the
 * batch in hand, which the resumed run reads again.
 */

import { isoSeconds, type Clock } from '../clock.js';
import type { Db } from '../db/open.js';
import { recordPages, type PageRecord, type SnapshotSlice } from '../db/snapshot-runs.js';
import type { TwilioPort } from '../twilio/port.js';
import { classifyMessage } from './classify.js';
import { sliceFilter } from './windows.js';

export const PAGE_SIZE = 1000;
const FLUSH_MESSAGES = 25_000;
const FLUSH_INTERVAL_MS = 2_000;

export interface SnapshotProgress {
  /** Messages read, from the Messages API and from Bulk Export day files. */
  messagesRead: number;
  /** Of those, the ones read from day files. */
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
  numberTypes: ReadonlyMap<string, string | null>;
  progress: SnapshotProgress;
  onProgress?(progress: SnapshotProgress): void;
}

/** Reads a slice from where it stopped (its saved next page) or from its first page. */
export async function readSlice(
  slice: SnapshotSlice,
  lastOfWindow: boolean,
  context: SliceContext,
): Promise<void> {
  const { twilio, writer, numberTypes, progress } = context;
  const range = { start: new Date(slice.sliceStart), end: new Date(slice.sliceEnd) };
  let next = slice.nextPageUrl;
  do {
    const page = await twilio.readMessagesPage(
      slice.accountSid,
      next === null
        ? {
            filter: sliceFilter(range, lastOfWindow),
            pageSize: PAGE_SIZE,
            only: 'inbound-or-error',
          }
        : { pageUrl: next, only: 'inbound-or-error' },
    );
    writer.add({
      slice,
      messagesRead: page.scanned,
      nextPageUrl: page.nextPageUrl,
      oldestSent: page.lastDateSent === null ? null : isoSeconds(page.lastDateSent),
      events: page.messages.flatMap((m) => classifyMessage(m, numberTypes) ?? []),
    });
    next = page.nextPageUrl;
    progress.messagesRead += page.scanned;
    progress.pagesRead += 1;
    if (next === null) progress.slicesDone += 1;
    context.onProgress?.({ ...progress });
  } while (next !== null);
}
