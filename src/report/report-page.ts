/**
 * report.html: the run's reports as one page a compliance reviewer opens without a terminal.
 * Self-contained (inline style and script, a Content-Security-Policy that forbids every
 * fetch), printable, and built only from the same data as the CSV files beside it. Every
 * value that came from Twilio or the mapping goes through `html`, which escapes it.
 */

import { unvouchedCustomers } from '../optouts/export.js';
import { html, literal, toHtmlString, type Html } from './html.js';
import { SCRIPT, STYLE } from './report-assets.js';
import { alarms } from './page-alarms.js';
import { coverageSection } from './page-coverage.js';
import { carryExplained, customersTable } from './page-customers.js';
import { listOnly, numberCounts, unjudgedCount, vouchedRows } from './page-figures.js';
import type { ReportPageInput } from './page-input.js';
import { signOff } from './page-sign-off.js';
import { suppressionSection } from './page-suppression.js';
import { numbersTable } from './page-numbers.js';
import { violationsSection } from './page-violations.js';
import { filterBox } from './page-tables.js';

export type { CustomerCarry, CustomerProtection, ReportPageInput } from './page-input.js';
export { PAGE_LIST_ROWS } from './page-suppression.js';

const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

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

function summary(input: ReportPageInput, violations: number | null): Html {
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

export function reportPage(input: ReportPageInput): string {
  const { run, plan } = input.document;
  const violations = input.violations === null ? null : input.violations.length;
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="Content-Security-Policy" content="${CSP}" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>submigrate report — run ${run.id}</title>
        <style>
          ${literal(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <h1>Migration report — apply run ${run.id}</h1>
          <p class="muted">
            Numbers moved out of the parent account
            <span class="sid">${run.parent_account_sid}</span> · run status
            <b data-run-status>${run.status}</b> · started ${run.started_at} · finished
            ${run.finished_at ?? 'not yet'}<br />
            Plan file <code>${plan.path}</code> (its seal, which shows it was not changed after it
            was made: <code>${plan.integrity}</code>) · list of customers and their numbers
            <code>${plan.mapping.path}</code>
          </p>
        </header>
        <main>
          ${signOff(input, violations)} ${alarms(input, violations)} ${summary(input, violations)}
          <h2 id="customers-heading">Customers</h2>
          ${carryExplained(input)} ${customersTable(input)}
          <h2 id="violations-heading">Violations</h2>
          <p class="muted">
            A message sent after the move, from a moved number or through its new service, to
            someone on that number's suppression list who had not opted back in before it was
            sent.${input.lastReconcileAt === null ? '' : html` Last reconciled ${input.lastReconcileAt}.`}
          </p>
          ${violationsSection(input)}
          <h2 id="suppression-heading">Suppression lists</h2>
          <p class="muted">
            Everyone who opted out of a moved number or its service, with the message that proves
            it. Click a heading to sort.
          </p>
          ${suppressionSection(input)}
          <h2 id="numbers-heading">Numbers</h2>
          ${filterBox('numbers', input.rows.length, 'numbers')} ${numbersTable(input.rows)}
          <h2 id="coverage-heading">Coverage</h2>
          ${coverageSection(input.optouts?.coverage ?? null, input.olderRulesRuns ?? 0)}
        </main>
        <footer>
          <p class="muted">
            Generated ${input.generatedAt} by submigrate ${input.toolVersion} from the database
            alone; the CSV and JSON files beside this page hold the same data.
          </p>
        </footer>
        <script>
          ${literal(SCRIPT)};
        </script>
      </body>
    </html> `;
  return toHtmlString(page);
}
