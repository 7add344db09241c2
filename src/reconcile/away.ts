/**
 * Moved numbers away from the subaccount apply put them in (`number-away`): found in the parent
 * (or in a subaccount no pass reads) by a pass, or between two transfers in the journal, and up
 * to when each was there; and those a pass found in no account it listed while some subaccount
 * could not be listed (`number-not-found`), kept as well: once the number is back, nothing
 * else says where it was, and what it sent there no pass read. So are the `number-updated`
 * spans a pass did not vouch for (updated-check.ts, kept in `number_update_checks`): once the
 * number is no longer listed as changed, nothing else says it may have been away then.
 */

import { isoSeconds } from '../clock.js';
import type { Db } from '../db/open.js';
import {
  awayAfterUnmadeTransfer,
  awayBetweenTransfers,
  departuresByNumber,
  numbersAway,
  numbersFoundInPlace,
  numbersNotMoved,
  passTimes,
  reconcileWindows,
  unmadeTransferEnds,
  type MovedNumber,
  type NumberAway,
  type NumberDeparture,
  type NumberStay,
  type PassTime,
} from '../db/reconcile.js';
import {
  numberUpdateChecks,
  uncoveredCheckNumbers,
  type NumberUpdateCheck,
} from '../db/update-checks.js';
import { parentAccountSids } from '../db/snapshot-runs.js';
import { uncoveredSpans } from '../optouts/windows.js';
import { compareText } from '../text-order.js';
import type { PhoneNumber } from '../twilio/port.js';
import type { NotChecked, UnlistedSubaccount } from './result.js';

/**
 * The account of a span a pass found a moved number in no account it listed, while some
 * subaccount could not be listed (it may have been there): `number-not-found`, not an account.
 */
export const NOT_FOUND = '';

/**
 * The moved numbers found among the parent's (`inParent`; or, `parentAccountSid` another
 * account's, among that account's): each was put in its subaccount by
 * apply (or found there by an applied plan) and has left it since with no step of apply's,
 * back into the parent. What it sent there since it was last moved into the subaccount
 * (`moveBegan`, or its latest stay's beginning there) up to `now` no pass reads. Pure.
 */
export function awayInParent(
  moved: readonly MovedNumber[],
  inParent: readonly Pick<PhoneNumber, 'sid' | 'phoneNumber'>[],
  parentAccountSid: string,
  now: Date,
  stays: readonly NumberStay[] = [],
): NumberAway[] {
  const sids = new Set(inParent.map((n) => n.sid));
  const phones = new Set(inParent.map((n) => n.phoneNumber));
  return moved
    .filter(
      (m) =>
        m.subaccountSid !== parentAccountSid &&
        (sids.has(m.numberSid) || phones.has(m.phoneNumber)),
    )
    .map((m) => ({
      numberSid: m.numberSid,
      phoneNumber: m.phoneNumber,
      customerId: m.customerId,
      subaccountSid: m.subaccountSid,
      accountSid: parentAccountSid,
      start: lastArrival(m, stays),
      end: isoSeconds(now),
    }));
}

/**
 * When a moved number last came into the subaccount it is held to: its move (`moveBegan`), or
 * its latest stay's beginning there (ISO 8601 UTC, to the second). Pure.
 */
export function lastArrival(
  m: Pick<MovedNumber, 'numberSid' | 'subaccountSid' | 'moveBegan'>,
  stays: readonly NumberStay[],
): string {
  const arrived = stays
    .filter((s) => s.numberSid === m.numberSid && s.accountSid === m.subaccountSid)
    .reduce((a, s) => (s.began > a ? s.began : a), m.moveBegan);
  return isoSeconds(new Date(arrived));
}

/**
 * Every span a moved number was away from the subaccount apply put it in (`number-away`): those
 * passes found it in the parent (kept for good, each to when it left: `awayUntil`), and those
 * the journal shows between two transfers (a later one took it out of another account than the
 * one before put it in), one per number, account and start, to the latest end.
 */
