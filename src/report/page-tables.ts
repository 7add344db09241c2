/**
 * report.html's tables and their cells: a sortable table, the filter box above one, and the
 * cells its sections share (a value, a time that may break before its `T`, a fraction, distinct
 * values one per line). Every value goes through `html`, which escapes it.
 */

import { html, literal, type Html } from './html.js';

export function filterBox(tableId: string, shown: number, what: string): Html {
  return html`<p class="no-print">
    <input
      type="search"
      data-filter="${tableId}"
      aria-label="Filter ${what}"
      placeholder="Filter ${what} (any words)"
    />
    <span class="muted"><span id="${tableId}-count">${shown}</span> shown</span>
  </p>`;
}

export function table(
  id: string,
  headers: readonly { label: string; num?: boolean }[],
  body: readonly Html[],
): Html {
  return html`<div class="wrap">
    <table id="${id}" data-sortable>
      <thead>
        <tr>
          ${headers.map(
            (h) =>
              html`<th scope="col" ${literal(h.num === true ? ' class="num"' : '')}>
                ${h.label}
              </th>`,
          )}
        </tr>
      </thead>
      <tbody>
        ${body}
      </tbody>
    </table>
  </div>`;
}

export const cell = (value: string | number | null | undefined, cls = ''): Html =>
  html`<td${literal(cls === '' ? '' : ` class="${cls}"`)}>${value ?? ''}</td>`;

/**
 * A time as ISO 8601, allowed to break before its `T` only (a <wbr>, no character: copied or
 * sorted, the value is the same), so a table of two times fits a laptop's width.
 */
export const timeCell = (value: string | number | null | undefined): Html => {
  const text = value === null || value === undefined ? '' : String(value);
  const at = text.indexOf('T');
  return at < 0
    ? cell(text, 'time')
    : html`<td class="time">${text.slice(0, at)}${literal('<wbr>')}${text.slice(at)}</td>`;
};

/** A figure shown as `done / of`, sorted by how many are done (the page's script reads data-sort). */
export const fraction = (done: number, of: number): Html =>
  html`<td class="num" data-sort="${done}">${done} / ${of}</td>`;

/** Distinct values, one per line, in the order first seen. */
export const lines = (values: readonly (string | number | null)[]): Html => {
  const distinct = [...new Set(values.filter((v) => v !== null && v !== ''))];
  return html`${distinct.map((v, i) => html`${i > 0 ? literal('<br>') : ''}${v}`)}`;
};
