/**
 * Messages kept per account in date order, with indexes by `To` and `From`, so that a list
 * request with date filters is a binary search and a page is a short walk, even with a
 * million messages. Order is (date_sent, arrival) ascending; lists read it backwards
 * (newest first, as Twilio does). A page token names a message, and the next page starts
 * strictly after it in that order, so pages stay stable while new messages arrive.
 * Every message is stored with `date_created` equal to `date_sent`, so a bound on either date
 * (the retention window bounds `date_created`) is a bound on this order.
 */

import { JsonArena } from './json-arena.js';

export type MessageDirection = 'inbound' | 'outbound-api' | 'outbound-call' | 'outbound-reply';

export interface MessageRecord {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  direction: MessageDirection;
  status: string;
  /** Milliseconds since the epoch, whole seconds (Twilio's resolution). */
  dateSent: number;
  dateCreated: number;
  dateUpdated: number;
  errorCode: number | null;
  messagingServiceSid: string | null;
  numSegments: number;
  price: string | null;
  /** Arrival order; breaks ties between messages sent in the same second. */
  seq: number;
  /** Where the message's JSON sits in the store's arena once rendered (chunk -1: not yet). */
  jsonChunk: number;
  jsonStart: number;
  jsonEnd: number;
}

function compare(a: MessageRecord, b: MessageRecord): number {
  return a.dateSent - b.dateSent || a.seq - b.seq;
}

