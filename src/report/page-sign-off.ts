/**
 * report.html's sign-off, the first thing on the page: whether the run is ready to be signed
 * off, and if not, each reason with what to do; what signing confirms; and where the reviewer
 * signs, beside what identifies this run (or "Do not sign").
 */

import { noListReason, unvouchedCustomers } from '../optouts/export.js';
import { isNumberAway, numberAwayWhere } from '../reconcile/away.js';
import { html, type Html } from './html.js';
import {
  listOnly,
  listsWhole,
  missingNumbers,
  movedInto,
  notWhole,
  numberCounts,
  unjudgedCount,
  vouchedRows,
} from './page-figures.js';
import type { ReportPageInput } from './page-input.js';

/** A run's status as a reviewer reads it: what the journal's word means for the move. */
function runStatusInWords(status: string): string {
  if (status === 'running') return 'it is still running';
  if (status === 'stopped')
    return 'it stopped part way (its apply was killed, crashed, or ended on an error)';
  if (status === 'failed') return 'it ended with work not done';
  return `its status is ${status}`;
}

/**
 * Why the reviewer should not sign this run off yet, each with what to do: a run not finished,
 * numbers not moved, a list this tool cannot vouch for (no snapshot, an account never read,
 * history not all read, numbers moved with no snapshot covering them), or a send after the move
 * to someone on a list. Empty when there is nothing to hold the sign-off back.
 */
