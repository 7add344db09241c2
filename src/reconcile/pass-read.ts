/**
 * A reconcile pass's reading: the moved numbers it holds to their lists, those found back in
 * the parent, the window it reads in each subaccount, and the messages it reads there.
 */

import { isoSeconds } from '../clock.js';
import { ledgerHoldsOptOut, tollFreeTypes, type LedgerEvent } from '../db/ledger.js';
import type { Db } from '../db/open.js';
import {
  departuresByNumber,
  movedNumbers,
  judgedNotWhole,
  numberStays,
  applyTouchedNumbers,
  numbersFoundInPlace,
  numbersNotMoved,
  type MovedNumber,
  type NumberStay,
} from '../db/reconcile.js';
import {
  knownSubaccounts,
  numberUpdateChecks,
  recordNumberUpdateChecks,
} from '../db/update-checks.js';
import { completedWindows } from '../db/snapshot-runs.js';
import { UserError } from '../errors.js';
import { isPhoneNumber, splitAddress } from '../optouts/channels.js';
import { classifyMessage } from '../optouts/classify.js';
import { olderRulesNote, readCoverage } from '../optouts/export.js';
import { PageTrail } from '../twilio/page-trail.js';
import type { TwilioPort } from '../twilio/port.js';
import { type SentMessage } from './violations.js';
import { latest, earliest } from './instants.js';
import { subaccountsNow, bySubaccount, arrivedSince } from './moved.js';
import { atSource, searchAway } from './away-search.js';
import { checkUpdated, checkedUpTo, vouchedUpTo } from './updated-check.js';
import {
  arrivalsNotChecked,
  passWindows,
  readableFrom,
  notCheckedSpans,
  passStart,
} from './spans.js';
import { historyBeginnings } from './history-beginnings.js';
import { arrivalsInPlace } from './in-place-arrival.js';
import { arrivalsBeforeSource, arrivalStays, type ArrivalStay } from './whereabouts.js';
import type { ReconcileInput, ReconcileDeps } from './run-reconcile.js';

const PAGE_SIZE = 1000;

/** The moved numbers a pass holds to their lists; refused when it cannot vouch for any. */
export function movedToReconcile(input: ReconcileInput, db: Db, now: Date): MovedNumber[] {
  if (input.since !== null && input.since > now) {
    throw new UserError(`--since ${isoSeconds(input.since)} is in the future`);
  }
  const moved = movedNumbers(db);
  // A mapped number an applied plan found already in its subaccount, or whose transfer an
  // apply failed or did not run, is looked for as a moved one (numbersAway): with no number
  // moved, the pass still runs for it (moved by hand, it sends with its STOPs forgotten).
  if (
    moved.length === 0 &&
    numbersFoundInPlace(db, new Set()).length === 0 &&
    numbersNotMoved(db, new Set()).length === 0
  ) {
    throw new UserError(
      'no number has been moved with this database yet, nor found in its subaccount by an applied plan, nor left where it was by an apply that failed to move it: reconcile reads the subaccounts `submigrate apply` moved numbers into.',
    );
  }
  // No list, no verdict: a source account nobody read would make every send look clean.
  const movedCustomers = new Set(moved.map((m) => m.customerId));
  const neverRead = readCoverage(db).never_read.filter((w) =>
    w.customer_ids.some((c) => movedCustomers.has(c)),
  );
  if (neverRead.length > 0) {
    throw new UserError(
      `no completed snapshot has read ${neverRead.map((w) => w.account_sid).join(', ')}${olderRulesNote(db)}, where moved numbers came from (customers ${[...new Set(neverRead.flatMap((w) => w.customer_ids))].join(', ')}): there is no suppression list to hold their sends to, so reconcile cannot vouch for any. Run \`submigrate snapshot${neverRead.map((w) => ` --account ${w.account_sid}`).join('')}\` first.`,
    );
  }
  return moved;
}

/**
 * Each moved number's stays, those found away from their subaccount (back in the parent, or in
 * a subaccount no pass reads: away-search.ts), and those found nowhere while some subaccount
 * could not be listed.
 */
