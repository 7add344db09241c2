/**
 * report.html's Violations section: each message sent after the move to someone on a
 * suppression list, with the messages that prove it, or why none is listed.
 */

import { html, type Html } from './html.js';
import { listsWhole, unjudgedCount } from './page-figures.js';
import type { ReportPageInput } from './page-input.js';
import { cell, filterBox, table, timeCell } from './page-tables.js';

export function violationsSection(input: ReportPageInput): Html {
  const { violations } = input;
  if (violations === null) {
    return html`<p class="muted">Reconcile has not run yet.</p>`;
  }
  const unjudged = unjudgedCount(input);
  if (violations.length === 0 && (unjudged > 0 || !listsWhole(input))) {
    return html`<p class="warn">
      None found in what reconcile has judged, but not all of it is judged yet (the reasons are at
      the top of this page): this cannot say that nobody on a suppression list was texted.
    </p>`;
  }
  if (violations.length === 0) {
    return html`<p class="ok">
      None: no message after the move went to anyone on a suppression list who had not opted back in
      first.
    </p>`;
  }
  const body = violations.map(
    (v) =>
      html`<tr class="violation">
        ${cell(v.customer_id)}${cell(v.recipient)}${cell(v.sender_number)}
        <td class="sid">${v.messaging_service_sid}</td>
        <td class="sid">${v.stop_message_sid}</td>
        ${timeCell(v.opted_out_at)}
        <td class="sid">${v.violating_message_sid}</td>
        ${timeCell(v.sent_at)}
        <td class="sid">${v.account_sid}</td>
        ${cell(v.status)}${cell(v.evidence)}
        <td class="sid">${v.evidence_message_sid}</td>
      </tr>`,
  );
  return html`${filterBox('violations', violations.length, 'violations')}${table(
    'violations',
    [
      { label: 'customer' },
      { label: 'recipient' },
      { label: 'sender number' },
      { label: 'messaging service' },
      { label: 'STOP message' },
      { label: 'opted out at' },
      { label: 'message sent after' },
      { label: 'sent at' },
      { label: 'account' },
      { label: 'status' },
      { label: 'evidence' },
      { label: 'evidence message' },
    ],
    body,
  )}`;
}
