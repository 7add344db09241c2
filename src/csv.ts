/**
 * CSV for people who open it in a spreadsheet. Free-text cells that begin with `=`, `+`,
 * `-`, `@`, a tab or a carriage return would be read as a formula (OWASP "CSV injection"),
 * so they get a leading apostrophe. Only the columns named as free text are touched:
 * E.164 numbers begin with `+` and are validated elsewhere, and must stay as they are.
 */

import { stringify } from 'csv-stringify/sync';

import { fileText } from './files.js';

const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralizeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export function toCsv<Row extends Record<string, unknown>>(
  columns: readonly (keyof Row & string)[],
  rows: readonly Row[],
  freeText: readonly (keyof Row & string)[],
): string {
  return fileText((write) => writeCsv(columns, rows, freeText, write));
}

/** Rows stringified at a time by `writeCsv`: a file's text is never held whole. */
const CSV_CHUNK_ROWS = 1000;

/**
 * The CSV `toCsv` returns, handed to `write` a chunk of rows at a time: a list of a million rows
 * is written to its file without its whole text (and every cell's array) in memory at once.
 */
export function writeCsv<Row extends Record<string, unknown>>(
  columns: readonly (keyof Row & string)[],
  rows: Iterable<Row>,
  freeText: readonly (keyof Row & string)[],
  write: (chunk: string) => void,
): void {
  for (const chunk of csvChunks(columns, rows, freeText)) write(chunk);
}

/**
 * `writeCsv`'s chunks, each made only when asked for: a writer that must wait before taking
 * more (stdout read by a slow pipe) reads no further rows meanwhile. Each chunk ends at a row's
 * end (the header's, for the first).
 */
export function* csvChunks<Row extends Record<string, unknown>>(
  columns: readonly (keyof Row & string)[],
  rows: Iterable<Row>,
  freeText: readonly (keyof Row & string)[],
): Generator<string> {
  const free = new Set<string>(freeText);
  let header = true;
  const text = (chunk: readonly Row[]) => {
    const csv = stringify(
      chunk.map((row) =>
        columns.map((column) => {
          const value = row[column];
          if (value === null || value === undefined) return '';
          const text = String(value);
          return free.has(column) ? neutralizeFormula(text) : text;
        }),
      ),
      // A lone carriage return is a line break to most readers: quoted like the newline is.
      {
        header,
        columns: [...columns],
        record_delimiter: 'unix',
        quoted_match: /\r/,
      },
    );
    header = false;
    return csv;
  };
  // A chunk of rows at a time, read as they come: the rows may be a list too large to hold.
  let chunk: Row[] = [];
  for (const row of rows) {
    chunk.push(row);
    if (chunk.length === CSV_CHUNK_ROWS) {
      yield text(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0 || header) yield text(chunk);
}
