/**
 * report.html's notes under the sign-off, in red or amber: a run not finished and its failed
 * steps, the run's own notes, a list this tool cannot vouch for or not whole, and violations or
 * a reconcile not run yet, each said in a reviewer's words.
 */

import { noListReason, unvouchedCustomers } from '../optouts/export.js';
import type { AuditDocument } from './audit.js';
import { html, type Html } from './html.js';
import { notWhole } from './page-figures.js';
import type { ReportPageInput } from './page-input.js';

/** Why a run is not complete, and what to do: a run under way is not to be applied again. */
function runNotFinished(status: string): Html {
  if (status === 'running') {
    return html`This apply run is under way: this page shows it half way, and the apply writes the
    run's own reports when it ends.`;
  }
  if (status === 'stopped') {
    // Also the page an apply writes itself as it ends on an error (its routing check could not
    // reach Twilio, say): "killed, or crashed" alone would deny the page's own writer.
    return html`This apply run stopped before it finished (its apply was killed, crashed, or ended
      on an error it printed): the engineer runs <code>submigrate apply</code> again with the same
      plan to continue it. A request that was in progress when it stopped may or may not have been
      carried out: that apply first asks Twilio which, and never sends a request twice blindly.`;
  }
  return html`This apply run did not complete: what went wrong is listed below. Once its cause is
    fixed, the engineer runs <code>submigrate apply</code> again with the same plan to finish it.`;
}

/**
 * What a step of the plan does, in a reviewer's words: the step's id (`carry_optouts:acme`,
 * `transfer_number:PN…`) means nothing to one. A number's step names the number.
 */
function stepInWords(
  step: AuditDocument['steps'][number],
  numberBySid: ReadonlyMap<string, string>,
): string {
  const sid = step.id.slice(step.id.indexOf(':') + 1);
  const number = `number ${numberBySid.get(sid) ?? sid}`;
  const customer = `customer ${step.customer_id}`;
  switch (step.action) {
    case 'create_subaccount':
      return `Creating ${customer}'s subaccount`;
    case 'create_service':
      return `Creating ${customer}'s Messaging Service`;
    case 'detach_number':
      return `Taking ${number} out of the shared Messaging Service it was in`;
    case 'transfer_number':
      return `Moving ${number} into ${customer}'s subaccount`;
    case 'attach_number':
      return `Adding ${number} to ${customer}'s Messaging Service`;
    case 'set_number_webhook':
      return `Setting where messages to ${number} go`;
    case 'carry_optouts':
      return `Writing ${customer}'s opt-outs into Twilio (so that Twilio refuses those sends)`;
    default:
      return `Step ${step.action} of ${customer}`;
  }
}

/**
 * A note of the run (audit.json's `run.notes`, written by src/apply) said in a reviewer's
 * words, from how each kind of note begins; the note itself is shown beside it as recorded.
 * null for a note of no kind known here: it is shown as recorded only.
 */
export function noteInWords(note: string): string | null {
  if (note.startsWith('--allow-missing-snapshot'))
    return 'Numbers were moved before their message history had been read: opt-outs of theirs may be on no list.';
  // One on another machine could not be seen to have stopped: not said to have. Nor one of
  // this host under the taker's own pid (another container sharing the hostname).
  const unseen =
    note.includes(', another machine, ') || note.includes(" but another process's lock ");
  if (note.startsWith('took over the lock') && unseen && note.includes(': it had begun no run'))
    return 'An apply on another machine, which had begun no run, held the database locked; this run took the lock over, as --take-over-lock asked (that apply did nothing of this run, and should it still run there, it is refused as it would begin one).';
  // Of another run, or this run's own, on another machine: whether it still ran there could
  // not be seen, and it is not said to have stopped. (One of another run still running there
  // goes on sending its own run's steps: --take-over-lock is for one known to have stopped.)
  if (note.startsWith('took over the lock') && unseen && note.includes(': it held it for run '))
    return 'An apply of another run, on another machine, held the database locked; this run took the lock over, as --take-over-lock asked, whether or not that apply still ran there (it could not be seen from here; it did nothing of this run).';
  if (note.startsWith('took over the lock') && unseen)
    return 'The run was taken over from an earlier apply of it on another machine, as --take-over-lock asked, whether or not that apply still ran there (it could not be seen from here).';
  if (note.startsWith('took over the lock') && note.includes(': it had begun no run'))
    return 'An earlier apply, stopped before it began any run, had left the database locked; this run took the lock over (that apply did nothing of this run).';
  if (note.startsWith('took over the lock') && note.includes(': it held it for run '))
    return 'An apply of another run, which no longer ran, had left the database locked; this run took the lock over (that apply did nothing of this run).';
  if (note.startsWith('took over the lock'))
    return 'The run was taken over from an earlier apply that no longer ran.';
  if (note.startsWith('continued: '))
    return 'The run had stopped with steps that failed; it was started again and tried them again.';
  if (note.startsWith('continued with '))
    return 'The run was continued with other speed settings than it began with (no effect on what it does).';
  if (note.startsWith('the ledger now holds '))
    return 'Opt-outs recorded after the plan was made were not written into Twilio: they are on the lists, and a new plan and apply writes them.';
  if (note.includes('was left in flight by the last apply, and Twilio did it'))
    return 'A change in progress when the run stopped had in fact been made by Twilio: it was taken as done, not made again.';
  if (note.includes('was in flight when the last apply stopped'))
    return 'A request in progress when the run stopped had not been carried out by Twilio, so it was sent again.';
  if (note.includes('failed in the last apply with no certain answer'))
    return 'A change the run before could not confirm had in fact been made by Twilio: it counts as done.';
  if (note.includes('(30646)'))
    return "Twilio declined to record some opt-outs: they stay on the customer's suppression list.";
  if (note.includes('Twilio also made'))
    return 'Twilio made something twice (an unused subaccount or Messaging Service): the engineer removes it, then runs apply again.';
  if (note.includes('not by this database'))
    return 'The same plan was being applied from a second copy of the tool at the same time: the engineer stops one and closes the extra subaccount.';
  if (note.includes('could not read the parent'))
    return "The tool could not check for a second copy applying the same plan, so it moved none of this customer's numbers: apply is run again.";
  return null;
}