function signOffBlockers(input: ReportPageInput, violations: number | null): Html[] {
  const { document, rows } = input;
  const reasons: Html[] = [];
  const numbers = numberCounts(document, rows);
  if (document.run.status !== 'completed') {
    const failed = document.steps.filter((step) => step.state === 'failed').length;
    reasons.push(
      // "The move" read as the numbers' move: of a run whose every number moved and whose
      // carry failed, it said the numbers had not all moved.
      html`The run is not finished:
        ${runStatusInWords(document.run.status)}${failed > 0 ? `; ${failed} step(s) failed` : ''}${
          numbers.failed + numbers.notFinished > 0
            ? `; ${numbers.failed + numbers.notFinished} number(s) not moved`
            : numbers.moved > 0
              ? // Numbers already in their subaccount did not move: not said to have.
                numbers.inPlace > 0
                ? `, though every number is in its subaccount (${numbers.moved} moved, ${numbers.inPlace} already there)`
                : `, though every number moved`
              : ''
        }.
        What to do: the red note below says what went wrong; once its cause is fixed, the engineer
        runs <code>submigrate apply</code> again with the same plan.`,
    );
  }
  if (input.optouts === null) {
    reasons.push(
      html`There is no suppression list this tool can vouch for
        (${noListReason(input.olderRulesRuns ?? 0)}). What to do: the engineer runs
        <code>submigrate snapshot</code>, then <code>submigrate report</code>.`,
    );
  } else {
    const coverage = input.optouts.coverage;
    const unknown = document.customers.filter((c) =>
      unvouchedCustomers(coverage).has(c.customer_id),
    ).length;
    if (coverage.never_read.length > 0) {
      reasons.push(
        html`${
            unknown > 0
              ? `The suppression lists of ${unknown} customer(s) are not known: no completed snapshot has read the account their numbers came from`
              : 'No completed snapshot has read an account of this run: the opt-outs it received are on no list'
          }
          (${coverage.never_read.map((w) => w.account_sid).join(', ')}). What to do: the engineer
          runs <code>submigrate snapshot</code>, then <code>submigrate report</code>.`,
      );
    }
    const partial = notWhole(input);
    // A span not read that lies after every one of this run's numbers left its account (a later
    // wave's moves out of the parent) holds no opt-out of theirs: their lists are whole, as
    // their rows say. Without the customers judged one by one, any span holds the page back.
    if (partial.length > 0 || (input.partial === undefined && coverage.not_read.length > 0)) {
      // A span not read in a subaccount this run moved numbers into (a reconcile pass with
      // --since skipped it) is not read by `submigrate snapshot`, which reads the parent: the
      // advice names what reads it.
      const subaccounts = new Set(
        input.rows.filter(movedInto(document)).map((r) => r.to_account_sid),
      );
      const inSubaccounts = coverage.not_read.some((w) => subaccounts.has(w.account_sid));
      reasons.push(
        html`${
            partial.length > 0
              ? `The suppression lists of ${partial.length} customer(s) are not whole`
              : 'The suppression lists may not be whole'
          }:
          part of the message history was never read (the spans are under Coverage), and anyone who
          opted out in it is missing. What to do: the engineer runs
          <code>submigrate snapshot</code>, which reads what Twilio still
          keeps${
            inSubaccounts
              ? html` of the accounts the numbers came from, and, for a span in a customer's
                  subaccount, <code>submigrate reconcile</code> (without <code>--since</code>) for
                  the time since the move, or <code>submigrate snapshot --account</code> with its
                  SID for the time before it`
              : ''
          },
          then <code>submigrate report</code>; for what Twilio no longer keeps, ask the customer for
          its own opt-out records.`,
      );
    }
  }
  if (movedBeforeAnySnapshot(input)) {
    reasons.push(
      html`Numbers were moved before any snapshot had read their message history
        (<code>--allow-missing-snapshot</code>): their opt-outs are not on the lists. What to do:
        the engineer runs <code>submigrate snapshot</code>, then <code>submigrate report</code>.`,
    );
  }
  if (violations !== null && violations > 0) {
    reasons.push(
      html`${violations} message(s) were sent after the move to people who had opted out (listed
      under Violations, each with the message that proves the opt-out). What to do: handle each as
      an incident, and find out why the customer's application sent it.`,
    );
  }
  // A snapshot may since have read the span before them (the lists are whole), but only a
  // reconcile pass holds the sends to the lists: until one does, nobody can say they are not
  // violations.
  const pending = input.pending ?? 0;
  if (pending > 0) {
    reasons.push(
      html`${pending} message(s) sent after the move to people on a list are not judged yet: no
        reconcile pass has read the time before them, in which the person may have opted back in.
        What to do: the engineer runs <code>submigrate reconcile</code> (without
        <code>--since</code>), then <code>submigrate report</code>.`,
    );
  }
  const notJudgedAgain = input.notJudgedAgain ?? 0;
  if (notJudgedAgain > 0) {
    reasons.push(
      html`The messages ${notJudgedAgain} customer(s) sent after the move were checked against
        suppression lists that were not whole, and have not been checked again since: someone who
        opted out in the history not read then may have been texted. What to do: once the lists are
        whole, the engineer runs <code>submigrate reconcile</code> (without <code>--since</code>),
        then <code>submigrate report</code>.`,
    );
  }
  const neverJudged = input.neverJudgedWhole ?? 0;
  if (neverJudged > 0) {
    reasons.push(
      html`Some messages ${neverJudged} customer(s) sent after the move were checked only against
        suppression lists that were not whole, and can never be checked again: Twilio no longer
        shows them, or the numbers that sent them have moved on to another customer. Someone who
        opted out in the history not read then may have been texted. What to do: the engineer's
        <code>submigrate reconcile</code> names the customers and the periods (its lines
        <code>not checked again:</code>); the customer checks the messages it sent then against its
        own opt-out records.`,
    );
  }
  const anyAway = (input.unjudged ?? []).filter(isNumberAway);
  // A number whose transfer failed, found in an account the passes read: its sends there are
  // judged (violations.csv), where it was on its way there is not.
  const held = anyAway.filter((span) => span.sendsHeld === true);
  const away = anyAway.filter((span) => span.sendsHeld !== true);
  const unjudged = (input.unjudged ?? []).filter((span) => !isNumberAway(span));
  if (violations !== null && held.length > 0) {
    reasons.push(
      html`${held.length} span(s) while a number whose transfer failed or was not run was in an
      account the reconcile passes read, moved there by hand, not by apply
      (${held.map(numberAwayWhere).join(', ')}): its sends there are held to its suppression list
      (violations.csv names those to someone on it), but no pass can vouch for where it was on its
      way there, which may be an account no pass reads. What to do: the customer checks the messages
      that number sent then against its suppression list (optouts/&lt;customer&gt;.csv) and its own
      opt-out records; the engineer puts the number where the mapping has it.`,
    );
  }
  if (violations !== null && away.length > 0) {
    // No pass reads where such a number went: running reconcile again cannot judge these.
    reasons.push(
      html`${away.length} span(s) while a number of the mapping was where no step of apply's put it,
      moved there by hand (${away.map(numberAwayWhere).join(', ')}): no reconcile pass reads its
      messages there, and none will. What to do: the customer checks the messages that number sent
      then against its suppression list (optouts/&lt;customer&gt;.csv) and its own opt-out records;
      the engineer puts the number back where the mapping has it.`,
    );
  }
  // The last routing check (apply's, or `submigrate routes` since) found a moved number out of
  // its subaccount, moved by hand: no pass may have seen it where it is (a pass names the span of
  // one it finds in the parent or in a subaccount no pass reads, above), so nobody can say what
  // it sent there.
  const missing = missingNumbers(input);
  if (missing.length > 0) {
    reasons.push(
      html`${missing.length} moved number(s) were not in their subaccount at the last routing check
        (${missing.map((r) => r.phone_number).join(', ')}): moved out by hand, not by apply, and no
        reconcile pass judges what a number sends there. What to do: the engineer runs
        <code>submigrate reconcile</code> (a pass that finds such a number in the parent, or in a
        subaccount no pass reads, names the time it spends there, for good), puts the number back
        where the mapping has it, then runs <code>submigrate routes</code> and
        <code>submigrate report</code>; the customer checks what the number sent meanwhile against
        its suppression list and its own opt-out records.`,
    );
  }
  if (violations !== null && unjudged.length > 0) {
    reasons.push(
      html`${unjudged.length} span(s) since the move were never read by a reconcile pass
        (${unjudged.map((span) => `${span.accountSid} ${span.start} → ${span.end}`).join(', ')}): a
        message sent in them to someone on a list is not judged, so nobody can say there was none.
        What to do: the engineer runs <code>submigrate reconcile</code> (without
        <code>--since</code>), which reads what Twilio still shows, then
        <code>submigrate report</code>; a span Twilio no longer shows stays unjudged.`,
    );
  }
  return reasons;
}

