/**
 * Bulk Export day files for Messages: gzip-compressed JSON lines, one message
 * per line, oldest first by `date_sent`, with the export's field set (the Message resource
 * without `uri`, `subresource_uris`, `error_message`, `price_unit`, `api_version`, and with ISO
 * 8601 UTC dates). A file is produced when it is read, from the message store: a
 * million-message history is never held rendered in memory, at most one day of it.
 */

import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';

import type { MessageRecord } from '../message-store.js';
import { iso8601 } from '../render.js';

export const DAY_MS = 86_400_000;
const BATCH = 500;

/** `YYYY-MM-DD` as the first millisecond of that UTC day, or null when no such day exists. */
export function parseDay(text: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return null;
  const start = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  // Date.UTC rolls 2025-02-30 over into March: such a day does not exist.
  return dayOf(start) === text ? start : null;
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The first and last second of a UTC day, inclusive bounds on `date_sent`. */
export function dayBounds(day: string): [number, number] {
  const start = parseDay(day);
  if (start === null) throw new Error(`not a day: ${day}`);
  return [start, start + DAY_MS - 1000];
}

const text = JSON.stringify;
const nullable = (value: string | null) => (value === null ? 'null' : text(value));

/**
 * One line of a Messages day file, with its newline. Written out key by key rather than
 * through an object: it is the cost of every message of a file (strings still go through
 * JSON.stringify, so any body is escaped as JSON).
 */
export function renderExportLine(m: MessageRecord): string {
  const sent = iso8601(m.dateSent);
  const created = m.dateCreated === m.dateSent ? sent : iso8601(m.dateCreated);
  const updated = m.dateUpdated === m.dateSent ? sent : iso8601(m.dateUpdated);
  return (
    `{"sid":${text(m.sid)},"account_sid":${text(m.accountSid)},` +
    `"messaging_service_sid":${nullable(m.messagingServiceSid)},"from":${text(m.from)},` +
    `"to":${text(m.to)},"body":${text(m.body)},"status":${text(m.status)},` +
    `"direction":${text(m.direction)},"num_segments":"${m.numSegments}","num_media":"0",` +
    `"price":${nullable(m.price)},"error_code":${m.errorCode === null ? 'null' : m.errorCode},` +
    `"date_created":"${created}","date_updated":"${updated}","date_sent":"${sent}"}\n`
  );
}

function* lineBatches(messages: readonly MessageRecord[]): Generator<Buffer> {
  for (let i = 0; i < messages.length; i += BATCH) {
    let lines = '';
    for (const message of messages.slice(i, i + BATCH)) lines += renderExportLine(message);
    yield Buffer.from(lines);
  }
}

/**
 * A day of up to this many messages (about 25 MB of JSON) is compressed in one synchronous
 * call, three times faster than zlib's stream; a bigger day is streamed batch by batch.
 */
const WHOLE_DAY_LIMIT = 50_000;

/**
 * The gzip bytes of a day file for these messages (oldest first). zlib's output does not
 * depend on how its input is cut into writes, so both ways give the same bytes for the same
 * messages: the size listed for a day is the size downloaded.
 */
export function dayFileStream(messages: readonly MessageRecord[]): Readable {
  if (messages.length <= WHOLE_DAY_LIMIT) {
    let lines = '';
    for (const message of messages) lines += renderExportLine(message);
    return Readable.from([gzipSync(Buffer.from(lines))], { objectMode: false });
  }
  const gzip = createGzip();
  const lines = Readable.from(lineBatches(messages), { objectMode: false });
  lines.on('error', (error) => gzip.destroy(error));
  return lines.pipe(gzip);
}

/** How many bytes a stream yields, reading it to the end. */
export async function byteLength(stream: Readable): Promise<number> {
  let size = 0;
  for await (const chunk of stream) size += (chunk as Buffer).length;
  return size;
}