export function awaySpans(db: Db, moved: readonly MovedNumber[]): NotChecked[] {
  const bySid = new Map(moved.map((m) => [m.numberSid, m]));
  const spans = new Map<string, NumberAway>();
  // Up to when a pass last found each span's number there (or nowhere), before `awayUntil`
  // carries it on to the next pass.
  const foundUntil = new Map<NumberAway, string>();
  const keep = (span: NumberAway, until = span.end) => {
    const key = `${span.numberSid} ${span.accountSid} ${isoSeconds(new Date(span.start))}`;
    const before = spans.get(key);
    if (before === undefined || Date.parse(span.end) > Date.parse(before.end)) {
      spans.set(key, span);
      foundUntil.set(span, until);
    }
  };
  const passes = passTimes(db);
  const departures = departuresByNumber(db);
  for (const span of numbersAway(db)) {
    keep({ ...span, end: awayUntil(span, passes, departures.get(span.numberSid) ?? []) }, span.end);
  }
  // A transfer that failed or was not run, and a later one out of another account: moved by
  // hand in between, where no pass may have found it.
  for (const span of awayAfterUnmadeTransfer(db)) {
    keep({
      ...span,
      start: isoSeconds(new Date(span.start)),
      end: isoSeconds(new Date(span.end)),
    });
  }
  for (const span of awayBetweenTransfers(db)) {
    const number = bySid.get(span.numberSid);
    if (number === undefined) continue;
    keep({
      ...span,
      phoneNumber: number.phoneNumber,
      customerId: number.customerId,
      start: isoSeconds(new Date(span.start)),
      end: isoSeconds(new Date(span.end)),
    });
  }
  const found = [...spans.values()].filter((span) => span.accountSid !== NOT_FOUND);
  // A number whose transfer failed or was not run while its customer has no subaccount yet is
  // held to the account it comes from (`numbersNotMoved`): found away from that account, it is
  // named as what it is, not as its subaccount.
  const parents = parentAccountSids(db);
  let notMoved: MovedNumber[] | undefined;
  const comesFrom = (span: NumberAway): 'parent' | 'subaccount' | undefined => {
    if (span.accountSid === NOT_FOUND) return undefined;
    if (parents.has(span.subaccountSid)) return 'parent';
    return (notMoved ??= numbersNotMoved(db, new Set())).some(
      (n) =>
        n.numberSid === span.numberSid &&
        n.subaccountSid === n.sourceAccountSid &&
        n.sourceAccountSid === span.subaccountSid,
    )
      ? 'subaccount'
      : undefined;
  };
  // One whose customer has a subaccount was never in it: named as what it is, and, found in an
  // account the passes read (a moved number's subaccount), its sends there are held to its list
  // (pass-read.ts, readWindows), which the line says rather than that none are judged: only
  // where passes begun after Twilio refused its transfer read that account over the whole span
  // (one there before a later wave made it a subaccount passes read was read by none).
  const read = new Set(moved.map((m) => m.subaccountSid));
  let refused: Map<string, string | null> | undefined;
  const heldOver = (span: NumberAway): boolean => {
    if (!read.has(span.accountSid)) return false;
    const at = (refused ??= unmadeTransferEnds(db)).get(span.numberSid);
    const after = at === undefined || at === null ? -Infinity : Date.parse(at);
    const windows = reconcileWindows(db, span.accountSid)
      .map((w) => ({ start: new Date(w.windowStart), end: new Date(w.windowEnd) }))
      .filter((w) => w.end.getTime() > after);
    const whole = { start: new Date(span.start), end: new Date(span.end) };
    return uncoveredSpans(whole, windows).length === 0;
  };
  const transferFrom = (span: NumberAway): Pick<NotChecked, 'transferFrom' | 'sendsHeld'> => {
    if (span.accountSid === NOT_FOUND) return {};
    const n = (notMoved ??= numbersNotMoved(db, new Set())).find(
      (m) =>
        m.numberSid === span.numberSid &&
        m.subaccountSid === span.subaccountSid &&
        m.sourceAccountSid !== m.subaccountSid &&
        m.sourceAccountSid !== span.accountSid,
    );
    if (n === undefined) return {};
    const kind = parents.has(n.sourceAccountSid) ? 'parent' : 'subaccount';
    return {
      transferFrom: { accountSid: n.sourceAccountSid, kind },
      ...(heldOver(span) ? { sendsHeld: true as const } : {}),
    };
  };
  const kept = [...spans.values()]
    .filter((span) => !foundSince({ ...span, end: foundUntil.get(span)! }, found))
    .sort((a, b) => compareText(`${a.start} ${a.phoneNumber}`, `${b.start} ${b.phoneNumber}`))
    .map((span): NotChecked => {
      const from = comesFrom(span);
      return {
        ...(from === undefined ? transferFrom(span) : {}),
        // Found nowhere: the span is told against the subaccount it was missing from.
        accountSid: span.accountSid === NOT_FOUND ? span.subaccountSid : span.accountSid,
        start: span.start,
        end: span.end,
        reason: span.accountSid === NOT_FOUND ? 'number-not-found' : 'number-away',
        customerId: span.customerId,
        phoneNumber: span.phoneNumber,
        subaccountSid: span.subaccountSid,
        ...(from === undefined ? {} : { comesFrom: from }),
      };
    });
  return [...kept, ...updatedSpansKept(db, moved, found)];
}

