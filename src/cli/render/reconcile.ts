/** `reconcile`'s pass as it is printed: the summary, then what it could not judge. */

import { relative } from 'node:path';

import { reconcileUnderWayNote } from '../../apply/under-way.js';
import type { ReconcileTotals } from '../../db/reconcile.js';
import { MISSED_BY_OLDER_RULES } from '../../optouts/export.js';
import type { NotChecked, ReconcileResult, Unread } from '../../reconcile/result.js';
import type { ReconcileEnd } from '../reconcile-run.js';

/** `--json`: the pass, the totals of every pass, and the folders written (`shown`). */
export function reconcileResultJson(
  result: ReconcileResult,
  totals: ReconcileTotals,
  shown: readonly string[],
): string {
  return JSON.stringify(
    {
      ...result,
      violations: totals.violations,
      blocked: totals.blocked,
      // The latest run's folder, as before; every folder written in reportFolders.
      reports: shown[shown.length - 1],
      reportFolders: shown,
    },
    null,
    2,
  );
}

/** The pass's summary line, naming the violations.csv of each folder written (`shown`). */
export function reconcileSummary(
  result: ReconcileResult,
  totals: ReconcileTotals,
  shown: readonly string[],
): string {
  return (
    `reconcile pass ${result.passId}: ${result.subaccounts} subaccount(s), ${result.messagesRead.toLocaleString('en-US')} messages read, ` +
    `${result.sendsChecked.toLocaleString('en-US')} sends from moved numbers checked: ${result.newViolations} new violation(s), ${result.newBlocked} new send(s) blocked by Twilio. ` +
    `In all: ${totals.violations} violation(s), ${totals.blocked} blocked. ${shown.map((dir) => `${dir}/violations.csv`).join(', ')}`
  );
}

/**
 * The lines on stderr, in order: nothing moved (only numbers whose transfer failed or was not
 * run), folders left to an apply under way (shown relative to `cwd`), sends pending, spans
 * never checked, spans not read yet, lists not whole, sends not judged again since their lists
 * became whole. `db`: --db as the user gave it.
 */
export function reconcileNotes(
  { result, underWay }: Pick<ReconcileEnd, 'result' | 'underWay'>,
  where: { cwd: string; db: string; me: { pid: number; hostname: string } },
): string[] {
  const err: string[] = [];
  const { moved, foundInPlace, notMoved } = result.numbers;
  if (moved === 0 && foundInPlace === 0) {
    err.push(
      `nothing moved: no number of the mapping is in its customer's subaccount, so no send is a moved number's. The ${notMoved} whose transfer failed or was not run ${result.notChecked.length === 0 ? 'are where their plans found them, where Twilio keeps their opt-outs' : 'were looked for: where one was found out of the account it comes from is named below'}; \`submigrate plan\` and \`apply\` move them`,
    );
  }
  for (const run of result.abandonedPassRuns) {
    err.push(
      `reconcile: run ${run.id}, a reconcile pass's that stopped before it recorded its pass (pid ${run.pid}), is abandoned: no pass takes it up, and none of its span counted as read (what it read this pass read again, unless --since began after it)`,
    );
  }
  for (const { run, holder, dir } of underWay) {
    const shown = relative(where.cwd, dir) || dir;
    err.push(reconcileUnderWayNote(run, holder, shown, where.me, where.db));
  }
  if (result.pending > 0) {
    err.push(
      `pending: ${result.pending} send(s) to a listed recipient after a span no pass read yet (${unreadWhy(result.unread)}), ${result.pendingFromEarlierPasses} of them kept from earlier passes: none is judged yet; the next pass that reads the span judges them (run \`submigrate reconcile\` without --since)`,
    );
  }
  for (const span of result.notChecked) {
    err.push(notCheckedLine(span));
  }
  for (const span of result.unread) {
    err.push(
      `not read yet: ${span.accountSid} from ${span.start} to ${span.end} (${unreadWhy([span])}): its sends, and the ones after it that an opt-in there could lift, are judged by the next pass without --since`,
    );
  }
  if (result.notWhole !== null) {
    const { customerIds, since: movedSince } = result.notWhole;
    err.push(
      `not whole: the suppression lists of ${customerIds.length} customer(s) (${customerIds.join(', ')}) miss the opt-outs said in history no snapshot read (\`submigrate optouts --customer ID\` names the spans): a send to someone who opted out there was held to no list and is not judged. Run \`submigrate snapshot\` (with --account for a subaccount), then \`submigrate reconcile --since ${movedSince}\`, which reads their sends again.`,
    );
  }
  if (result.notJudgedAgain !== null) {
    const { customerIds, since } = result.notJudgedAgain;
    err.push(
      `not judged again: the sends of ${customerIds.length} customer(s) (${customerIds.join(', ')}) were held by an earlier pass to suppression lists that were not whole, and no pass has read them again since their lists became whole: a send to someone who opted out in what was not read then is not judged. \`submigrate reconcile\` (without --since, or with --since ${since}) reads them again.`,
    );
  }
  return err;
}

