/**
 * Reading a Messages list page without materialising every message.
 *
 * A snapshot reads millions of messages and needs about one in ten: the inbound ones
 * (keywords) and the ones that failed (21610). Parsing a 1000-message page into objects was
 * most of the client's CPU and memory, so this reads the raw bytes once: it finds each element
 * of the `messages` array with a small tokenizer (strings skipped with a native search for
 * the next quote), reads two fields of each element in place — `direction` and `error_code` —
 * and hands only the elements that can matter to JSON.parse. The check is exact, not a guess:
 * in JSON a key like `"direction"` followed by `:` can only appear as a key, because a quote
 * inside a string value is always escaped.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** The end (exclusive) of the string whose opening quote is at `start`. */
function skipString(bytes: Buffer, start: number): number {
  let at = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, at);
    if (quote < 0) throw new SyntaxError('unterminated string in a Messages page');
    let backslashes = 0;
    for (let i = quote - 1; bytes[i] === BACKSLASH; i--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** The raw value bytes after `"key":` inside [start, end), or null when the key is absent. */
function valueAfter(bytes: Buffer, start: number, end: number, key: Buffer): number | null {
  let at = start;
  for (;;) {
    const found = bytes.indexOf(key, at);
    if (found < 0 || found >= end) return null;
    let i = found + key.length;
    while (isWhitespace(bytes[i])) i++;
    if (bytes[i] === 0x3a) {
      i++;
      while (isWhitespace(bytes[i])) i++;
      return i;
    }
    at = found + 1;
  }
}

const DIRECTION = Buffer.from('"direction"');
const ERROR_CODE = Buffer.from('"error_code"');
const INBOUND = Buffer.from('"inbound"');
const NULL = Buffer.from('null');

function startsWith(bytes: Buffer, at: number, literal: Buffer): boolean {
  return bytes.compare(literal, 0, literal.length, at, at + literal.length) === 0;
}

/** Whether a message element is inbound or carries an error code. */
export function isInboundOrError(bytes: Buffer, start: number, end: number): boolean {
  const direction = valueAfter(bytes, start, end, DIRECTION);
  if (direction !== null && startsWith(bytes, direction, INBOUND)) return true;
  const error = valueAfter(bytes, start, end, ERROR_CODE);
  return error !== null && !startsWith(bytes, error, NULL);
}

export interface ScannedPage<T> {
  /** The elements kept, parsed. */
  kept: T[];
  /** How many elements the `messages` array held. */
  total: number;
  /** The envelope (next_page_uri and the rest), its `messages` array emptied. */
  envelope: Record<string, unknown>;
}

/**
 * Splits a list page into its `messages` elements, keeping (and parsing) those for which
 * `keep(bytes, start, end)` holds. Throws SyntaxError on a body that is not such a page.
 */
export function scanMessagePage<T>(
  bytes: Buffer,
  keep: (bytes: Buffer, start: number, end: number) => boolean,
): ScannedPage<T> {
  const kept: T[] = [];
  let total = 0;
  let depth = 0;
  let lastKey: [number, number] | null = null;
  let array: [number, number] | null = null;
  let inMessages = false;
  let elementStart = -1;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      const end = skipString(bytes, i);
      if (depth === 1) lastKey = [i + 1, end - 1];
      i = end - 1;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
      if (depth === 2 && byte === OPEN_ARRAY && lastKey !== null) {
        inMessages = bytes.toString('latin1', lastKey[0], lastKey[1]) === 'messages';
        if (inMessages) array = [i, -1];
      } else if (depth === 3 && inMessages && byte === OPEN_OBJECT) {
        elementStart = i;
      }
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (depth === 3 && inMessages && byte === CLOSE_OBJECT) {
        total++;
        if (keep(bytes, elementStart, i + 1)) {
          kept.push(JSON.parse(bytes.toString('utf8', elementStart, i + 1)) as T);
        }
      } else if (depth === 2 && inMessages && byte === CLOSE_ARRAY && array !== null) {
        array[1] = i + 1;
        inMessages = false;
      }
      depth--;
    }
  }
  if (array === null || array[1] < 0) {
    throw new SyntaxError('a Messages page without a "messages" array');
  }
  const envelope = JSON.parse(
    bytes.toString('utf8', 0, array[0]) + '[]' + bytes.toString('utf8', array[1]),
  ) as Record<string, unknown>;
  return { kept, total, envelope };
}