/**
 * Numbers this run moved with `--allow-missing-snapshot` whose history no snapshot has read
 * since: the accounts they came from are still never read, or read with gaps. Once a snapshot
 * has read them and the report is written again (what the reason tells the engineer to do),
 * their opt-outs are on the lists and the run's note, which stays, holds nothing back.
 */
function movedBeforeAnySnapshot(input: ReportPageInput): boolean {
  const { document, rows } = input;
  if (!document.run.notes.some((n) => n.note.startsWith('--allow-missing-snapshot'))) return false;
  if (input.optouts === null) return true;
  const { never_read, not_read } = input.optouts.coverage;
  const sources = new Set(rows.map((r) => r.from_account_sid));
  if (never_read.some((w) => sources.has(w.account_sid))) return true;
  // With the customers judged one by one, a span not read after their numbers left is not theirs.
  // A list left not whole by a span not read in a subaccount (a reconcile pass with --since
  // skipped it) is another reason's: the history these numbers left was read.
  const sourceNotRead = not_read.some((w) => sources.has(w.account_sid));
  if (input.partial !== undefined) return sourceNotRead && notWhole(input).length > 0;
  return sourceNotRead;
}

/**
 * The accounts the run's numbers were moved out of, as the page names them: the parent account,
 * by its SID; a later wave's, which moved numbers on out of subaccounts an earlier one put them
 * in, those subaccounts (and the parent first, when some came from it), not the parent alone.
 */
