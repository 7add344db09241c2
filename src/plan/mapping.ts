/**
 * The mapping CSV (docs/file-formats.md): which customer each phone number belongs to, and
 * what that customer's subaccount and Messaging Service are called. Parsed with csv-parse
 * (header names case-insensitive and trimmed, BOM accepted; CRLF, LF and a lone CR each end a
 * line, mixed in one file or not) and checked whole:
 * every problem is reported at once as `FILE:LINE: reason`, and nothing is planned while one
 * remains. This module reads no network and no database: it runs before either is touched.
 */

import { createHash } from 'node:crypto';

import { CsvError, parse } from 'csv-parse/sync';

import { UserError } from '../errors.js';

export interface MappingRow {
  /** The line of the file the row starts on (1 = the header). */
  line: number;
  customerId: string;
  customerName: string;
  /** E.164 (`+14155550100`) or a PN SID, as written. */
  phoneNumber: string;
  /** FriendlyName of the service to create or reuse in the subaccount; null = none. */
  messagingService: string | null;
  /** A pinned existing subaccount; null = match by name or create. */
  subaccountSid: string | null;
}

export interface Mapping {
  path: string;
  sha256: string;
  rows: MappingRow[];
}

/** One or more problems, each `FILE:LINE: reason`, printed as they are. */
export class MappingError extends UserError {
  constructor(readonly problems: readonly string[]) {
    super(
      `${problems.join('\n')}\n${problems.length} problem(s) in the mapping; nothing was planned.`,
    );
  }
}

const REQUIRED = ['customer_id', 'customer_name', 'phone_number'] as const;
const OPTIONAL = ['messaging_service', 'subaccount_sid'] as const;
const KNOWN = new Set<string>([...REQUIRED, ...OPTIONAL]);

export const E164 = /^\+[1-9]\d{7,14}$/;
export const NUMBER_SID = /^PN[0-9a-fA-F]{32}$/;
export const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
/**
 * The names Windows keeps for devices, alone or before a dot (`CON`, `nul.x`): a file so named
 * (optouts/CON.csv) cannot be written or copied there.
 */
