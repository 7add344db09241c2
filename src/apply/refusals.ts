/**
 * Apply's refusals before a run, each of which leaves Twilio and the journal as they were: a
 * plan for another parent or beyond the credentials (`refuseUnfit`), the apply lock held by
 * another apply (`lockRefusal`), numbers no completed snapshot covers (`unsnapshotted`, the
 * opt-out gate `refuseUncovered`) and opt-outs the plan's carry leaves out (`refuseUncarried`).
 */

import { isoSeconds } from '../clock.js';
import {
  CLEAR_RENEWAL_SQL,
  LOCK_LIVE_MS,
  LOCK_RENEW_MS,
  renewalTime,
  unseenFrom,
  type StepRecord,
  type LockHolder,
} from '../db/journal.js';
import type { Db } from '../db/open.js';
import { olderRulesWindows } from '../db/snapshot-runs.js';
import { RefusedError, UserError } from '../errors.js';
import { olderRulesNote } from '../optouts/export.js';
import type { Uncarried } from '../plan/carry.js';
import { snapshotCommand } from '../plan/replan.js';
import type { ObservedState, Plan, PlanStep } from '../plan/types.js';
import { firstFew } from '../text-list.js';
import type { TwilioPort } from '../twilio/port.js';
import type { ApplyInput } from './apply-types.js';
import { LOCK_WATCH_MS } from './lock-watch.js';
import { describeUncarried, leftOutOfCarry } from './left-out-of-carry.js';
import { targetsFrom } from './targets.js';

/** Refusals that need neither the database nor a request: whose plan, which credentials. */
export function refuseUnfit(input: ApplyInput, twilio: TwilioPort): void {
  const { plan, planPath } = input;
  if (plan.parent_account_sid !== twilio.parentAccountSid) {
    throw new UserError(
      `${planPath} moves numbers out of ${plan.parent_account_sid}, but TWILIO_ACCOUNT_SID is ${twilio.parentAccountSid}; nothing was sent. To apply this plan, set TWILIO_ACCOUNT_SID to ${plan.parent_account_sid} with that account's credentials (and --api-url / SUBMIGRATE_API_URL to where it is); to move ${twilio.parentAccountSid}'s customers instead, make a plan with these credentials (\`submigrate plan --mapping …\`)`,
    );
  }
  if (input.credentials === 'api-key') {
    const out = plan.steps.find(
      (s) => s.action === 'transfer_number' && s.from_account_sid !== plan.parent_account_sid,
    );
    if (out?.action === 'transfer_number') {
      throw new UserError(
        `${planPath} moves ${out.phone_number} out of subaccount ${out.from_account_sid}, which takes the parent's Auth Token, and these credentials are an API key: apply with TWILIO_AUTH_TOKEN instead. Nothing was written.`,
      );
    }
  }
}

/**
 * Another apply holds the lock, as `me` (this process) sees it: `takeOverAt`, this machine's
 * time when --take-over-lock was asked and refused, as the holder (whose process cannot be seen
 * from here: `unseenFrom`) renewed the lock lately.
 */
export function lockRefusal(
  holder: LockHolder,
  me: { pid: number; hostname: string },
  takeOverAt?: string,
) {
  const held = `another apply holds ${'this database'} (pid ${holder.pid} on ${holder.hostname}${holder.runId === null ? '' : `, run ${holder.runId}`}, since ${holder.acquiredAt})`;
  const unseen = unseenFrom(holder, me);
  if (takeOverAt !== undefined && unseen && holder.renewedAt !== null) {
    const renewed = renewalTime(holder.renewedAt);
    if (renewed === null) {
      return new RefusedError(
        `${held}, and its last renewal reads ${JSON.stringify(holder.renewedAt)}, which is not a time this submigrate can read: it is taken to run there still, as nothing says it stopped. --take-over-lock takes over only an apply that no longer runs: wait for it to finish there. An apply that runs writes its renewal every ${LOCK_RENEW_MS / 1000} s, as a time \`submigrate status\` shows; if the lock still reads so after that, no apply of this submigrate renews it (the database was edited by hand, or another program wrote it): once you know that apply no longer runs on ${holder.hostname}, clear its renewal (\`sqlite3 DB "${CLEAR_RENEWAL_SQL}"\`), and --take-over-lock takes it over`,
      );
    }
    const ago = Math.round((Date.parse(takeOverAt) - renewed) / 1000);
    const when =
      ago >= 0
        ? `renewed the lock ${ago} s ago, at ${holder.renewedAt}: it still runs there`
        : `renewed the lock at ${holder.renewedAt}, ${-ago} s ahead of this machine's clock (the two clocks differ): it is taken to run there still`;
    return new RefusedError(
      `${held}, and ${when}. --take-over-lock takes over only an apply that no longer runs: wait for it to finish there; if it no longer runs, --take-over-lock takes it over once the lock is ${LOCK_LIVE_MS / 1000} s unrenewed, from ${isoSeconds(new Date(renewed + LOCK_LIVE_MS))} by this machine's clock, after watching it ${LOCK_WATCH_MS / 1000} s for a renewal`,
    );
  }
  const takeOver =
    'wait for it to finish there, or, if it no longer runs (it was stopped, its machine or container is gone), apply again with --take-over-lock';
  return new RefusedError(
    `${held}; ${
      !unseen
        ? 'wait for it to finish'
        : holder.hostname === me.hostname
          ? `pid ${holder.pid} on ${holder.hostname} is this process's own pid and hostname, but the lock is another process's: an apply in another container sharing this hostname (its pid the same: node as pid 1 in each), or one from before this machine restarted, whose process this one cannot see: ${takeOver}`
          : `${holder.hostname} is another machine (or container), whose processes this one cannot see: ${takeOver}`
    }`,
  );
}