export async function numbersAway(deps: ReconcileDeps, moved: readonly MovedNumber[], now: Date) {
  const { db, twilio } = deps;
  // A pass reads a moved number's sends only in the subaccount it is held to. One moved out of
  // it by hand sends from where it is, where no pass reads: found there, it is named, never
  // taken for "0 violations".
  // One moved away by hand and back between two passes is in its subaccount when a pass lists
  // it, but Twilio dates the move back (`date_updated`): said, as it may have sent elsewhere.
  // A mapped number an applied plan found already in its subaccount is looked for too: moved
  // out by hand since, it sends from where it is with the STOPs said to it there forgotten.
  const stays = numberStays(db, subaccountsNow(moved));
  const inPlace = numbersFoundInPlace(db, new Set(moved.map((m) => m.numberSid)));
  // A mapped number whose transfer failed or did not run is looked for too: found out of the
  // account it comes from, it was moved by hand, and sends with its opt-outs forgotten.
  const notMoved = numbersNotMoved(db, new Set([...moved, ...inPlace].map((m) => m.numberSid)));
  const kept = numberUpdateChecks(db);
  const search = await searchAway(
    twilio,
    moved,
    now,
    stays,
    applyTouchedNumbers(db),
    inPlace,
    vouchedUpTo(kept),
    notMoved,
    checkedUpTo(kept),
  );
  // Found in place, perhaps come there by hand from an account nothing read: from where the
  // ledger's history of its subaccount begins to Twilio's date of its last change.
  const known = knownSubaccounts(db);
  const { spans, stopsOnlyBefore } = arrivalsInPlace(
    inPlace,
    search.listed,
    inPlaceReadFrom(db, inPlace, [twilio.parentAccountSid, ...known], now),
    kept,
    search.updated,
  );
  // Changed since apply last changed it: the family's messages say whether it was elsewhere.
  const { notChecked: updated, checks } = await checkUpdated(twilio, {
    updated: spans,
    numbers: [...moved, ...inPlace, ...atSource(notMoved)],
    kept,
    readable: readableFrom(db, now),
    now,
    known,
    onLedger: (sid) => ledgerHoldsOptOut(db, sid),
    // (Plans read only for numbers moved more than once, and only with a span to read.)
    movedOn: spans.length === 0 ? new Map() : departuresByNumber(db),
    stopsOnlyBefore,
  });
  recordNumberUpdateChecks(db, checks);
  // A number an applied plan found where it had arrived by hand, moved on by a later transfer:
  // its sends there before that transfer are held to its list still.
  const arrivals = arrivalStays(db, moved);
  return {
    stays,
    arrivals,
    away: search.away,
    unlisted: search.unlisted,
    updated,
    notMoved,
    inPlace,
  };
}

/**
 * Where each found-in-place number's subaccount's history the ledger read begins (its earliest
 * completed snapshot window), no earlier than the Messages API shows now in any account of the
 * family (`in-place-arrival.ts`): older messages elsewhere no reading can reach.
 */
function inPlaceReadFrom(
  db: Db,
  inPlace: readonly MovedNumber[],
  family: readonly string[],
  now: Date,
): Map<string, string> {
  const readFrom = new Map<string, string>();
  if (inPlace.length === 0) return readFrom;
  const readable = readableFrom(db, now);
  const shown = Math.max(...family.map((sid) => readable(sid).getTime()));
  for (const sid of new Set(inPlace.map((m) => m.subaccountSid))) {
    const first = completedWindows(db, sid).reduce(
      (a, w) => Math.min(a, Date.parse(w.windowStart)),
      Number.POSITIVE_INFINITY,
    );
    const from = Number.isFinite(first) ? Math.max(first, shown) : shown;
    readFrom.set(sid, isoSeconds(new Date(from)));
  }
  return readFrom;
}

/** Where the pass reads in each subaccount, and what no pass read there. */
export type PassScope = Awaited<ReturnType<typeof passScope>>;

/**
 * The window the pass reads in each subaccount (from the move, the last pass or a mark, not
 * older than the Messages API shows), what earlier passes read, and what no pass read since a
 * move and none can now.
 */
