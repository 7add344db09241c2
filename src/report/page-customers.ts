/**
 * report.html's Customers section: what was done for the people who said STOP (what Twilio now
 * refuses, what the customer's application must still stop itself), then one row per customer:
 * its numbers moved, where they went, its list, its carry, its protection, its routes, and what
 * reconcile found.
 */

import { unvouchedCustomers } from '../optouts/export.js';
import type { AuditRow } from './audit.js';
import { html, literal, type Html } from './html.js';
import { listCounts, movedInto } from './page-figures.js';
import type { CustomerProtection, ReportPageInput } from './page-input.js';
import { cell, fraction, lines, table } from './page-tables.js';

function countBy<T>(items: readonly T[], key: (item: T) => string | null): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/**
 * Whether the customers were given their lists: not when there is none this tool can vouch for
 * (no snapshot), nor for a customer whose list is not known (an account its numbers came from
 * never read), which gets no list file.
 */
function listsGiven(input: ReportPageInput): Html {
  if (input.optouts === null) {
    return html`no customer has been given a list of them this tool can vouch for (see the reasons
    above)`;
  }
  const unvouched = unvouchedCustomers(input.optouts.coverage);
  const unknown = input.document.customers.filter((c) => unvouched.has(c.customer_id)).length;
  return html`each customer has been given its list of them (<i>opt-outs on list</i>)${
      unknown > 0 ? `, but for ${unknown} whose list is not known (see the reasons above)` : ''
    }`;
}

/**
 * What was done for the people who said STOP, above the customers' table: what Twilio now
 * refuses and what the customer's application must still stop itself, in a reviewer's words
 * (a reviewer does not know the Consent Management API from a column name), then the same in
 * the engineer's terms, smaller, as a failed step's id follows what it was doing.
 */
export function carryExplained(input: ReportPageInput): Html {
  const column =
    input.protection === undefined
      ? ''
      : html` <i>What protects its opt-outs</i> says which applies to each customer, in red where
          the application must.`;
  const counts = html`<i>Opt-outs on list</i> counts the rows of the customer's suppression list
    (the <code>optouts</code> folder);`;
  if (input.carry === null) {
    return html`<p data-carry-explained="not-carried">
        For the people who texted STOP (or a word like it) to a customer's numbers:
        ${listsGiven(input)}. This run did not tell Twilio about them: unless an earlier run did,
        Twilio does not know in the new subaccounts that they opted out before the move, and will
        not refuse to text them. Only the customer's own application can then protect them, by
        checking its list before every text and not sending.${column}
      </p>
      <p class="for-engineer">
        For the engineer: ${counts} the plan was made without <code>--carry-optouts</code>, so no
        <code>carry_optouts</code> step wrote them through Twilio's Consent Management API (<i
          >records carried into Twilio</i
        >: not carried). A send Twilio refuses fails with error 21610; <code>carry.csv</code> has
        each customer's protection.
      </p>`;
  }
  // A plan that carried, in a run that wrote no record (its carry steps failed, were refused or
  // never ran, or Twilio turned every record down): Twilio was told of nobody, and saying that
  // it now refuses their texts would promise a protection that is not there.
  const carry = [...input.carry.values()];
  if (carry.some((c) => c.to_carry > 0) && carry.every((c) => c.written === 0)) {
    return html`<p data-carry-explained="not-told">
        For the people who texted STOP (or a word like it) to a customer's numbers:
        ${listsGiven(input)}. The plan was to tell Twilio about them in the customers' new
        subaccounts too, but Twilio took none of them from this run (<i
          >records carried into Twilio</i
        >: 0): unless an earlier run told it, Twilio does not know in the new subaccounts that they
        opted out before the move, and will not refuse to text them. Only the customer's own
        application can then protect them, by checking its list before every text and not
        sending.${column}
      </p>
      <p class="for-engineer">
        For the engineer: ${counts} the plan carries (<code>plan --carry-optouts</code>), but no
        <code>carry_optouts</code> step of this run wrote a record through Twilio's Consent
        Management API: the steps failed, were not run or are not finished (apply the plan again to
        finish them), or Twilio turned every record down. A send Twilio refuses fails with error
        21610; <code>carry.csv</code> has each customer's protection, <code>audit.json</code> each
        step's and record's result.
      </p>`;
  }
  return html`<p data-carry-explained="carried">
      For the people who texted STOP (or a word like it) to a customer's numbers:
      ${listsGiven(input)}, and this run also told Twilio about them in the customer's new
      subaccount (<i>records carried into Twilio</i>). From now on Twilio itself refuses a text from
      the customer's numbers to anyone it was told about. It does not refuse texts sent from
      toll-free numbers, nor where it was not told (for example: Twilio turned the record down, the
      subaccount was not allowed to write it, the customer's step that tells it failed or was not
      run, or the person opted out after the plan was made): for those people the customer's own
      application must check its list before every text, and not send.${column}
    </p>
    <p class="for-engineer">
      For the engineer: ${counts} <i>records carried into Twilio</i> counts the opt-out records the
      customer's <code>carry_optouts</code> step (<code>plan --carry-optouts</code>) wrote through
      Twilio's Consent Management API, one for each recipient and sender: the customer's Messaging
      Service, or each of its numbers when it has none. The two need not be equal: an opt-out from a
      service two of its numbers shared is one row, and two records in a subaccount without a
      service. A send Twilio refuses fails with error 21610; <code>carry.csv</code> has each
      customer's figures, <code>audit.json</code> each record's result.
    </p>`;
}