export function movedOutOf(input: ReportPageInput): Html {
  const parent = input.document.run.parent_account_sid;
  const sources = new Set(
    input.rows.flatMap((r) => (typeof r.from_account_sid === 'string' ? [r.from_account_sid] : [])),
  );
  const subaccounts = [...sources].filter((sid) => sid !== parent).sort();
  const parentShown = html`the parent account <span class="sid">${parent}</span>`;
  if (subaccounts.length === 0) return parentShown;
  const shown = subaccounts.map(
    (sid, i) => html`${i === 0 ? '' : ', '}<span class="sid">${sid}</span>`,
  );
  return sources.has(parent)
    ? html`${parentShown} and subaccount(s) ${shown}`
    : html`subaccount(s) ${shown}`;
}

/**
 * The first thing on the page: what the reviewer is asked to confirm, built only from the
 * figures the page shows below, and whether the run is ready to be signed off. Never a tick
 * while the run is not finished or a list is not whole: it says NOT ready, and why.
 */
export function signOff(input: ReportPageInput, violations: number | null): Html {
  const { document, rows } = input;
  const blockers = signOffBlockers(input, violations);
  const ready = blockers.length === 0;
  const moved = movedInto(document);
  const movedRows = rows.filter(moved);
  const subaccounts = new Set(movedRows.map((r) => r.to_account_sid)).size;
  const listRows = vouchedRows(input);
  // A list not known is a reason not to sign, above: here only the rows of the lists vouched for.
  const unenforced = listOnly(input)?.rows ?? null;
  const confirm: Html[] = [
    html`${movedRows.length} of ${rows.length} phone number(s) moved out of ${movedOutOf(input)}
    into ${subaccounts} subaccount(s), one per customer (${document.customers.length} customer(s) in
    this run).`,
  ];
  if (listRows !== null) {
    confirm.push(
      html`Each customer has been given its suppression list (the files in the
        <code>optouts</code> folder beside this page): ${listRows} opt-out(s) in all, each with the
        message that proves it.`,
    );
  }
  if (unenforced !== null && listRows !== null) {
    confirm.push(
      unenforced === 0
        ? html`Twilio itself refuses every send to the people on these lists: their opt-outs were
          written into the subaccounts.`
        : html`<span class="bad"
            >Twilio does not refuse sends to ${unenforced} of these opt-outs (toll-free numbers,
            which Twilio's opt-out records do not cover, or opt-outs not written into Twilio): for
            those the list is the only protection. The customers concerned (in red under Customers)
            must make their applications skip those people.</span
          >`,
    );
  }
  // Violations, and sends not judged yet, are reasons not to sign, above: not repeated here.
  const unjudged = unjudgedCount(input);
  // Sends held to a list that is not whole (or not known) were judged against part of it only:
  // one found so after the last pass (no pass marked it) says nothing of who was texted.
  if (violations === 0 && unjudged === 0 && !listsWhole(input)) {
    confirm.push(
      html`<span class="warn"
        >No message after the move went to anyone on the suppression lists as they stand, but not
        every list is whole (above): someone who opted out in the history not read may have been
        texted, and this page cannot say.</span
      >`,
    );
  } else if (violations === null || (violations === 0 && unjudged === 0))
    confirm.push(
      violations === null
        ? html`<span class="warn"
            >Nobody has checked yet whether anyone on a list was texted after the move: the engineer
            runs <code>submigrate reconcile</code> once the customers' applications send again.
            Until then this page cannot say.</span
          >`
        : html`Nobody on a suppression list has been texted since the move (checked up to
          ${input.lastReconcileAt ?? 'the last check'}).`,
    );
  return html`<section
    class="signoff ${ready ? 'ready' : 'not-ready'}"
    data-signoff="${ready ? 'ready' : 'not-ready'}"
    aria-labelledby="signoff-heading"
  >
    <h2 id="signoff-heading">What you are asked to sign off</h2>
    ${
      ready
        ? html`<p class="verdict ok">
            &#10003; Ready to sign off: the move finished and every list is whole.
          </p>`
        : html`<p class="verdict bad">NOT ready to sign off, because:</p>
            <ul class="blockers">
              ${blockers.map((reason) => html`<li class="bad">${reason}</li>`)}
            </ul>`
    }
    <p>${ready ? 'By signing you confirm that:' : 'Once it is ready, signing confirms that:'}</p>
    <ul>
      ${confirm.map((line) => html`<li>${line}</li>`)}
    </ul>
    <p class="muted">
      What follows if you sign: this tool changes nothing more in Twilio; the numbers stay in the
      subaccounts. Each customer is then responsible for never texting the people on its list, and
      <code>submigrate reconcile</code>, run regularly, lists anyone on a list who was texted all
      the same.
    </p>
    ${signature(input, ready, { moved: movedRows.length, listRows, violations })}
  </section>`;
}