/**
 * Whether `span`, one a pass found its number in no account it listed (`NOT_FOUND`), says
 * nothing more than a span of `found` does: a later pass found the number in an account, since
 * the same arrival, and its sends then are named there. `span.end` is when the pass that found
 * it nowhere ran, not carried on to the next pass (`awayUntil`): that next pass is the one that
 * found it, and its own span ends when it looked, which may be a second before it finished.
 * Pure.
 */
export function foundSince(
  span: Pick<NumberAway, 'numberSid' | 'accountSid' | 'start' | 'end'>,
  found: readonly Pick<NumberAway, 'numberSid' | 'start' | 'end'>[],
): boolean {
  return (
    span.accountSid === NOT_FOUND &&
    found.some(
      (f) =>
        f.numberSid === span.numberSid &&
        Date.parse(f.start) <= Date.parse(span.start) &&
        Date.parse(f.end) >= Date.parse(span.end),
    )
  );
}

/**
 * The `number-updated` spans passes kept without vouching for them (`found`: a message of the
 * number elsewhere; `unvouched`: an account unreadable, or beyond the Messages window), less
 * those (not found) a span vouched for since covers (the same number in the same subaccount, read from no
 * later to no earlier), those a span a pass found the number away in covers (`away`), in the
 * account its message found is in for one found: that one names its sends then, and those
 * another kept one named here covers (a later change read from the same arrival: named once;
 * one left out itself leaves out nothing). Oldest first.
 */