/** A span no pass read since the move, or read over a list not whole, and none can now. */
function notCheckedLine(span: NotChecked): string {
  const where = `${span.accountSid} from ${span.start} to ${span.end}`;
  switch (span.reason) {
    case 'retention':
      return `not checked: ${where}, after the move but older than its Messages API window: no pass read its sends, which were held to no list`;
    case 'numbers-left':
      return `not checked: ${where}, while a moved number was in it that ${span.leftBy === 'hand' ? "no apply moved out of it and that reconcile holds to another subaccount now (moved there by hand, or its customer's subaccount is another now)" : 'a later apply has moved on since'}: no pass held its sends there to its list while it was there, and none will`;
    case 'number-away':
      return awayLine(span, where);
    case 'number-not-found':
      return notFoundLine(span);
    case 'number-updated':
      return updatedLine(span);
    default:
      return `not checked again: ${where}, the sends of ${span.customerId ?? 'a customer'}, which an earlier pass held to a suppression list that was not whole; ${span.reason === 'not-whole-retention' ? 'they are older than its Messages API window now' : 'they went out from numbers that have moved on to another customer since'}, and no pass will read them again over the whole list: a send then to someone who opted out in what was not read is not judged (ask the customer to check those messages against its own opt-out records)`;
  }
}

/**
 * A moved number found where no step of apply's put it: out of its subaccount, or in it with no
 * transfer (its transfer failed or was not run, and someone moved it there by hand since). One
 * whose transfer failed or was not run (`transferFrom`) is named as what it is, and, found in
 * an account the passes read (`sendsHeld`), the line says its sends there are judged.
 */
