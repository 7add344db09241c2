/**
 * `submigrate reconcile`: each migrated subaccount's history since its numbers moved (or
 * since the last pass, with a little overlap), read through the port (GET only). Its keyword
 * messages and refusals join the ledger — a START after the move lifts a suppression from
 * then on — and every send from a moved number is held against the suppression list the
 * number carried out of the parent: a violation, blocked (refused with 21610), or neither.
 */

import { isoSeconds, type Clock } from '../clock.js';
import { insertEvents } from '../db/ledger.js';
import type { Db } from '../db/open.js';
import type { TwilioPort } from '../twilio/port.js';
import type { ReconcileResult } from './result.js';
import { namingUnlisted, withoutNamedAway, withoutSaidAgain } from './away.js';
import { bySubaccount } from './moved.js';
import { judgedAway, notMovedIn, notMovedSenders, withoutStopOver } from './not-moved.js';
import { movedToReconcile, numbersAway, passScope, readWindows } from './pass-read.js';
import {
  createPassRun,
  holdSends,
  unreadSince,
  judgeSends,
  blockedSends,
  recordPassOf,
  notCheckedAfter,
  notWholeOf,
} from './pass-record.js';

export interface ReconcileInput {
  /** Read from here instead of from the move (or the last pass). */
  since: Date | null;
}

export interface ReconcileDeps {
  twilio: TwilioPort;
  db: Db;
  clock: Clock;
  /** Who runs the pass; `isAlive` tells an earlier pass's run left stopped from one judging. */
  runner: { pid: number; hostname: string; isAlive?(pid: number): boolean };
}

export async function runReconcile(
  input: ReconcileInput,
  deps: ReconcileDeps,
): Promise<ReconcileResult> {
  const { db, twilio, clock } = deps;
  const now = clock.now();
  const moved = movedToReconcile(input, db, now);
  const bySub = bySubaccount(moved);
  const {
    stays,
    arrivals,
    away: found,
    unlisted,
    updated,
    notMoved,
    inPlace,
  } = await numbersAway(deps, moved, now);
  // A number whose transfer failed, found in a subaccount the pass reads (moved there by hand),
  // is read there from when it may have come, and its sends there are held to its list.
  const alsoSince = notMovedIn(found, notMoved, new Set(bySub.keys()));
  const scope = await passScope(input, deps, { moved, bySub, stays, now, alsoSince, arrivals });
  const { windows } = scope;
  const { evidence, sends, messagesRead } = await readWindows(db, twilio, windows, moved, notMoved);
  // Judged there, it is named not checked only where the passes' reading cannot vouch for it,
  // nor the family's messages for where it may have been on its way there.
  const judgedThere = await withoutStopOver(db, twilio, {
    judged: judgedAway(db, {
      away: found,
      notMoved,
      read: new Map(
        windows.map((w) => [w.accountSid, [...scope.passRead.get(w.accountSid)!, w]] as const),
      ),
      now,
    }),
    notMoved,
    now,
  });
  const away = found.filter((span) => !judgedThere.has(span));
  const senders = [...moved, ...notMovedSenders(notMoved, now)];
  // The pass is a snapshot of the subaccounts: its evidence joins the ledger, and its windows
  // are where the next pass goes on from.
  const at = isoSeconds(clock.now());
  const runId = createPassRun(input, deps, windows, now);
  const evidenceAdded = insertEvents(db, runId, evidence);
  const held = holdSends(db, { moved, bySub, stays, sends, senders, arrivals });
  const unread = unreadSince(scope, bySub, now);
  const judged = judgeSends(db, { moved: senders, sends, unread, ...held });
  const { verdicts, stillPending } = judged;
  const blocked = blockedSends(senders, verdicts.blocked);
  const { pass, listed, abandoned } = recordPassOf(deps, {
    runId,
    at,
    moved,
    scope,
    stays,
    now,
    blocked,
    away,
    judged,
  });
  const earlier = namingUnlisted(notCheckedAfter(db, moved, scope.notChecked), away, unlisted);
  // A span this pass found changed, whose message lies where a span away names its sends: once.
  // Only one it says leaves out a kept one it covers: one a span away names leaves out none (a
  // span found elsewhere, in another account than that one, would be named by nothing).
  const said = withoutNamedAway(updated, earlier);
  const notChecked = [...withoutSaidAgain(earlier, said), ...said];
  return {
    passId: pass.id,
    abandonedPassRuns: abandoned.map((run) => ({ id: run.id, pid: run.pid })),
    subaccounts: windows.length,
    numbers: { moved: moved.length, foundInPlace: inPlace.length, notMoved: notMoved.length },
    windows: windows.map((w) => ({
      accountSid: w.accountSid,
      start: isoSeconds(w.start),
      end: isoSeconds(w.end),
    })),
    messagesRead,
    sendsChecked: verdicts.checked,
    newViolations: pass.newViolations,
    newBlocked: pass.newBlocked,
    pending: stillPending.length + judged.waiting.length,
    pendingFromEarlierPasses:
      judged.waiting.length + stillPending.filter((p) => judged.keptSids.has(p.sid)).length,
    evidenceAdded,
    notChecked,
    ...notWholeOf(listed, scope.marks),
    unread: [...unread].flatMap(([accountSid, spans]) =>
      spans.map((span) => ({
        accountSid,
        start: isoSeconds(span.start),
        end: isoSeconds(span.end),
        reason: span.reason,
      })),
    ),
  };
}