const WINDOWS_DEVICE = /^(?:CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(?:\.|$)/i;
/**
 * Used in report file names (optouts/<customer_id>.csv): no separators, no leading dot, no
 * Windows device name.
 */
export const CUSTOMER_ID =
  /^(?!(?:CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(?:\.|$))[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/i;
/**
 * A customer_id a mapping allowed before Windows device names were refused: what a plan an
 * apply run recorded may hold (its reports are written again from it). Still no separator,
 * no leading dot: nothing outside the report folder.
 */
export const RECORDED_CUSTOMER_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/**
 * A customer_id as a file system that ignores case (macOS's, Windows') names its report file:
 * two customers' ids must differ in more than case. (A customer_id is ASCII.)
 */
export const foldedId = (customerId: string) => customerId.toLowerCase();
export const MAX_NAME = 64;

interface RawRecord {
  line: number;
  fields: string[];
}

/** Records with the line each starts on; an unterminated quote or a broken file is a problem. */
function readRecords(path: string, text: string): { records: RawRecord[]; problem?: string } {
  // Each line break as LF: a file saved with CRLF, one with a lone CR (old Mac), and one put
  // together from both are read alike, and a line is counted once whatever ends it, inside a
  // quoted field or not (csv-parse picks one record delimiter per file, and counts a CRLF
  // within a quoted field as two lines).
  const lines = text.replace(/\r\n?/g, '\n');
  return readPlainRecords(lines) ?? readAnyRecords(path, lines);
}

/**
 * A file that is not UTF-8 text: UTF-16 (as Excel's "Unicode Text" saves), bytes that are not
 * UTF-8 (a Windows-1252 export: read as U+FFFD), NUL bytes. Its values would reach Twilio
 * mangled, or be refused with reasons that show unreadable columns: it is refused as such,
 * naming each line that holds such a character.
 */
function encodingProblems(path: string, text: string): string[] {
  // A UTF-16 byte-order mark read as UTF-8 is two U+FFFD; UTF-16 without one has a NUL beside
  // every ASCII character.
  if (text.startsWith('\uFFFD\uFFFD') || /^\uFEFF?(?:\0|[^\0]\0)/.test(text)) {
    return [`${path}:1: the file is UTF-16, not UTF-8: save it as CSV UTF-8 and plan again`];
  }
  const problems: string[] = [];
  if (!/[\0\uFFFD]/.test(text)) return problems;
  text.split(/\r\n|\r|\n/).forEach((line, i) => {
    if (line.includes('\0')) {
      problems.push(`${path}:${i + 1}: holds a NUL byte: the file is not CSV text`);
    } else if (line.includes('\uFFFD')) {
      problems.push(
        `${path}:${i + 1}: holds bytes that are not UTF-8 (a file saved in another encoding, such as Windows-1252?): save it as CSV UTF-8 and plan again`,
      );
    }
  });
  return problems;
}

/**
 * The common case: a file with no quote (its line breaks already LF). Without quotes no field
 * can hold a comma or a line break, so its records are its non-empty lines, split at commas;
 * csv-parse (the general reader below) gives the same fields, and a test holds the two to
 * that. Asking csv-parse for each record's line (on_record's context) cost more than the
 * parse itself; this path takes a tenth of the time on a 100,000-row mapping. Null when the
 * file is not that simple.
 */
function readPlainRecords(text: string): { records: RawRecord[] } | null {
  if (text.includes('"')) return null;
  const records: RawRecord[] = [];
  let line = 1;
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const content = text.slice(start, end);
    if (content !== '') records.push({ line, fields: content.split(',') });
    line += 1;
    start = end + 1;
  }
  return { records };
}

function readAnyRecords(path: string, text: string): { records: RawRecord[]; problem?: string } {
  const records: RawRecord[] = [];
  let lastEnd = 0;
  try {
    parse(text, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      on_record: (record: string[], context) => {
        // `lines` is where the record ends; a quoted field may hold line breaks of its own.
        const inner = record.reduce((n, field) => n + (field.match(/\n/g)?.length ?? 0), 0);
        records.push({ line: context.lines - inner, fields: record });
        lastEnd = context.lines;
        return null;
      },
    });
  } catch (error) {
    if (error instanceof CsvError && error.code === 'CSV_QUOTE_NOT_CLOSED') {
      return {
        records,
        problem: `${path}:${lastEnd + 1}: a quoted field is never closed (an unterminated quote from here on)`,
      };
    }
    // csv-parse's own message quotes the character it met, a line break included: the
    // reason is said in one line of our own, on the line where the file stops being CSV.
    const code = (error as { code?: unknown }).code;
    const where = (error as { lines?: unknown }).lines;
    const reason =
      code === 'CSV_INVALID_CLOSING_QUOTE'
        ? 'a quoted field goes on after its closing quote (a quote inside a quoted field is written twice: "")'
        : code === 'INVALID_OPENING_QUOTE'
          ? 'a quote inside a field that does not start with one (quote the whole field, and write each quote inside it twice)'
          : `not valid CSV (${typeof code === 'string' ? code : 'unreadable'})`;
    return {
      records,
      problem: `${path}:${typeof where === 'number' && where > 0 ? where : lastEnd + 1}: ${reason}`,
    };
  }
  return { records };
}

/**
 * A subaccount_sid as Twilio writes it, its hex digits in lower case (the console shows them
 * so, and subaccounts are looked up by it): "AC0A…" and "AC0a…" pin one subaccount, as a
 * number's PN… SID is found whatever the case of its digits. Null when empty; anything else as
 * written, for checkRow to refuse.
 */
function accountSid(text: string): string | null {
  if (text === '') return null;
  return ACCOUNT_SID.test(text) ? `AC${text.slice(2).toLowerCase()}` : text;
}

/**
 * The separator of a header row that is one field holding every required column joined by
 * something else than a comma, as a spreadsheet in a locale whose decimal mark is a comma
 * writes "CSV" (semicolons), or a "text (tab-delimited)" export: named, with what likely wrote
 * it, where the columns it holds would otherwise each be reported unknown and the required ones
 * missing. Null for any other header.
 */
function otherSeparator(fields: readonly string[]): { name: string; why: string } | null {
  if (fields.length !== 1) return null;
  for (const [char, name, why] of [
    // Excel writes its "CSV" with the list separator of the system's region settings, a
    // semicolon where the decimal mark is a comma: saved "as CSV" again there, it is the same.
    [
      ';',
      'semicolons',
      ', as a spreadsheet writes "CSV" where the decimal mark is a comma (Excel puts the system\'s list separator between the columns, so saving it as CSV there again gives the same file): export it with a comma as the field delimiter (LibreOffice Calc: Field delimiter ","), or set the system\'s list separator to a comma and save it as CSV again',
    ],
    ['\t', 'tabs', ', as a "Text (Tab delimited)" export is: save it as CSV'],
    ['|', 'vertical bars', ': export it with a comma as the field delimiter'],
  ] as const) {
    const names = (fields[0] ?? '').split(char).map((field) => field.trim().toLowerCase());
    if (REQUIRED.every((column) => names.includes(column))) return { name, why };
  }
  return null;
}

export function parseMapping(path: string, text: string): Mapping {
  const sha256 = createHash('sha256').update(text).digest('hex');
  const problems: string[] = [];
  const at = (line: number, reason: string) => problems.push(`${path}:${line}: ${reason}`);
  const encoding = encodingProblems(path, text);
  if (encoding.length > 0) throw new MappingError(encoding);

  // A file that stops being CSV (an unterminated quote) is still checked up to that point,
  // so that every problem is reported at once; the break itself comes last.
  const { records, problem } = readRecords(path, text);
  const header = records[0];
  if (header === undefined && problem !== undefined) throw new MappingError([problem]);
  if (header === undefined) {
    throw new MappingError([
      `${path}:1: the file is empty; expected a header row (${REQUIRED.join(', ')})`,
    ]);
  }

  const separator = otherSeparator(header.fields);
  if (separator !== null) {
    throw new MappingError([
      `${path}:${header.line}: the columns are separated by ${separator.name}, not commas${separator.why}, and plan again`,
    ]);
  }

  const columns = header.fields.map((name) => name.trim().toLowerCase());
  const index = new Map<string, number>();
  columns.forEach((name, i) => {
    if (name === '') at(header.line, `column ${i + 1} has no name`);
    else if (!KNOWN.has(name)) {
      at(
        header.line,
        `unknown column ${quoted(header.fields[i] ?? '')} (columns are ${[...REQUIRED, ...OPTIONAL].join(', ')})`,
      );
    } else if (index.has(name)) at(header.line, `column "${name}" appears twice`);
    else index.set(name, i);
  });
  for (const name of REQUIRED) {
    if (!index.has(name)) at(header.line, `missing required column "${name}"`);
  }
  if (problems.length > 0)
    throw new MappingError(problem === undefined ? problems : [...problems, problem]);
  if (records.length === 1 && problem !== undefined) throw new MappingError([problem]);
  if (records.length === 1) {
    throw new MappingError([`${path}:${header.line}: a header but no rows: nothing to plan`]);
  }

  const rows: MappingRow[] = [];
  // Every row of the right width, valid or not: a row with a bad number still has a customer
  // whose name must agree with its other rows.
  const all: MappingRow[] = [];
  const get = (record: RawRecord, name: string) => {
    const i = index.get(name);
    return i === undefined ? '' : (record.fields[i] ?? '').trim();
  };
  for (const record of records.slice(1)) {
    if (record.fields.length !== columns.length) {
      // More fields than columns is most often a name with a comma in it ("Acme, Inc."),
      // which is no extra comma to the one who typed it: say how such a value is written.
      const why =
        record.fields.length > columns.length
          ? 'a value that holds a comma must be in double quotes, as "Acme, Inc."; or a comma is extra'
          : 'a missing comma?';
      at(
        record.line,
        `${record.fields.length} field(s) where the header has ${columns.length} (${why})`,
      );
      continue;
    }
    const row: MappingRow = {
      line: record.line,
      customerId: get(record, 'customer_id'),
      customerName: get(record, 'customer_name'),
      phoneNumber: get(record, 'phone_number'),
      messagingService: get(record, 'messaging_service') || null,
      subaccountSid: accountSid(get(record, 'subaccount_sid')),
    };
    const before = problems.length;
    checkRow(row, at);
    if (problems.length === before) rows.push(row);
    all.push(row);
  }
  checkAcrossRows(all, at);
  if (problem !== undefined) problems.push(problem);
  if (problems.length > 0) throw new MappingError(problems);
  return { path, sha256, rows };
}

/**
 * Characters a name cannot show: control characters other than a tab or a line break (which
 * a quoted field may hold), line and paragraph separators, and the invisible ones with no use
 * in a name — a zero-width space, a word joiner, a byte-order mark, a soft hyphen, and the
 * bidirectional embeddings, overrides and isolates that make text read other than it is
 * stored. A subaccount or service named with one looks exactly like one named without it, but
 * is not matched by it: the plan would create a second subaccount that reads the same as the
 * customer's own. The other characters that show nothing are refused too: the invisible operators
 * (U+2061–U+2064), the Mongolian vowel separator, the deprecated format characters, the
 * interlinear annotation marks, the combining grapheme joiner, the Hangul fillers, the Khmer
 * inherent vowels, the musical beam and slur marks, and the tag characters, but for those that
 * spell an emoji flag after U+1F3F4. (The zero-width joiner and non-joiner and the
 * left-to-right and right-to-left marks are allowed: scripts and emoji need them.)
 */
const UNSEEN =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u200B\u2028\u2029\u202A-\u202E\u2060\u2066-\u2069\uFEFF\u034F\u115F\u1160\u17B4\u17B5\u180E\u2061-\u2064\u206A-\u206F\u3164\uFFA0\uFFF9-\uFFFB\u{1D173}-\u{1D17A}\u{E0001}]|(?<![\u{1F3F4}\u{E0020}-\u{E007E}])[\u{E0020}-\u{E007F}]/u;