function updatedSpansKept(
  db: Db,
  moved: readonly MovedNumber[],
  away: readonly NumberAway[],
): NotChecked[] {
  const checks = numberUpdateChecks(db);
  const open = checks.filter((c) => c.outcome !== 'vouched');
  if (open.length === 0) return [];
  const numbers = [...moved, ...numbersFoundInPlace(db, new Set(moved.map((m) => m.numberSid)))];
  const covers = (c: NumberUpdateCheck, start: string, end: string) =>
    Date.parse(start) <= Date.parse(c.spanStart) && Date.parse(end) >= Date.parse(c.dateUpdated);
  let mapped: ReturnType<typeof uncoveredCheckNumbers> | undefined;
  let notMoved: MovedNumber[] | undefined;
  const parents = parentAccountSids(db);
  const sameKey = (a: NumberUpdateCheck, b: NumberUpdateCheck) =>
    a.spanStart === b.spanStart && a.dateUpdated === b.dateUpdated;
  // Covered by a span vouched for, or by a span found away; else by another kept here that is
  // named itself (a later change read from the same arrival). One left out by a span vouched
  // for or found away leaves out none it covers: a found one it covers, which neither leaves
  // out, would be named by nothing.
  const named = open.filter(
    (c) =>
      !checks.some(
        (v) =>
          // A message found is not unsaid by a later read that no longer shows it (deleted,
          // or past a window the owner shortened): a vouched span covers only one not found.
          v.outcome === 'vouched' &&
          c.outcome !== 'found' &&
          v.numberSid === c.numberSid &&
          v.subaccountSid === c.subaccountSid &&
          covers(c, v.spanStart, v.dateUpdated),
      ) &&
      // One found is named by a span away only in the account its message is in: one in
      // another (moved on there since, by hand) would tell the customer to look only there.
      !away.some(
        (a) =>
          a.numberSid === c.numberSid &&
          covers(c, a.start, a.end) &&
          (c.found === null || a.accountSid === c.found.accountSid),
      ),
  );
  return named
    .filter(
      (c) =>
        !named.some(
          (v) =>
            !sameKey(v, c) &&
            v.numberSid === c.numberSid &&
            v.subaccountSid === c.subaccountSid &&
            covers(c, v.spanStart, v.dateUpdated),
        ),
    )
    .flatMap((c): NotChecked[] => {
      // Held to that subaccount now; else as the mapping recorded it (a later plan gave it to
      // another customer, say: no moved number holds it there any more). Never left out: its
      // span would be forgotten, and a pass would exit 0 over what it may have sent elsewhere.
      const number =
        numbers.find((n) => n.numberSid === c.numberSid && n.subaccountSid === c.subaccountSid) ??
        (mapped ??= uncoveredCheckNumbers(db)).get(`${c.numberSid} ${c.subaccountSid}`) ??
        numbers.find((n) => n.numberSid === c.numberSid);
      // Held to the account it comes from, its transfer failed: that account, not its
      // subaccount (the parent, or where an earlier wave put it).
      const comesFrom = parents.has(c.subaccountSid)
        ? ('parent' as const)
        : (notMoved ??= numbersNotMoved(db, new Set())).some(
              (n) => n.numberSid === c.numberSid && n.sourceAccountSid === c.subaccountSid,
            )
          ? ('subaccount' as const)
          : undefined;
      return [
        {
          accountSid: c.subaccountSid,
          start: c.spanStart,
          end: c.dateUpdated,
          reason: 'number-updated',
          ...(number === undefined
            ? {}
            : { customerId: number.customerId, phoneNumber: number.phoneNumber }),
          subaccountSid: c.subaccountSid,
          ...(comesFrom === undefined ? {} : { comesFrom }),
          ...(c.found === null ? {} : { updatedCheck: { outcome: 'found' as const, ...c.found } }),
        },
      ];
    })
    .sort((a, b) => compareText(`${a.start} ${a.phoneNumber}`, `${b.start} ${b.phoneNumber}`));
}

/**
 * `kept` (what earlier passes kept, `awaySpans`) less the `number-updated` spans this pass
 * said itself (`said`, with why) or that one of those covers: each is named once. Pure.
 */
export function withoutSaidAgain(
  kept: readonly NotChecked[],
  said: readonly NotChecked[],
): NotChecked[] {
  return kept.filter(
    (span) =>
      span.reason !== 'number-updated' ||
      !said.some(
        (s) =>
          s.phoneNumber === span.phoneNumber &&
          s.subaccountSid === span.subaccountSid &&
          Date.parse(s.start) <= Date.parse(span.start) &&
          Date.parse(s.end) >= Date.parse(span.end),
      ),
  );
}

/**
 * `said` (the `number-updated` spans this pass says itself) less each that a `number-away` span
 * of `spans` names: its message found (`updatedCheck`) is in the account that span has the
 * number in, and that span covers it (from no later to no earlier). That span names its sends
 * there then, the message found among them, and a send is named once, as later passes name it
 * (`awaySpans`: a kept span an away one covers is left out). One found elsewhere, not covered,
 * or not found (unreadable, retention) is kept: it says what that span does not. Pure.
 */