/**
 * What sets this page apart from any other's: the run's number alone does not (every database
 * has a run 1, a rehearsal's too), so also the parent account, the plan's seal, when the run
 * began, and the figures signed for, which a later `submigrate report` of the same run may
 * change (a reconcile since), with when this page was written.
 */
function runIdentity(
  input: ReportPageInput,
  figures: { moved: number; listRows: number | null; violations: number | null },
): Html {
  const { run, plan } = input.document;
  return html`<ul class="run-identity">
    <li>
      Apply run <b data-signature-run>${run.id}</b>, numbers moved out of ${movedOutOf(input)},
      started ${run.started_at}, finished ${run.finished_at ?? 'not yet'}
    </li>
    <li>Plan file <code>${plan.path}</code>, seal <span class="sid">${plan.integrity}</span></li>
    <li>
      ${figures.moved} of ${input.rows.length} number(s) moved, ${input.document.customers.length}
      customer(s),
      ${
        figures.listRows === null
          ? 'no suppression list this tool can vouch for'
          : `${figures.listRows} opt-out(s) on the lists`
      },
      ${
        figures.violations === null
          ? 'not reconciled yet'
          : `${figures.violations} violation(s) (checked up to ${input.lastReconcileAt ?? 'the last check'})`
      }
    </li>
    <li>This page written ${input.generatedAt} by submigrate ${input.toolVersion}</li>
  </ul>`;
}

/**
 * One blank line to write on by hand: a label and a rule, no form field (a field's typing does
 * not print). A signature's line is taller.
 */
const signLine = (label: string, tall = false): Html =>
  html`<div class="sign-line${tall ? ' tall' : ''}" data-sign-line="${label}">
    ${label === '' ? '' : html`<span class="sign-label">${label}</span>`}<span class="blank"></span>
  </div>`;

/**
 * Where the reviewer signs, at the end of the block whose sentences the signature confirms (not
 * at the end of the page, pages of tables away from them): blank lines to print and fill in by
 * hand, beside what identifies this run. A run not ready gets no lines to sign on: it says not
 * to sign, and promises no lines later: a violation on record keeps a run from ever being ready.
 */
function signature(
  input: ReportPageInput,
  ready: boolean,
  figures: { moved: number; listRows: number | null; violations: number | null },
): Html {
  const identity = runIdentity(input, figures);
  if (!ready) {
    return html`<div class="signature" data-signature="do-not-sign">
      <h3>Signature</h3>
      <p class="verdict bad">
        Do not sign: this run is not ready — see the reasons above. Only a page that says it is
        ready to sign off (written again by <code>submigrate apply</code> or
        <code>submigrate report</code>) has a place to sign.
      </p>
      <p class="muted">This page is of:</p>
      ${identity}
    </div>`;
  }
  return html`<div class="signature" data-signature="open">
    <h3>Signature</h3>
    <p>This signature is for this run, and these figures, only:</p>
    ${identity}
    <div class="sign-lines">
      ${signLine('Reviewer name')} ${signLine('Role')} ${signLine('Signature', true)}
      ${signLine('Date', true)}
    </div>
    <p class="decision">
      Decision (tick one): <span class="box">&#9744;</span> approved
      <span class="box">&#9744;</span> not approved
    </p>
    <div class="sign-lines notes">${signLine('Notes')} ${signLine('')} ${signLine('')}</div>
  </div>`;
}