/**
 * Spaces that look like the plain one (U+0020) but are not: the no-break space a web page or a
 * word processor puts in a pasted name, the typographic spaces (en, em, thin, hair, figure…),
 * the narrow no-break space and the medium mathematical space. "Acme\u00A0Corp" reads exactly
 * as "Acme Corp" and does not match it. (The ideographic space, U+3000, is as wide as a CJK
 * character, looks unlike a plain space, and is at home in Japanese names: it is allowed.)
 */
const LOOKALIKE_SPACE = /[\u00A0\u2000-\u200A\u202F\u205F]/u;

/** What a problem writes out: the format characters, and every character a name cannot show. */
const WRITTEN_OUT = new RegExp(`[\\p{Cf}]|${UNSEEN.source}|${LOOKALIKE_SPACE.source}`, 'gu');

/**
 * A value as a problem shows it: in quotes and on one line, whatever the file held — a line
 * break of a quoted field, or a character one cannot see (a zero-width space, a BOM), is
 * written out (`\n`, `\u200B`) so the line says what differs.
 */
export const quoted = (value: string) =>
  JSON.stringify(value).replace(
    // A value not in NFC also has its combining marks written out: "Cafe\u0301" and "Café"
    // must not read alike in a line that says they differ.
    value === value.normalize('NFC') ? WRITTEN_OUT : WRITTEN_OR_MARK,
    // Each UTF-16 half of a character beyond U+FFFF (a tag character), as JSON writes it.
    (c) =>
      [...Array(c.length).keys()]
        .map((i) => `\\u${c.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`)
        .join(''),
  );
