/**
 * report.html's Numbers section: one row per number of the run, where it moved from and to,
 * its state in words, and the error of a step that failed.
 */

import { stateWords, type AuditRow } from './audit.js';
import { html, type Html } from './html.js';
import { cell, table, timeCell } from './page-tables.js';

/** A number's states that need no one's attention: moved, found already so, or left as it was. */
const GOOD_STATUS = new Set<AuditRow['status']>(['done', 'skipped', 'unchanged']);

export function numbersTable(rows: readonly AuditRow[]): Html {
  const body = rows.map(
    (r) =>
      html`<tr>
        ${cell(r.customer_id)}${cell(r.phone_number)}
        <td class="sid">${r.phone_number_sid}</td>
        <td class="sid">${r.from_account_sid}</td>
        <td class="sid">${r.to_account_sid}</td>
        <td class="sid">${r.messaging_service_sid}</td>
        ${cell(stateWords(String(r.status)), GOOD_STATUS.has(r.status) ? 'ok' : 'bad')}${cell(r.attempts, 'num')}${timeCell(r.finished_at)}
        ${cell(r.error_code === null && r.error_message === null ? '' : `${r.error_code ?? ''} ${r.error_message ?? ''}`.trim())}
      </tr>`,
  );
  return table(
    'numbers',
    [
      { label: 'customer' },
      { label: 'number' },
      { label: 'number SID' },
      { label: 'from account' },
      { label: 'to account' },
      { label: 'messaging service' },
      { label: 'status' },
      { label: 'attempts', num: true },
      { label: 'finished at' },
      { label: 'error' },
    ],
    body,
  );
}
