/**
 * The suppression list's order (docs/file-formats.md), said in JS: by customer, the rows with
 * none last, then recipient, then evidence, text compared as SQLite's ORDER BY compares it
 * (`compareText`). `eachListedOptOut` has SQLite sort the list so; tests hold it to this. Said
 * outright, not by a last character standing in for none: a customer id with a character
 * beyond it (an emoji) would sort after the rows with none.
 */

import type { OptOutExportRow } from '../../src/optouts/export.js';
import { compareText } from '../../src/text-order.js';

export function optOutRowOrder(a: OptOutExportRow, b: OptOutExportRow): number {
  return (
    Number(a.customer_id === null) - Number(b.customer_id === null) ||
    compareText(a.customer_id ?? '', b.customer_id ?? '') ||
    compareText(a.recipient ?? '', b.recipient ?? '') ||
    compareText(a.evidence_message_sid ?? '', b.evidence_message_sid ?? '')
  );
}