export async function passScope(
  input: ReconcileInput,
  deps: ReconcileDeps,
  {
    moved,
    bySub,
    stays,
    now,
    alsoSince = new Map(),
    arrivals = [],
  }: {
    moved: readonly MovedNumber[];
    bySub: ReturnType<typeof bySubaccount>;
    stays: readonly NumberStay[];
    now: Date;
    /**
     * Stays in subaccounts moved numbers reached by hand before a later transfer moved them on
     * (`arrivalStays`): the window of one the pass reads starts no later than the first moment
     * of them no pass read; what of them none reads is not checked.
     */
    arrivals?: readonly ArrivalStay[];
    /**
     * Numbers whose transfer failed found in a subaccount the pass reads (`notMovedIn`), with
     * when they may have come: its window starts no later than the first moment since then no
     * pass read.
     */
    alsoSince?: ReadonlyMap<string, readonly Pick<MovedNumber, 'moveBegan'>[]>;
  },
) {
  const { db, twilio } = deps;
  // Sends an earlier pass held to a list that was not whole are read again from then.
  const marks = judgedNotWhole(db);
  const markOf = (numbers: readonly MovedNumber[]) =>
    numbers.flatMap((n) => {
      const since = marks.get(n.customerId);
      return since === undefined ? [] : [new Date(since)];
    });
  const beginnings = await historyBeginnings(db, twilio, bySub, now);
  // The Messages API shows each account's window (as last given with --retention-days, else
  // Twilio's 400 days): a pass reads, and records as read, nothing older, which stays not read.
  const readable = readableFrom(db, now);
  // What earlier passes read. One of an older submigrate held the sends to the lists as this
  // one does, but classified the messages by older keyword rules (RULES_VERSION): what only
  // the current rules count there (a STOP with an invisible character, a send refused before a
  // sender was chosen) is not in the ledger, so, as for a snapshot, it counts as not read and
  // is read again. It still counts as read for "not checked": its sends were checked.
  const passRead = new Map([...bySub.keys()].map((sid) => [sid, passWindows(db, sid)]));
  const passReadNow = new Map(
    [...bySub.keys()].map((sid) => [sid, passWindows(db, sid, 'current')]),
  );
  const cameToSource = arrivalsBeforeSource(db, moved);
  const arrivedThere = new Map<string, Pick<MovedNumber, 'moveBegan'>[]>();
  for (const a of arrivals) {
    arrivedThere.set(a.accountSid, [
      ...(arrivedThere.get(a.accountSid) ?? []),
      { moveBegan: a.began },
    ]);
  }
  const windows = [...bySub].map(([accountSid, numbers]) => ({
    accountSid,
    start: latest(
      readable(accountSid),
      input.since ??
        earliest(
          passStart(
            [
              ...numbers.map((n) => cameToSource.get(n.numberSid) ?? n),
              ...(alsoSince.get(accountSid) ?? []),
              ...(arrivedThere.get(accountSid) ?? []),
            ],
            passReadNow.get(accountSid)!,
            numbers[0]!.subaccountCreatedAt === null ? null : (beginnings.get(accountSid) ?? null),
            now,
          ),
          ...markOf(numbers),
        ),
    ),
    end: now,
  }));
  // What no pass read since a move and none can now: said, never shown as "0 violations".
  const current = subaccountsNow(moved);
  const notChecked = notCheckedSpans(
    current,
    arrivedSince(bySub, cameToSource),
    stays,
    (accountSid) => passRead.get(accountSid) ?? passWindows(db, accountSid),
    readable,
    now,
  );
  // This pass's window counts as read for them: it holds their sends in the stay to the lists.
  const readNow = new Map(windows.map((w) => [w.accountSid, w] as const));
  notChecked.push(
    ...arrivalsNotChecked(
      arrivals,
      (accountSid) => {
        const before = passRead.get(accountSid) ?? passWindows(db, accountSid);
        const w = readNow.get(accountSid);
        return w === undefined ? before : [...before, w];
      },
      readable,
    ),
  );
  return { marks, readable, passRead, passReadNow, windows, notChecked };
}

/**
 * Each window's messages, read page by page: the keyword messages and refusals as evidence for
 * the ledger, and the sends from moved numbers (or through their services) to hold to lists.
 */
export async function readWindows(
  db: Db,
  twilio: TwilioPort,
  windows: PassScope['windows'],
  moved: readonly MovedNumber[],
  notMoved: readonly MovedNumber[] = [],
) {
  const types = tollFreeTypes(db);
  const movedPhones = new Set(moved.map((m) => m.phoneNumber));
  // A number whose transfer failed sends where Twilio keeps its opt-outs only from the account
  // it comes from: from any other, moved there by hand, its sends are held to its list.
  const comesFrom = new Map(notMoved.map((m) => [m.phoneNumber, m.sourceAccountSid]));
  const evidence: LedgerEvent[] = [];
  const sends: SentMessage[] = [];
  let messagesRead = 0;
  await Promise.all(
    windows.map(async (window) => {
      // A page named again is not read again (page-trail.ts).
      const trail = new PageTrail();
      let next: string | null = null;
      do {
        const page = await twilio.readMessagesPage(
          window.accountSid,
          next === null
            ? {
                filter: { sentAfter: window.start, sentBefore: window.end },
                pageSize: PAGE_SIZE,
              }
            : { pageUrl: next },
        );
        messagesRead += page.scanned;
        for (const m of page.messages) {
          const event = classifyMessage(m, types);
          if (event !== null) evidence.push(event);
          // A send over RCS or WhatsApp is written `rcs:+1…`: it is the number's send to the
          // person the address carries, held to the list as an SMS is (the lists key by the
          // E.164 number, whatever channel the STOP came over).
          const from = splitAddress(m.from).address;
          // A send a Messaging Service refused before it chose a sender has no `from`, and one
          // from an RCS agent (`rcs:brand_agent`), a short code or a sender ID has no number:
          // each is held to the lists of the moved numbers it went through the service for.
          const source = comesFrom.get(from);
          const sender =
            movedPhones.has(from) ||
            (source !== undefined && source !== m.accountSid) ||
            (from === '' && m.messagingServiceSid !== null) ||
            (from !== '' && !isPhoneNumber(from));
          if (m.direction !== 'inbound' && sender && m.dateSent !== null) {
            sends.push({
              sid: m.sid,
              accountSid: m.accountSid,
              from,
              to: splitAddress(m.to).address,
              status: m.status,
              errorCode: m.errorCode,
              messagingServiceSid: m.messagingServiceSid,
              sentAt: isoSeconds(m.dateSent),
            });
          }
        }
        next = trail.follow(page.nextPageUrl);
      } while (next !== null);
    }),
  );
  return { evidence, sends, messagesRead };
}