export function withoutNamedAway(
  said: readonly NotChecked[],
  spans: readonly NotChecked[],
): NotChecked[] {
  return said.filter((s) => {
    const check = s.updatedCheck;
    return (
      s.reason !== 'number-updated' ||
      check?.outcome !== 'found' ||
      s.phoneNumber === undefined ||
      !spans.some(
        (a) =>
          a.reason === 'number-away' &&
          a.phoneNumber === s.phoneNumber &&
          a.accountSid === check.accountSid &&
          Date.parse(a.start) <= Date.parse(s.start) &&
          Date.parse(a.end) >= Date.parse(s.end),
      )
    );
  });
}

/**
 * A span no pass reads because its number was out of its subaccount, moved by hand: found in
 * another account (`number-away`) or in none listed (`number-not-found`), or changed in its
 * subaccount since apply last did and not vouched for (`number-updated`: it may have been away
 * and back). Running reconcile again does not judge it.
 */
export const isNumberAway = (span: { reason: string }): span is NotChecked =>
  span.reason === 'number-away' ||
  span.reason === 'number-not-found' ||
  span.reason === 'number-updated';

/** Such a span as the reports name it: the number, where it was, and when. */
export const numberAwayWhere = (span: NotChecked): string =>
  `${span.phoneNumber ?? 'a number'} ${numberWhere(span)} ${span.start} → ${span.end}`;

function numberWhere(span: NotChecked): string {
  switch (span.reason) {
    case 'number-not-found':
      return 'in no account a pass could list';
    case 'number-updated':
      return span.updatedCheck?.outcome === 'found'
        ? `in ${span.updatedCheck.accountSid} (a message of it there)`
        : span.accountSid !== span.subaccountSid && span.subaccountSid !== undefined
          ? `perhaps elsewhere on its way from ${span.subaccountSid} into ${span.accountSid} (moved by hand, not vouched for)`
          : `perhaps away from ${span.accountSid} and back (changed there, not vouched for)`;
    default:
      return `in ${span.accountSid}`;
  }
}

/**
 * `spans` with the subaccounts this pass could not list (`unlisted`) named on each
 * `number-not-found` span of a number it found nowhere (`away`, `NOT_FOUND`) since the same
 * arrival: the number may be in any of them. A span an earlier pass kept, of a number found
 * since, names none: which could not be listed then is not kept. Pure.
 */
export function namingUnlisted(
  spans: readonly NotChecked[],
  away: readonly NumberAway[],
  unlisted: readonly UnlistedSubaccount[],
): NotChecked[] {
  const now = new Set(
    away.filter((a) => a.accountSid === NOT_FOUND).map((a) => `${a.phoneNumber} ${a.start}`),
  );
  return spans.map((span) =>
    span.reason === 'number-not-found' && now.has(`${span.phoneNumber} ${span.start}`)
      ? { ...span, unlisted: [...unlisted] }
      : span,
  );
}

/**
 * Up to when a number a pass found away was there: its recorded `end` is the last pass that
 * found it there, and it left before the first pass after that one (which did not find it: it
 * would have carried `end` on), or before a transfer took it out, whichever came first. Until
 * then what it sent there was held to no list: moved back by hand after a pass found it, it sent
 * from there up to the move, and the span names those sends too, not only those up to the
 * last pass that saw it. A transfer in the second of `end` is passed over (times are whole
 * seconds: it may have come before that pass found the number there, moved back by hand since),
 * and a pass that began in that second is taken for the one that found it. Pure.
 */
export function awayUntil(
  span: Pick<NumberAway, 'accountSid' | 'end'>,
  passes: readonly PassTime[],
  departures: readonly Pick<NumberDeparture, 'accountSid' | 'leftAt'>[],
): string {
  const end = Date.parse(span.end);
  const bounds = [
    ...passes.filter((p) => Date.parse(p.startedAt) > end).map((p) => Date.parse(p.finishedAt)),
    ...departures
      .filter((d) => d.accountSid === span.accountSid && Date.parse(d.leftAt) > end)
      .map((d) => Date.parse(d.leftAt)),
  ];
  return bounds.length === 0 ? span.end : isoSeconds(new Date(Math.min(...bounds)));
}