/** The opt-out gate: numbers no completed snapshot covers are not moved unless allowed. */
export function refuseUncovered(
  input: ApplyInput,
  unread: readonly { phoneNumber: string; accountSid: string }[],
  replan: string,
  db: Db,
): void {
  if (unread.length > 0 && !input.allowMissingSnapshot) {
    const uncovered = unread.map((n) => n.phoneNumber);
    const snapshot = snapshotCommand(
      input.plan.parent_account_sid,
      unread.map((n) => n.accountSid),
      input.replan?.db ?? null,
    );
    const refused = `no completed snapshot covers the history of ${uncovered.length} number(s) this plan would move (${firstFew(uncovered, 5)})${olderRulesNote(db)}: their opt-outs would be lost. Nothing was written.`;
    const overrule = 'or apply with --allow-missing-snapshot, which the audit records';
    if (readByOlderRulesOnly(db, unread)) {
      throw new RefusedError(
        `${refused} Run \`${snapshot}\` first, then this apply again: the plan was made from what the older submigrate read, and if the snapshot finds an opt-out the plan does not carry, apply says so and prints the command that makes the plan again; ${overrule}.`,
      );
    }
    throw new RefusedError(
      `${refused} Run \`${snapshot}\` first, then make the plan again, so that it holds (and, made with --carry-optouts, carries) the opt-outs the snapshot finds; ${overrule}.\n${replan}`,
    );
  }
}

/**
 * Whether every account of `unread` had its history read, by an older submigrate whose keyword
 * rules no longer count: the plan was made from that reading, so it lacks only what the
 * current rules add (rare), and the carry check refuses the plan over any such opt-out it
 * does not carry. A snapshot and the same apply are then enough; an account never read needs
 * the plan made again, with the history its snapshot finds.
 */
function readByOlderRulesOnly(db: Db, unread: readonly { accountSid: string }[]): boolean {
  const read = new Set(olderRulesWindows(db).map((w) => w.accountSid));
  return unread.every((n) => read.has(n.accountSid));
}

/**
 * The carry check: the plan's carry records were fixed when it was made, and opt-outs recorded
 * since are not in them (`leftOutOfCarry`). Refuses over those it must; returns those it notes.
 */
export function refuseUncarried(
  plan: Plan,
  records: ReadonlyMap<string, StepRecord>,
  db: Db,
  continuing: boolean,
  replan: string,
): Uncarried[] {
  const left = leftOutOfCarry(plan, records, db, targetsFrom(plan, records), continuing);
  if (left.refused.length > 0) {
    throw new RefusedError(
      `the ledger now holds ${describeUncarried(left.refused)} for this plan's numbers that the plan does not carry into the subaccounts: it was made before they were recorded (by a snapshot that read older history, or a STOP that came in since), and applying it would move the numbers without them. Nothing was written.\n${replan}`,
    );
  }
  return left.noted;
}

/** Numbers it would move whose account no completed snapshot covers (where found now, or
 * without `observed`, where the plan found them), with that account. */

export function unsnapshotted(
  plan: Plan,
  records: Map<string, StepRecord>,
  observed: ObservedState | null,
  covered: ReadonlySet<string>,
): { phoneNumber: string; accountSid: string }[] {
  const accountOf = new Map((observed?.numbers ?? []).map((n) => [n.sid, n.accountSid]));
  return plan.steps
    .filter(
      (s): s is Extract<PlanStep, { action: 'transfer_number' }> =>
        s.action === 'transfer_number' &&
        records.get(s.id)?.state !== 'done' &&
        records.get(s.id)?.state !== 'skipped',
    )
    .map((s) => ({
      phoneNumber: s.phone_number,
      accountSid: accountOf.get(s.number_sid) ?? s.from_account_sid,
    }))
    .filter((n) => !covered.has(n.accountSid));
}
