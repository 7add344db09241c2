/**
 * report.html's Coverage section: the message history the suppression lists were rebuilt
 * from, what was not read, the words counted as opting out or back in, and the opt-outs that
 * could be put on no customer's list.
 */

import { noListReason, olderRulesRuns, type Coverage } from '../optouts/export.js';
import { html, type Html } from './html.js';

export function coverageSection(coverage: Coverage | null, olderRuns: number): Html {
  if (coverage === null) {
    return olderRuns === 0
      ? html`<p class="bad">No completed snapshot: nothing was read.</p>`
      : html`<p class="bad">${noListReason(olderRuns)}.</p>`;
  }
  const lists = coverage.keyword_lists;
  return html`<p class="muted">
      The suppression lists were rebuilt from the message history read below: each account (by its
      SID), from when to when, and where it was read (Twilio's Messages API keeps about the last 13
      months; older days come from its Bulk Export day files).
    </p>
    <h3>Message history read</h3>
    <ul class="coverage">
      ${coverage.windows.map(
        (w) =>
          html`<li>
            <span class="sid">${w.account_sid}</span> ${w.start} → ${w.end}
            (${w.source === 'api' ? 'Messages API' : 'Bulk Export day files'})
          </li>`,
      )}
    </ul>
    <h3>Not read</h3>
    ${
      coverage.not_read.length === 0
        ? html`<p class="ok">
            Nothing: every account's history from its start to the last snapshot was read.
          </p>`
        : html`<ul class="coverage">
            ${coverage.not_read.map(
              (w) =>
                html`<li class="bad">
                  <span class="sid">${w.account_sid}</span> ${w.start} → ${w.end}
                </li>`,
            )}
          </ul>`
    }
    ${
      coverage.older_rules_runs === 0
        ? ''
        : html`<p class="bad">
            ${olderRulesRuns(coverage.older_rules_runs)}: what only they read counts as not read,
            and the next
            <code>submigrate snapshot</code>
            reads it again.
          </p>`
    }
    <h3>Words counted as opting out, back in, or asking for help</h3>
    <ul class="coverage">
      <li>opt-out: ${lists['opt-out'].join(' ')}</li>
      <li>opt-in: ${lists['opt-in'].join(' ')} (YES not on toll-free numbers)</li>
      <li>help: ${lists.help.join(' ')}</li>
    </ul>
    <p>
      ${coverage.ties_resolved_as_opt_out} time(s) someone opted out (a STOP, or a text Twilio
      refused) and back in within the same second: which came first cannot be told, so each is kept
      as opted out.
    </p>
    ${
      coverage.undated_evidence.length === 0
        ? ''
        : html`<p class="warn">
            ${coverage.undated_evidence.length} opt-out or opt-in message(s), or refused text(s),
            had no date, so could not be put in order with the others:
            ${coverage.undated_evidence.map((e) => e.message_sid).join(' ')}
          </p>`
    }
    ${coverage.not_placed.map(
      (n) =>
        html`<p class="bad">
          ${n.recipient} opted out of ${n.sender} (${n.channel ?? 'sms'}, ${n.evidence_message_sid},
          ${n.account_sid}), which is no phone number, and the evidence came through
          ${n.messaging_service_sid ?? 'no Messaging Service'}${
            n.messaging_service_sid === null
              ? ''
              : ', no Messaging Service a snapshot listed in that account'
          }:
          it is on no customer's list here. If that sender sends for a customer's numbers, put the
          person on that customer's list by hand.
        </p>`,
    )}
    ${coverage.services_not_known.map(
      (u) =>
        html`<p class="warn">
          ${u.opt_ins} opt-in(s) came through ${u.messaging_service_sid} (${u.account_sid}), which
          no snapshot listed as a Messaging Service of that account (Twilio may write such a SID on
          messages sent without one): each lifts only what its own number took, so people it may
          have opted back in stay on these lists. If it is a service of the account, the next
          <code>submigrate snapshot</code> lists it (for a subaccount,
          <code>submigrate snapshot --account ${u.account_sid}</code>).
        </p>`,
    )}
    <p class="muted">
      Snapshot runs: ${coverage.snapshot_runs.join(', ')}. What no message shows cannot be on these
      lists: opt-outs older than the history Twilio kept, and any Twilio holds from before the
      earliest window.
    </p>`;
}
