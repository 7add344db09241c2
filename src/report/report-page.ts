/**
 * report.html: the run's reports as one page a compliance reviewer opens without a terminal.
 * Self-contained (inline style and script, a Content-Security-Policy that forbids every
 * fetch), printable, and built only from the same data as the CSV files beside it. Every
 * value that came from Twilio or the mapping goes through `html`, which escapes it.
 */

import { html, literal, toHtmlString } from './html.js';
import { SCRIPT, STYLE } from './report-assets.js';
import { alarms } from './page-alarms.js';
import { coverageSection } from './page-coverage.js';
import { carryExplained, customersTable } from './page-customers.js';
import type { ReportPageInput } from './page-input.js';
import { numbersTable } from './page-numbers.js';
import { movedOutOf, signOff } from './page-sign-off.js';
import { summary } from './page-summary.js';
import { suppressionSection } from './page-suppression.js';
import { violationsSection } from './page-violations.js';
import { filterBox } from './page-tables.js';

export type { CustomerCarry, CustomerProtection, ReportPageInput } from './page-input.js';
export { PAGE_LIST_ROWS } from './page-suppression.js';

const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

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
            Numbers moved out of ${movedOutOf(input)} · run status
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