/** First index whose item is not before `probe` (items are ascending). */
function lowerBound<T>(items: readonly T[], before: (item: T) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(items[mid] as T)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(items: MessageRecord[], record: MessageRecord): void {
  const last = items[items.length - 1];
  if (last === undefined || compare(last, record) < 0) {
    items.push(record);
    return;
  }
  items.splice(
    lowerBound(items, (item) => compare(item, record) < 0),
    0,
    record,
  );
}

export interface MessageQuery {
  to?: string | undefined;
  from?: string | undefined;
  /** Inclusive bounds on date_sent, in milliseconds. */
  minDate?: number | undefined;
  maxDate?: number | undefined;
}

export type PageCursor =
  | { kind: 'first' }
  | { kind: 'after'; record: MessageRecord }
  | { kind: 'before'; record: MessageRecord };

export interface QueryPage {
  items: MessageRecord[];
  hasMore: boolean;
}

class AccountMessages {
  readonly all: MessageRecord[] = [];
  readonly byTo = new Map<string, MessageRecord[]>();
  readonly byFrom = new Map<string, MessageRecord[]>();

  add(record: MessageRecord): void {
    insertSorted(this.all, record);
    insertSorted(listFor(this.byTo, record.to), record);
    insertSorted(listFor(this.byFrom, record.from), record);
  }
}

function listFor(index: Map<string, MessageRecord[]>, key: string): MessageRecord[] {
  let list = index.get(key);
  if (list === undefined) {
    list = [];
    index.set(key, list);
  }
  return list;
}

export class MessageStore {
  private readonly accounts = new Map<string, AccountMessages>();
  private readonly bySid = new Map<string, MessageRecord>();
  private readonly arena = new JsonArena();
  private nextSeq = 1;

  get size(): number {
    return this.bySid.size;
  }

  /** Stores a message; `seq` is assigned here, in call order. */
  add(record: Omit<MessageRecord, 'seq' | 'jsonChunk' | 'jsonStart' | 'jsonEnd'>): MessageRecord {
    // Spelled out rather than spread: a spread copy of a million records costs seconds.
    const stored: MessageRecord = {
      sid: record.sid,
      accountSid: record.accountSid,
      from: record.from,
      to: record.to,
      body: record.body,
      direction: record.direction,
      status: record.status,
      dateSent: record.dateSent,
      dateCreated: record.dateCreated,
      dateUpdated: record.dateUpdated,
      errorCode: record.errorCode,
      messagingServiceSid: record.messagingServiceSid,
      numSegments: record.numSegments,
      price: record.price,
      seq: this.nextSeq++,
      jsonChunk: -1,
      jsonStart: 0,
      jsonEnd: 0,
    };
    let account = this.accounts.get(stored.accountSid);
    if (account === undefined) {
      account = new AccountMessages();
      this.accounts.set(stored.accountSid, account);
    }
    account.add(stored);
    this.bySid.set(stored.sid, stored);
    return stored;
  }

  get(sid: string): MessageRecord | undefined {
    return this.bySid.get(sid);
  }

  clear(): void {
    this.accounts.clear();
    this.bySid.clear();
    this.arena.clear();
    this.nextSeq = 1;
  }

  /** A message's JSON bytes: rendered on first use, then served from the arena. */
  json(record: MessageRecord, render: (record: MessageRecord) => string): Buffer {
    if (record.jsonChunk < 0) this.arena.store(record, render(record));
    return this.arena.view(record);
  }

  /** How many of an account's messages were sent within [min, max] (inclusive). */
  countBetween(accountSid: string, min: number, max: number): number {
    const [lo, hi] = bounds(this.accounts.get(accountSid)?.all ?? [], min, max);
    return hi - lo;
  }

  /**
   * An account's messages sent within [min, max], oldest first: a copy of the references (not
   * the messages), so that a reader streaming them is not disturbed by messages arriving.
   */
  between(accountSid: string, min: number, max: number): MessageRecord[] {
    const all = this.accounts.get(accountSid)?.all ?? [];
    const [lo, hi] = bounds(all, min, max);
    return all.slice(lo, hi);
  }

  /** One page of an account's messages matching `query`, newest first, from `cursor`. */
  page(accountSid: string, query: MessageQuery, cursor: PageCursor, pageSize: number): QueryPage {
    const account = this.accounts.get(accountSid);
    if (account === undefined) return { items: [], hasMore: false };
    const { list, matches } = pickIndex(account, query);
    let lo = query.minDate === undefined ? 0 : lowerBound(list, (m) => m.dateSent < query.minDate!);
    let hi =
      query.maxDate === undefined
        ? list.length
        : lowerBound(list, (m) => m.dateSent <= query.maxDate!);

    if (cursor.kind === 'before') {
      // The page just newer than `record`: walk upwards, then hand back newest first.
      lo = Math.max(
        lo,
        lowerBound(list, (m) => compare(m, cursor.record) <= 0),
      );
      const items: MessageRecord[] = [];
      let i = lo;
      for (; i < hi && items.length < pageSize; i++) {
        const m = list[i] as MessageRecord;
        if (matches(m)) items.push(m);
      }
      return { items: items.reverse(), hasMore: true };
    }
    if (cursor.kind === 'after') {
      hi = Math.min(
        hi,
        lowerBound(list, (m) => compare(m, cursor.record) < 0),
      );
    }
    const items: MessageRecord[] = [];
    let i = hi - 1;
    for (; i >= lo && items.length < pageSize; i--) {
      const m = list[i] as MessageRecord;
      if (matches(m)) items.push(m);
    }
    let hasMore = false;
    for (; i >= lo; i--) {
      if (matches(list[i] as MessageRecord)) {
        hasMore = true;
        break;
      }
    }
    return { items, hasMore };
  }
}

/** The smallest index that answers the query, and the check for what it doesn't cover. */
function pickIndex(
  account: AccountMessages,
  query: MessageQuery,
): { list: readonly MessageRecord[]; matches: (m: MessageRecord) => boolean } {
  const { to, from } = query;
  const byTo = to === undefined ? undefined : (account.byTo.get(to) ?? []);
  const byFrom = from === undefined ? undefined : (account.byFrom.get(from) ?? []);
  if (byTo !== undefined && byFrom !== undefined) {
    return byTo.length <= byFrom.length
      ? { list: byTo, matches: (m) => m.from === from }
      : { list: byFrom, matches: (m) => m.to === to };
  }
  if (byTo !== undefined) return { list: byTo, matches: () => true };
  if (byFrom !== undefined) return { list: byFrom, matches: () => true };
  return { list: account.all, matches: () => true };
}

/** The index range [lo, hi) of messages sent within [min, max] in an ascending list. */
function bounds(list: readonly MessageRecord[], min: number, max: number): [number, number] {
  return [lowerBound(list, (m) => m.dateSent < min), lowerBound(list, (m) => m.dateSent <= max)];
}