export function alarms(input: ReportPageInput, violations: number | null): Html[] {
  const notes: Html[] = [];
  const run = input.document.run;
  if (run.status !== 'completed') {
    const failed = input.document.steps.filter((step) => step.state === 'failed');
    const numberBySid = new Map(
      input.rows.map((r) => [String(r.phone_number_sid), String(r.phone_number)]),
    );
    notes.push(
      html`<div class="note bad">
        <p>${runNotFinished(run.status)}</p>
        ${
          failed.length === 0
            ? ''
            : html`<ul>
                ${failed.map(
                  (step) =>
                    html`<li>
                      ${stepInWords(step, numberBySid)} failed: ${step.error?.message ?? ''}
                      <span class="muted">(step <code>${step.id}</code>)</span>
                    </li>`,
                )}
              </ul>`
        }
      </div>`,
    );
  }
  // The run's own notes (audit.json's `run.notes`): an override of the opt-out gate, a continued
  // run and what it tried again, steps sent again after a crash, leftovers to close.
  if (run.notes.length > 0) {
    const overridden = run.notes.some((n) => n.note.startsWith('--allow-missing-snapshot'));
    notes.push(
      html`<div class="note ${overridden ? 'bad' : 'warn'}" data-run-notes>
        <p>
          ${
            overridden
              ? html`Applied with <code>--allow-missing-snapshot</code>: numbers were moved whose
                  opt-outs no completed snapshot covers.`
              : ''
          }
          What happened during this run, that the engineer should know:
        </p>
        <ul>
          ${run.notes.map((n) => {
            const words = noteInWords(n.note);
            return html`<li>
              ${words === null ? '' : html`${words}<br />`}
              <span class="muted">${n.at}, recorded as: ${n.note}</span>
            </li>`;
          })}
        </ul>
      </div>`,
    );
  }
  if (input.optouts === null) {
    notes.push(
      html`<p class="note bad">
        ${noListReason(input.olderRulesRuns ?? 0)}: there is no suppression list this tool can vouch
        for. Run <code>submigrate snapshot</code>, then <code>submigrate report</code>.
      </p>`,
    );
  } else if (input.optouts.coverage.never_read.length > 0) {
    notes.push(
      html`<p class="note bad">
        No completed snapshot has read
        ${input.optouts.coverage.never_read.map((w) => w.account_sid).join(', ')}, where numbers of
        ${unvouchedCustomers(input.optouts.coverage).size} customer(s) came from: the opt-outs it
        received are on no list, so those customers' lists are not known. Run
        <code>submigrate snapshot</code>, then <code>submigrate report</code>.
      </p>`,
    );
  } else if (input.optouts.coverage.not_read.length > 0) {
    const partial = notWhole(input).length;
    notes.push(
      input.partial === undefined || partial > 0
        ? html`<p class="note bad">
            Part of the message history was never read (see Coverage): opt-outs from those spans are
            not on these lists.
          </p>`
        : html`<p class="note">
            Part of the message history was never read (see Coverage), but none of it while this
            run's numbers were in the account: a span after a number left an account is the history
            of the account it went to. This run's lists are whole.
          </p>`,
    );
  }
  if (violations === null) {
    notes.push(
      html`<p class="note warn">
        Reconcile has not run for this database: nobody has checked yet whether anyone on the lists
        was texted after the move. Run <code>submigrate reconcile</code>.
      </p>`,
    );
  } else if (violations > 0) {
    notes.push(
      html`<p class="note bad">
        ${violations} message(s) went to people who had opted out, after the move. Each is listed
        under Violations with the STOP that proves it.
      </p>`,
    );
  }
  return notes;
}