function awayLine(span: NotChecked, where: string): string {
  const customer = span.customerId ?? 'ID';
  // Its transfer failed or was not run (it comes from somewhere, or is in its subaccount with
  // no transfer): a number of the mapping, not a moved one.
  const moved = span.comesFrom === undefined && span.accountSid !== span.subaccountSid;
  const head = `not checked: ${where}, while ${moved ? 'moved number' : 'number'} ${span.phoneNumber ?? ''} of ${span.customerId ?? 'a customer'} was there`;
  const tail = `no pass reads its sends there, which were held to no list, and none will. Ask the customer to check what it sent from there against \`submigrate optouts --customer ${customer}\``;
  if (span.transferFrom !== undefined) {
    const { accountSid, kind } = span.transferFrom;
    const from =
      kind === 'parent' ? `the parent account ${accountSid}` : `the subaccount ${accountSid}`;
    const number = `not checked: ${where}, while number ${span.phoneNumber ?? ''} of ${span.customerId ?? 'a customer'}, whose transfer out of ${from} into its customer's subaccount ${span.subaccountSid ?? ''} failed or was not run, was there`;
    const heldTail = `its sends there are held to its list (a send to someone on it is named a violation), but reconcile cannot vouch for where it was on its way there, which may be an account no pass reads. Ask the customer to check what it sent since that apply began against \`submigrate optouts --customer ${customer}\``;
    const how =
      span.accountSid === span.subaccountSid
        ? ", in that subaccount with no transfer of apply's (moved there by hand)"
        : `, out of ${from}, where it comes from, with no step of apply's (moved by hand)`;
    const fix =
      span.accountSid === span.subaccountSid
        ? '`submigrate plan` and `apply` hold it as moved from then on'
        : '`submigrate plan` and `apply` move it into its subaccount';
    return `${number}${how}: ${span.sendsHeld === true ? heldTail : tail}; ${fix}`;
  }
  if (span.comesFrom !== undefined) {
    const from =
      span.comesFrom === 'parent'
        ? `the parent account ${span.subaccountSid ?? ''}`
        : `the subaccount ${span.subaccountSid ?? ''}`;
    return `${head}, out of ${from}, where it comes from (its transfer failed or was not run, and its customer has no subaccount yet), with no step of apply's (moved by hand): ${tail}`;
  }
  return span.accountSid === span.subaccountSid
    ? `${head}, in its subaccount with no transfer of apply's (its transfer failed or was not run: moved there by hand): ${tail}; \`submigrate plan\` and \`apply\` hold it as moved from then on`
    : `${head}, out of its subaccount ${span.subaccountSid ?? ''} with no step of apply's (moved by hand): ${tail}; \`submigrate plan\` and \`apply\` move it back`;
}

/**
 * A moved number Twilio says changed in its subaccount since apply last did, that reading the
 * family's messages for the span did not vouch for: why, and what to do.
 */
function updatedLine(span: NotChecked): string {
  const customer = span.customerId ?? 'ID';
  const head =
    span.comesFrom === undefined &&
    span.subaccountSid !== undefined &&
    span.accountSid !== span.subaccountSid
      ? `not checked: moved number ${span.phoneNumber ?? ''} of ${span.customerId ?? 'a customer'}, from ${span.start} to ${span.end}: a pass listed it in ${span.accountSid}, another subaccount passes read, ${span.arrivalUndated === true ? `which Twilio gives no date it came into (it was there when the pass listed it, at ${span.end})` : `which Twilio says it came into at ${span.end}`}, moved by hand from its subaccount ${span.subaccountSid} (perhaps through the parent, or another account no pass reads)`
      : `not checked: ${updatedWhere(span)}, but Twilio says it was changed there at ${span.end}, after apply last changed it (a webhook changed in the Console, or a move by hand away and back between two passes)`;
  const check = span.updatedCheck;
  const ask = `Ask the customer to check what it sent then against \`submigrate optouts --customer ${customer}\``;
  switch (check?.outcome) {
    case 'found':
      return `${head}; ${check.accountSid} holds a message it sent or heard at ${check.sentAt} (${check.messageSid}): it was there, and what it sent there was held to no list, a STOP said to it there is on no list. ${ask}`;
    case 'unreadable': {
      const shown = check.accounts
        .slice(0, UNLISTED_SHOWN)
        .map(
          (u) => `${u.accountSid} (HTTP ${u.status}${u.code === null ? '' : `, code ${u.code}`})`,
        )
        .join(', ');
      const more =
        check.accounts.length > UNLISTED_SHOWN
          ? ` and ${check.accounts.length - UNLISTED_SHOWN} more`
          : '';
      return `${head}; the messages of ${check.accounts.length} account(s) of the family could not be read, and it may have been in any of them then: ${shown}${more}. Twilio answers a suspended or closed subaccount's own credentials (with which a pass on an API key reads its messages) 403, code 20403: check those subaccounts in the Twilio Console, or run the pass with the parent's Auth Token. ${ask}`;
    }
    case 'retention':
      return `${head}; the span reaches back beyond what the Messages API of ${check.accountSid} still shows (from ${check.readableFrom}), so no pass can read whether it was there. Ask whoever has the Console whether it was moved, and the customer to check what it sent then against \`submigrate optouts --customer ${customer}\``;
    case undefined:
      return `${head}; if it was away, it sent from an account no pass read, held to no list, and a STOP said to it there is on no list, its sends since held to none. Ask whoever has the Console whether it was moved, and the customer to check what it sent then against \`submigrate optouts --customer ${customer}\``;
  }
}