/** carry.csv's words, in red where Twilio does not refuse every opt-out on the list. */
function protectionCell(p: CustomerProtection | undefined): Html {
  if (p === undefined) return cell('');
  const whole = p.rows !== null && p.enforced !== null && p.enforced === p.rows;
  return cell(p.protection, whole ? '' : 'bad');
}

/**
 * Where a customer's numbers went: its subaccount, and its Messaging Service under it, each
 * said in words (a reviewer does not know AC from MG), in one column so the table fits a
 * laptop's width.
 */
function movedIntoCell(subaccount: string | null, service: string | null): Html {
  return html`<td class="moved-into">
    ${subaccount === null ? '' : html`subaccount <span class="sid">${subaccount}</span>`}
    ${service === null ? '' : html`<br />service <span class="sid">${service}</span>`}
  </td>`;
}

/**
 * Where messages sent to the customer's numbers went before the move and go now, in one
 * column: the audit marks a route that is not the same with its verdict in brackets. A number
 * this run's routing check did not read (it did not move it: already there, failed, not
 * finished) is said so: left out, "now:" showed nothing, or only its other numbers' route.
 */
function routesCell(own: readonly AuditRow[]): Html {
  const now = own.map((r) => r.inbound_route_after ?? 'not checked by this run');
  return html`<td class="route">
    <span class="muted">now:</span> ${lines(now)}<br />
    <span class="muted">before:</span> ${lines(own.map((r) => r.inbound_route_before))}
  </td>`;
}

export function customersTable(input: ReportPageInput): Html {
  const optoutsBy = input.optouts === null ? null : listCounts(input.optouts);
  const unknown =
    input.optouts === null ? new Set<string>() : unvouchedCustomers(input.optouts.coverage);
  const violationsBy =
    input.violations === null ? null : countBy(input.violations, (r) => r.customer_id);
  const rowsBy = new Map<string, AuditRow[]>();
  for (const row of input.rows) {
    const id = String(row.customer_id);
    const own = rowsBy.get(id);
    if (own === undefined) rowsBy.set(id, [row]);
    else own.push(row);
  }
  // Built once: a map of every step of the run (one per customer made the page O(n²)).
  const moved = movedInto(input.document);
  const body = input.document.customers.map((customer) => {
    const own = rowsBy.get(customer.customer_id) ?? [];
    const movedHere = own.filter(moved).length;
    const carry = input.carry?.get(customer.customer_id);
    const violations = violationsBy?.get(customer.customer_id) ?? 0;
    return html`<tr${literal(violations > 0 ? ' class="violation"' : '')}>
<td>${customer.customer_name}<br /><span class="muted">${customer.customer_id}</span></td>
${fraction(movedHere, own.length)}
${movedIntoCell(customer.subaccount_sid, customer.messaging_service_sid)}
${
  optoutsBy === null || unknown.has(customer.customer_id)
    ? cell('not known', 'num')
    : input.partial?.has(customer.customer_id) === true
      ? html`<td class="num bad" data-sort="${optoutsBy.get(customer.customer_id) ?? 0}">
          ${optoutsBy.get(customer.customer_id) ?? 0} (history not all read)
        </td>`
      : cell(optoutsBy.get(customer.customer_id) ?? 0, 'num')
}
${carry === undefined ? cell(input.carry === null ? 'not carried' : 0, 'num') : fraction(carry.written, carry.to_carry)}
${input.protection === undefined ? '' : protectionCell(input.protection.get(customer.customer_id))}
${routesCell(own)}
${cell(input.blocked === null ? 'not reconciled' : (input.blocked.get(customer.customer_id) ?? 0), 'num')}
${cell(violationsBy === null ? 'not reconciled' : violations, violations > 0 ? 'num bad' : 'num')}
</tr>`;
  });
  return table(
    'customers',
    [
      { label: 'customer' },
      { label: 'numbers moved', num: true },
      { label: 'moved into' },
      { label: 'opt-outs on list', num: true },
      { label: 'records carried into Twilio', num: true },
      ...(input.protection === undefined ? [] : [{ label: 'what protects its opt-outs' }]),
      { label: 'incoming messages go to' },
      { label: 'sends refused', num: true },
      { label: 'violations', num: true },
    ],
    body,
  );
}