const WRITTEN_OR_MARK = new RegExp(`\\p{M}|${WRITTEN_OUT.source}`, 'gu');
const bare = (value: string) => quoted(value).slice(1, -1);

const codePoint = (c: string) =>
  `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** A name's characters that cannot be seen, or nothing. */
function unseen(
  column: string,
  value: string,
  line: number,
  at: (line: number, reason: string) => void,
): void {
  const found = UNSEEN.exec(value);
  if (found !== null) {
    at(
      line,
      `${column} ${quoted(value)} holds a character that cannot be seen (${codePoint(found[0])}): a name with it looks the same as one without it, but is another; remove it`,
    );
    return;
  }
  const space = LOOKALIKE_SPACE.exec(value);
  if (space !== null) {
    at(
      line,
      `${column} ${quoted(value)} holds a space that is not a plain one (${codePoint(space[0])}, as pasted from a web page or a word processor): the name looks the same as one typed with plain spaces, but is another; type a plain space`,
    );
    return;
  }
  const mark = decomposed(value);
  if (mark !== null) {
    at(
      line,
      `${column} ${quoted(value)} is not written in the usual (composed, NFC) form of its characters, from ${codePoint(mark)} on: it looks the same as ${quoted(value.normalize('NFC'))}, but is another name; retype it, or save the file with composed characters (Unicode NFC)`,
    );
  }
}

/**
 * The first character of a value that is not in Unicode NFC (a combining accent NFC would join
 * to the letter before it, or a character NFC replaces), or null: "Cafe\u0301" shows as
 * "Café" but is not the name typed with the one character é.
 */
function decomposed(value: string): string | null {
  if (value === value.normalize('NFC')) return null;
  let prefix = '';
  for (const c of value) {
    prefix += c;
    if (prefix !== prefix.normalize('NFC')) return c;
  }
  return null;
}

/**
 * A name's length as a FriendlyName's limit is held to: in UTF-16 code units, a character
 * beyond U+FFFF (an emoji, a rare CJK ideograph) counting as two. Twilio says "up to 64
 * characters" without saying how it counts them; a Java or JavaScript server counts so, and
 * it is never less than the count of code points. A name within it is within either count,
 * so a name Twilio might refuse is refused here, before anything is written, rather than by
 * Twilio half way through apply, with other customers' numbers already moved.
 */
const nameLength = (text: string) => text.length;

/** "N characters", and how an emoji counts when the name holds one. */
function describeLength(text: string): string {
  const points = [...text].length;
  return points === text.length
    ? `${text.length} characters`
    : `${text.length} characters as the limit counts them (${points} as written: a character beyond U+FFFF, such as an emoji, counts as two, since Twilio does not say how it counts)`;
}

function checkRow(row: MappingRow, at: (line: number, reason: string) => void): void {
  if (row.customerId === '') at(row.line, 'customer_id is empty');
  else if (WINDOWS_DEVICE.test(row.customerId)) {
    at(
      row.line,
      `customer_id ${quoted(row.customerId)} is a name Windows keeps for a device: its report file (optouts/${row.customerId}.csv) could not be written or copied there; give the customer another id`,
    );
  } else if (!CUSTOMER_ID.test(row.customerId)) {
    at(
      row.line,
      `customer_id ${quoted(row.customerId)} may hold only letters, digits, ".", "_", "@" and "-" (at most 64, not starting with a symbol)`,
    );
  }
  if (row.customerName === '') at(row.line, 'customer_name is empty');
  else unseen('customer_name', row.customerName, row.line, at);
  if (row.customerName !== '' && nameLength(row.customerName) > MAX_NAME) {
    at(
      row.line,
      `customer_name is ${describeLength(row.customerName)}; a subaccount's FriendlyName holds at most ${MAX_NAME}`,
    );
  }
  if (row.phoneNumber === '') at(row.line, 'phone_number is empty');
  else if (!E164.test(row.phoneNumber) && !NUMBER_SID.test(row.phoneNumber)) {
    at(
      row.line,
      `phone_number ${quoted(row.phoneNumber)} is neither E.164 (+ and 8–15 digits) nor a PN… SID`,
    );
  }
  if (row.messagingService !== null)
    unseen('messaging_service', row.messagingService, row.line, at);
  if (row.messagingService !== null && nameLength(row.messagingService) > MAX_NAME) {
    at(
      row.line,
      `messaging_service is ${describeLength(row.messagingService)}; a Messaging Service's FriendlyName holds at most ${MAX_NAME}`,
    );
  }
  if (row.subaccountSid !== null && !ACCOUNT_SID.test(row.subaccountSid)) {
    at(
      row.line,
      `subaccount_sid ${quoted(row.subaccountSid)} is not an Account SID (AC + 32 hex digits)`,
    );
  }
}