/**
 * The number of a `number-updated` span, and the account a pass listed it in: its subaccount,
 * or, its transfer failed or not run (`comesFrom`), the account it comes from, named as what it
 * is (the parent account, or a subaccount an earlier wave put it in), not as its subaccount.
 */
function updatedWhere(span: NotChecked): string {
  const customer = span.customerId ?? 'a customer';
  const number = span.phoneNumber ?? '';
  const when = `from ${span.start} to ${span.end}`;
  const sid = span.subaccountSid ?? span.accountSid;
  switch (span.comesFrom) {
    case 'parent':
      return `number ${number} of ${customer}, whose transfer into its customer's subaccount failed or was not run, ${when}: a pass listed it in the parent account ${sid}, where it comes from`;
    case 'subaccount':
      return `number ${number} of ${customer}, whose transfer out of the subaccount ${sid} failed or was not run, ${when}: a pass listed it in that subaccount, where it comes from`;
    case undefined:
      return `moved number ${number} of ${customer}, ${when}: a pass listed it in its subaccount ${sid}`;
  }
}

/** Subaccounts named on a line before the rest are counted (`--json` lists them all). */
const UNLISTED_SHOWN = 5;

/**
 * A moved number a pass found neither in its subaccount nor in any account it listed, while
 * some subaccounts could not be listed. This pass's names each with Twilio's answer (status and
 * code, nothing else), and none is said not to hold the number; one an earlier pass kept, of a
 * number found since, names none.
 */
function notFoundLine(span: NotChecked): string {
  const customer = span.customerId ?? 'ID';
  if (span.unlisted === undefined) {
    // Kept from an earlier pass: the number has been found since (back in its subaccount, say).
    return `not checked: moved number ${span.phoneNumber ?? ''} of ${span.customerId ?? 'a customer'}, from ${span.start} to ${span.end}: a pass found it neither in its subaccount ${span.subaccountSid ?? ''} nor in any account it could list, while some subaccounts could not be listed: what it sent from where it was then was held to no list, and no pass will read it. Ask the customer to check what it sent then against \`submigrate optouts --customer ${customer}\`.`;
  }
  const unlisted = span.unlisted;
  const shown = unlisted
    .slice(0, UNLISTED_SHOWN)
    .map((u) => `${u.accountSid} (HTTP ${u.status}${u.code === null ? '' : `, code ${u.code}`})`)
    .join(', ');
  const more =
    unlisted.length > UNLISTED_SHOWN ? ` and ${unlisted.length - UNLISTED_SHOWN} more` : '';
  return `not checked: moved number ${span.phoneNumber ?? ''} of ${span.customerId ?? 'a customer'}, from ${span.start} to ${span.end}: it was not in its subaccount ${span.subaccountSid ?? ''} when this pass listed it, and this pass did not find it elsewhere; ${unlisted.length} subaccount(s) of the family could not be listed, and it may be in any of them: ${shown}${more}. What it sent from where it is was held to no list and is not judged. Twilio answers a suspended or closed subaccount's own credentials (with which a pass on an API key lists its numbers) 403, code 20403: check those subaccounts in the Twilio Console, or run the pass with the parent's Auth Token, which lists a subaccount's numbers without them. Ask the customer to check what it sent against \`submigrate optouts --customer ${customer}\`.`;
}

/** Why spans since the move count as not read yet, as the lines on stderr say it. */
export function unreadWhy(spans: readonly Unread[]): string {
  const reasons = new Set(spans.map((span) => span.reason));
  return [
    reasons.has('skipped') ? '--since skipped it' : [],
    reasons.has('older-rules')
      ? `an older submigrate read it, whose keyword rules missed some opt-outs (${MISSED_BY_OLDER_RULES}): it no longer counts as read`
      : [],
  ]
    .flat()
    .join('; or ');
}
