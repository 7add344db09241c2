/**
 * Reading a Messages list page without materialising every message.
 *
 * A snapshot reads millions of messages and needs about one in ten: the inbound ones
 * (keywords) and the ones that failed (21610). Parsing each 1000-message page into objects
 * was most of the client's CPU and memory, so this reads the raw bytes once, with a small
 * tokenizer: strings are skipped with a native search for the next quote, the elements of
 * the `messages` array are delimited by bracket depth, and three fields of each element are
 * read in passing — the `direction` value, whether `error_code` is null, and `date_sent` as
 * written (a snapshot counts each message once by it). Only the elements that can matter go
 * to JSON.parse. Nothing is guessed: a key is recognised only in key
 * position of an element, so a body that merely contains the words changes nothing.
 *
 * Three more are read in passing, `from`, `to` and `messaging_service_sid`: a message of a
 * number through a Messaging Service (its send, or one it received) shows the number was in
 * that service then, and the scan gives, for each number and service SID of the page, the
 * first and last such message (`services`), kept or not.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const LETTER_N = 0x6e;

const DIRECTION = Buffer.from('direction');
const ERROR_CODE = Buffer.from('error_code');
const DATE_SENT = Buffer.from('date_sent');
const INBOUND = Buffer.from('inbound');
const MESSAGES = Buffer.from('messages');
const FROM = Buffer.from('from');
const TO = Buffer.from('to');
const SERVICE = Buffer.from('messaging_service_sid');

export type PageFilter = 'inbound-or-error' | null;

export interface ScannedPage<T> {
  /** The elements kept, parsed. */
  kept: T[];
  /** How many elements the `messages` array held. */
  total: number;
  /** Each element's `date_sent` as written (null when null or absent), in page order. */
  sent: (string | null)[];
  /** The envelope (next_page_uri and the rest), its `messages` array emptied. */
  envelope: Record<string, unknown>;
  /**
   * The page's last element, parsed (null on an empty page): a list is newest first, so on a
   * slice's last page this is the oldest message Twilio showed.
   */
  last: T | null;
  /**
   * Each Twilio-side address (the sender of a message sent, the `to` of one received) and
   * `messaging_service_sid` the page's dated messages carried, with the earliest and latest
   * `date_sent` (ms) among them: whether the SID is a service at all is the reader's to judge
   * (Twilio may write one default SID on every message sent without a service).
   */
  services: ServiceMessages[];
}

/** A number's messages through one service SID on a page: [address, SID, first, last]. */
export type ServiceMessages = [address: string, service: string, first: number, last: number];

/** Whether bytes[start, end) spell `word`. */
function spells(bytes: Buffer, start: number, end: number, word: Buffer): boolean {
  return end - start === word.length && bytes.compare(word, 0, word.length, start, end) === 0;
}

/** The index of the quote that closes the string opened at `open`. */
function closingQuote(bytes: Buffer, open: number): number {
  let quote = bytes.indexOf(QUOTE, open + 1);
  while (quote > 0 && bytes[quote - 1] === BACKSLASH) {
    let backslashes = 1;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) break;
    quote = bytes.indexOf(QUOTE, quote + 1);
  }
  if (quote < 0) throw new SyntaxError('unterminated string in a Messages page');
  return quote;
}

const enum Field {
  Other,
  Direction,
  ErrorCode,
  DateSent,
  From,
  To,
  Service,
}

/** The field a key names, told by its length first: most keys of an element are none of these. */
function keyField(bytes: Buffer, start: number, end: number): Field {
  switch (end - start) {
    case 2:
      return spells(bytes, start, end, TO) ? Field.To : Field.Other;
    case 4:
      return spells(bytes, start, end, FROM) ? Field.From : Field.Other;
    case 9:
      return spells(bytes, start, end, DIRECTION)
        ? Field.Direction
        : spells(bytes, start, end, DATE_SENT)
          ? Field.DateSent
          : Field.Other;
    case 10:
      return spells(bytes, start, end, ERROR_CODE) ? Field.ErrorCode : Field.Other;
    case 21:
      return spells(bytes, start, end, SERVICE) ? Field.Service : Field.Other;
    default:
      return Field.Other;
  }
}

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/**
 * A `date_sent` as Twilio writes it (`Fri, 28 Feb 2025 16:20:03 +0000`), in ms: read by its
 * fixed places, which costs a tenth of Date.parse (a snapshot reads a million of them); any
 * other form by Date.parse.
 */
export function timeOf(date: string): number {
  const month = date.length === 31 ? MONTHS.indexOf(date.slice(8, 11)) : -1;
  if (month < 0 || month % 3 !== 0 || !date.endsWith(' +0000') || date[3] !== ',') {
    return Date.parse(date);
  }
  const number = (from: number, to: number) => {
    let n = 0;
    for (let i = from; i < to; i++) {
      const digit = date.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return NaN;
      n = n * 10 + digit;
    }
    return n;
  };
  const at = Date.UTC(
    number(12, 16),
    month / 3,
    number(5, 7),
    number(17, 19),
    number(20, 22),
    number(23, 25),
  );
  return Number.isNaN(at) ? Date.parse(date) : at;
}

