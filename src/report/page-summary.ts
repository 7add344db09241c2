/**
 * report.html's summary: the run's figures in boxes under the sign-off (customers, numbers
 * moved or not, list rows, records carried, rows Twilio does not refuse, routes changed, sends
 * refused, violations, steps), each in red where it needs someone's attention.
 */

import { unvouchedCustomers } from '../optouts/export.js';
import { html, type Html } from './html.js';
import { listOnly, numberCounts, unjudgedCount, vouchedRows } from './page-figures.js';
import type { ReportPageInput } from './page-input.js';

function figure(id: string, label: string, value: string | number, alarm = false): Html {
  return html`<div class="figure${alarm ? ' alarm' : ''}" data-figure="${id}">
    <span class="value">${value}</span><span class="label">${label}</span>
  </div>`;
}

/** The moved figure's label: of how many, and what the others are, where it is not plain. */
function movedLabel(total: number, counts: ReturnType<typeof numberCounts>): string {
  const notes = [
    `of ${total}`,
    ...(counts.movedUnfinished > 0
      ? [`${counts.movedUnfinished} with a step failed, not run or not finished`]
      : []),
    ...(counts.inPlace > 0 ? [`${counts.inPlace} more already in their subaccount`] : []),
  ];
  return `numbers moved (${notes.join('; ')})`;
}

export function summary(input: ReportPageInput, violations: number | null): Html {
  const { document, rows } = input;
  const numbers = numberCounts(document, rows);
  // The audit marks a route that is not the same as before with its verdict in brackets; one
  // dropped before and dropped still (`was-dropped`) has not changed.
  const verdicts = rows.map(
    (r) => / \[([a-z_-]+)\]$/.exec(String(r.inbound_route_after ?? ''))?.[1] ?? null,
  );
  const changed = verdicts.filter((v) => v !== null && v !== 'was-dropped').length;
  const lost = verdicts.filter(
    (v) => v === 'dropped' || v === 'diverted' || v === 'missing',
  ).length;
  // This run's customers only, as the table below counts them.
  const blocked =
    input.blocked === null
      ? null
      : input.document.customers.reduce(
          (n, customer) => n + (input.blocked?.get(customer.customer_id) ?? 0),
          0,
        );
  // The rows of lists this tool can vouch for: a customer whose numbers came from an account no
  // snapshot read has a list that is not known (as its row in the table below says), and the
  // rows the ledger holds for it are not a count of its opt-outs.
  const unvouched =
    input.optouts === null ? new Set<string>() : unvouchedCustomers(input.optouts.coverage);
  const unknown = document.customers.filter((c) => unvouched.has(c.customer_id)).length;
  const optouts = vouchedRows(input);
  const optoutsLabel = `rows on the suppression lists (one per opted-out pair and customer)${unknown > 0 ? ` (lists of ${unknown} customer(s) not known)` : ''}`;
  const carried =
    input.carry === null ? null : [...input.carry.values()].reduce((a, c) => a + c.written, 0);
  const unenforced = listOnly(input);
  return html`<section class="figures" aria-label="Summary">
    ${figure('customers', 'customers', document.customers.length)}
    ${figure('numbers-moved', movedLabel(rows.length, numbers), numbers.moved, numbers.movedUnfinished > 0)}
    ${figure('numbers-not-moved', 'numbers not moved: failed or not run', numbers.failed, numbers.failed > 0)}
    ${figure('numbers-not-finished', 'numbers not moved: not finished', numbers.notFinished, numbers.notFinished > 0)}
    ${figure('optouts', optoutsLabel, optouts ?? 'not known', optouts === null || unknown > 0)}
    ${figure('carried', 'opt-out records written into Twilio', carried ?? 'not carried', carried === null)}
    ${
      unenforced === null
        ? ''
        : figure(
            'list-only',
            `rows of the lists Twilio does not refuse${unenforced.unknown > 0 ? ` (lists of ${unenforced.unknown} customer(s) not known)` : ''}: the customer's app must (see what protects each customer)`,
            unenforced.rows,
            unenforced.rows > 0 || unenforced.unknown > 0,
          )
    }
    ${figure('routes-changed', 'numbers whose incoming messages now go elsewhere', changed, lost > 0)}
    ${figure('blocked', 'sends Twilio refused (21610): texts to people on a list it stopped', blocked ?? 'not reconciled')}
    ${figure('violations', `violations: texts sent to people on a list after the move${violations !== null && unjudgedCount(input) > 0 ? ' (not all judged yet)' : ''}`, violations ?? 'not reconciled', violations === null || violations > 0 || unjudgedCount(input) > 0)}
    ${figure('steps-done', 'steps done (each a change made in Twilio)', document.counts['done'] ?? 0)}
    ${figure('steps-failed', 'steps failed', document.counts['failed'] ?? 0, (document.counts['failed'] ?? 0) > 0)}
  </section>`;
}
