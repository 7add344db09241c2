/**
 * CSV for people who open it in a spreadsheet. Free-text cells that begin with `=`, `+`,
 * `-`, `@`, a tab or a carriage return would be read as a formula (OWASP "CSV injection"),
 * so they get a leading apostrophe. Only the columns named as free text are touched:
 * E.164 numbers begin with `+` and are validated elsewhere, and must stay as they are.
 */

import { stringify } from 'csv-stringify/sync';

const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralizeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export function toCsv<Row extends Record<string, unknown>>(
  columns: readonly (keyof Row & string)[],
  rows: readonly Row[],
  freeText: readonly (keyof Row & string)[],
): string {
  const free = new Set<string>(freeText);
  return stringify(
    rows.map((row) =>
      columns.map((column) => {
        const value = row[column];
        if (value === null || value === undefined) return '';
        const text = String(value);
        return free.has(column) ? neutralizeFormula(text) : text;
      }),
    ),
    // A lone carriage return is a line break to most readers: quoted like the newline is.
    { header: true, columns: [...columns], record_delimiter: 'unix', quoted_match: /\r/ },
  );
}