/** Duplicates and contradictions between rows, each reported on the later line. */
function checkAcrossRows(
  rows: readonly MappingRow[],
  at: (line: number, reason: string) => void,
): void {
  const byNumber = new Map<string, MappingRow>();
  const byCustomer = new Map<string, MappingRow>();
  const byName = new Map<string, MappingRow>();
  /** The first row of each customer_id as a file system that ignores case sees it. */
  const byFoldedId = new Map<string, MappingRow>();
  for (const row of rows) {
    // An empty field is reported on its own line already: it is compared with nothing.
    if (row.customerName !== '' && row.customerId !== '') {
      const namesake = byName.get(row.customerName);
      if (namesake === undefined) byName.set(row.customerName, row);
      else if (namesake.customerId !== row.customerId) {
        at(
          row.line,
          `customer_name ${quoted(row.customerName)} is also customer ${quoted(namesake.customerId)}'s name (line ${namesake.line}); subaccounts are matched by name, so names must differ`,
        );
      }
    }
    const key = row.phoneNumber.toUpperCase();
    if (key !== '' && row.customerId !== '') {
      const seen = byNumber.get(key);
      if (seen === undefined) byNumber.set(key, row);
      else if (seen.customerId === row.customerId) {
        at(row.line, `duplicate row: ${bare(row.phoneNumber)} is already on line ${seen.line}`);
      } else {
        at(
          row.line,
          `${bare(row.phoneNumber)} is mapped to customer ${quoted(row.customerId)} here and to ${quoted(seen.customerId)} on line ${seen.line}`,
        );
      }
    }
    if (row.customerId === '') continue;
    // optouts/<customer_id>.csv: on macOS and Windows "acme" and "ACME" name one file, so one
    // customer's list would be written over the other's (or the reports not written at all).
    const folded = foldedId(row.customerId);
    const alike = byFoldedId.get(folded);
    if (alike === undefined) byFoldedId.set(folded, row);
    else if (alike.customerId !== row.customerId) {
      at(
        row.line,
        `customer_id ${quoted(row.customerId)} differs from ${quoted(alike.customerId)} (line ${alike.line}) only in case: their report files (optouts/<customer_id>.csv) would be one file on macOS and Windows; write one customer's id the same way on every row, and give two customers ids that differ in more than case`,
      );
    }
    const first = byCustomer.get(row.customerId);
    if (first === undefined) {
      byCustomer.set(row.customerId, row);
      continue;
    }
    if (row.customerName !== '' && first.customerName !== row.customerName) {
      at(
        row.line,
        `customer ${quoted(row.customerId)} is named ${quoted(row.customerName)} here but ${quoted(first.customerName)} on line ${first.line}`,
      );
    }
    if (first.messagingService !== row.messagingService) {
      at(
        row.line,
        `customer ${quoted(row.customerId)} has messaging_service ${quoted(row.messagingService ?? '')} here but ${quoted(first.messagingService ?? '')} on line ${first.line} (one service per customer)`,
      );
    }
    if (first.subaccountSid !== row.subaccountSid) {
      at(
        row.line,
        `customer ${quoted(row.customerId)} is pinned to subaccount ${quoted(row.subaccountSid ?? '')} here but ${quoted(first.subaccountSid ?? '')} on line ${first.line}`,
      );
    }
  }
}
