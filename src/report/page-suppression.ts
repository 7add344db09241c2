/**
 * report.html's Suppression lists section: every row of the list with the message that proves
 * it, or, above `PAGE_LIST_ROWS` rows, each customer's count and the file beside the page that
 * holds its rows.
 */

import { unvouchedCustomers } from '../optouts/export.js';
import { customerList } from './files.js';
import { html, type Html } from './html.js';
import { listCounts } from './page-figures.js';
import type { ReportPageInput } from './page-input.js';
import { cell, filterBox, table, timeCell } from './page-tables.js';

/**
 * A word and the SID it is about in one cell (the service a person opted out of, the message
 * that proves it): one column fewer, so the suppression list fits a laptop's width.
 */
const withSid = (word: string | null, sid: string | null): Html =>
  html`<td>
    ${word ?? ''}${sid === null || sid === '' ? '' : html`<br /><span class="sid">${sid}</span>`}
  </td>`;

/**
 * Above this many list rows the page shows each customer's count and the file beside it that
 * holds its rows, not the rows (docs/file-formats.md): the page is for a person, and a row
 * takes about 450 bytes of it — 100,000 rows made a 45 MB page, and 300,000 a 136 MB one that
 * stopped `report` (and apply after its moves) out of the 512 MB heap.
 */
export const PAGE_LIST_ROWS = 10_000;

/** How many rows the list has. */
const listLength = (optouts: NonNullable<ReportPageInput['optouts']>): number =>
  [...listCounts(optouts).values()].reduce((a, b) => a + b, 0);

/** What is known of a customer's list (`customer_list`), in red unless it is whole. */
const listCell = (value: string | undefined): Html =>
  cell(value?.replace('_', ' '), value === undefined || value === 'whole' ? '' : 'bad');

/**
 * The list in the files beside the page, counted per customer (`PAGE_LIST_ROWS`), each
 * customer's list marked as the rows are (`partial`, when the page knows it): a count of a list
 * that is not whole, or not known, must not read as all of it.
 */
function suppressionCounts(
  optouts: NonNullable<ReportPageInput['optouts']>,
  partial: ReportPageInput['partial'],
): Html {
  const counts = listCounts(optouts);
  // A customer whose list is not known has no file of its own: its rows are in optouts.csv.
  const unvouched = unvouchedCustomers(optouts.coverage);
  const body = [...counts].map(
    ([id, rows]) =>
      html`<tr>
        ${cell(id)}${cell(rows, 'num')}
        <td>
          <code>${id === null || unvouched.has(id) ? 'optouts.csv' : `optouts/${id}.csv`}</code>
        </td>
        ${
          partial === undefined
            ? ''
            : listCell(id === null ? undefined : customerList(id, unvouched, partial))
        }
      </tr>`,
  );
  return html`<p class="muted">
      The list has ${listLength(optouts)} rows, too many for this page (more than
      ${PAGE_LIST_ROWS}): each customer's rows are in the file named below, beside this page, and
      all of them in <code>optouts.csv</code>.
    </p>
    ${filterBox('suppression-list', counts.size, 'the customers')}${table(
      'suppression-list',
      [
        { label: 'customer' },
        { label: 'opt-outs on list', num: true },
        { label: 'file' },
        ...(partial === undefined ? [] : [{ label: 'customer list' }]),
      ],
      body,
    )}`;
}

export function suppressionSection(input: ReportPageInput): Html {
  if (input.optouts === null) {
    return html`<p class="bad">No suppression list: nothing was read.</p>`;
  }
  if (listLength(input.optouts) > PAGE_LIST_ROWS) {
    return suppressionCounts(input.optouts, input.partial);
  }
  const marked = input.optouts.rows.some((r) => r.twilio_enforces !== undefined);
  // What is known of each row's list: part of a list not known, or not whole, is shown so.
  const listed = input.optouts.rows.some((r) => r.customer_list !== undefined);
  const body = input.optouts.rows.map(
    (r) =>
      html`<tr>
        ${cell(r.customer_id)}${cell(r.recipient)}${cell(r.sender_number)}
        ${withSid(r.scope, r.messaging_service_sid)}
        ${cell(r.keyword)}${cell(r.body)}${timeCell(r.opted_out_at)}
        <td class="sid">${r.stop_message_sid}</td>
        <td class="sid">${r.account_sid}</td>
        ${withSid(r.evidence, r.evidence_message_sid)}
        ${marked ? cell(r.twilio_enforces) : ''}${listed ? listCell(r.customer_list) : ''}
      </tr>`,
  );
  return html`${filterBox('suppression-list', input.optouts.rows.length, 'the suppression list')}${table(
    'suppression-list',
    [
      { label: 'customer' },
      { label: 'recipient' },
      { label: 'sender number' },
      { label: 'opted out of' },
      { label: 'keyword' },
      { label: 'message' },
      { label: 'opted out at' },
      { label: 'STOP message' },
      { label: 'account' },
      { label: 'evidence' },
      ...(marked ? [{ label: 'Twilio enforces' }] : []),
      ...(listed ? [{ label: 'customer list' }] : []),
    ],
    body,
  )}`;
}