/** A string value as written between its quotes, unescaped only when it holds a backslash. */
function stringAt(bytes: Buffer, start: number, end: number): string {
  const raw = bytes.toString('utf8', start, end);
  return raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
}

/**
 * Splits a list page into its `messages` elements and parses those the filter keeps
 * (all of them when `only` is null). Throws SyntaxError on a body that is not such a page.
 */
export function scanMessagePage<T>(bytes: Buffer, only: PageFilter): ScannedPage<T> {
  const kept: T[] = [];
  const sent: (string | null)[] = [];
  let total = 0;
  let depth = 0;
  let keyStart = -1;
  let keyEnd = -1;
  let arrayStart = -1;
  let arrayEnd = -1;
  let inMessages = false;
  // Within one element (depth 3): where it starts, and what its two fields said.
  let elementStart = -1;
  let expectKey = false;
  let field = Field.Other;
  let inbound = false;
  let hasError = false;
  let dateSent: string | null = null;
  // Where the element's `from`, `to` and `messaging_service_sid` strings are (-1: null or none).
  let fromAt = -1;
  let fromEnd = -1;
  let toAt = -1;
  let toEnd = -1;
  let serviceAt = -1;
  let serviceEnd = -1;
  // Service SID → Twilio-side address → what the page's messages show, both as written.
  const services = new Map<string, Map<string, ServiceMessages>>();
  let lastStart = -1;
  let lastEnd = -1;

  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) {
      const close = closingQuote(bytes, i);
      if (depth === 1) {
        keyStart = i + 1;
        keyEnd = close;
      } else if (depth === 3 && inMessages) {
        if (expectKey) {
          field = keyField(bytes, i + 1, close);
          expectKey = false;
        } else {
          if (field === Field.Direction) inbound = spells(bytes, i + 1, close, INBOUND);
          else if (field === Field.ErrorCode) hasError = true;
          else if (field === Field.DateSent) dateSent = bytes.toString('utf8', i + 1, close);
          else if (field === Field.From) [fromAt, fromEnd] = [i + 1, close];
          else if (field === Field.To) [toAt, toEnd] = [i + 1, close];
          else if (field === Field.Service) [serviceAt, serviceEnd] = [i + 1, close];
          field = Field.Other;
        }
      }
      i = close;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
      if (depth === 2 && byte === OPEN_ARRAY) {
        inMessages = spells(bytes, keyStart, keyEnd, MESSAGES);
        if (inMessages) arrayStart = i;
      } else if (depth === 3 && inMessages && byte === OPEN_OBJECT) {
        elementStart = i;
        expectKey = true;
        field = Field.Other;
        inbound = false;
        hasError = false;
        dateSent = null;
        fromAt = toAt = serviceAt = -1;
      } else if (depth === 4) {
        field = Field.Other;
      }
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (depth === 3 && inMessages && byte === CLOSE_OBJECT) {
        total++;
        sent.push(dateSent);
        lastStart = elementStart;
        lastEnd = i + 1;
        if (only === null || inbound || hasError) {
          kept.push(JSON.parse(bytes.toString('utf8', elementStart, i + 1)) as T);
        }
        const sideAt = inbound ? toAt : fromAt;
        if (serviceAt >= 0 && sideAt >= 0 && dateSent !== null) {
          const at = timeOf(dateSent);
          if (!Number.isNaN(at)) {
            // Looked up by the bytes as written (latin1: one character a byte, no decoding),
            // decoded only for a pair the page has not shown yet.
            const sideEnd = inbound ? toEnd : fromEnd;
            const serviceKey = bytes.toString('latin1', serviceAt, serviceEnd);
            let ofService = services.get(serviceKey);
            if (ofService === undefined) services.set(serviceKey, (ofService = new Map()));
            const addressKey = bytes.toString('latin1', sideAt, sideEnd);
            const seen = ofService.get(addressKey);
            if (seen === undefined) {
              const address = stringAt(bytes, sideAt, sideEnd);
              const service = stringAt(bytes, serviceAt, serviceEnd);
              ofService.set(addressKey, [address, service, at, at]);
            } else if (at < seen[2]) seen[2] = at;
            else if (at > seen[3]) seen[3] = at;
          }
        }
      } else if (depth === 2 && inMessages && byte === CLOSE_ARRAY) {
        arrayEnd = i + 1;
        inMessages = false;
      }
      depth--;
    } else if (depth === 3 && inMessages) {
      if (byte === COMMA) {
        expectKey = true;
      } else if (field === Field.ErrorCode && byte !== COLON && byte > 0x20) {
        // The error_code value is a bare literal: a number, or null.
        hasError = byte !== LETTER_N;
        field = Field.Other;
      }
    }
  }
  if (arrayStart < 0 || arrayEnd < 0) {
    throw new SyntaxError('a Messages page without a "messages" array');
  }
  const envelope = JSON.parse(
    bytes.toString('utf8', 0, arrayStart) + '[]' + bytes.toString('utf8', arrayEnd),
  ) as Record<string, unknown>;
  const last = lastStart < 0 ? null : (JSON.parse(bytes.toString('utf8', lastStart, lastEnd)) as T);
  const pairs = [...services.values()].flatMap((ofService) => [...ofService.values()]);
  return { kept, total, sent, envelope, last, services: pairs };
}
