/**
 * A mapped number an applied plan found already in its customer's subaccount may have come
 * there by hand, before any snapshot or listing, from an account none reads: another
 * customer's subaccount the mapping does not name, say, where someone said STOP to it. Twilio
 * forgot that STOP as the number left, and its subaccount now sends to them. No listing saw it
 * there and no snapshot read that account, but Twilio dates the number's last change
 * (`date_updated`), and a transfer is one: listed in its subaccount with a date later than where
 * the ledger's history of that subaccount begins, it may have come in since. So the span from
 * there to that date is `number-updated`, and updated-check.ts reads the family's messages of
 * the number over it once: a STOP it heard elsewhere (or a send there Twilio refused as to
 * someone it had stopped) names it, as does any message of it elsewhere after its plan listed
 * it; none, and the span is vouched for and kept. What it sent or heard elsewhere otherwise
 * before its plan was none of the migration's. A date no later than that beginning is a change the ledger's history does not
 * reach, as the parent's STOPs older than it are.
 */

import { CLOCK_SKEW_MS, isoSeconds } from '../clock.js';
import type { MovedNumber } from '../db/reconcile.js';
import type { NumberUpdateCheck } from '../db/update-checks.js';
import type { PhoneNumber } from '../twilio/port.js';
import type { NotChecked } from './result.js';
import { vouchHolds } from './updated-check.js';

/**
 * `spans` (away-search.ts `updated`) with each found-in-place number's arrival read: a span of
 * it already there (changed since its plan) begins at `readFrom` of its subaccount instead, or
 * one from then to its `date_updated` is added, unless a span kept vouched for read its
 * family from no later a start, after its plan (any arrival before the plan was read then:
 * later changes are away-search.ts `changedSince`'s, from that vouch). `listed`: the numbers listed in each subaccount.
 * `readFrom`: where each subaccount's history the ledger read begins, no earlier than the
 * Messages API shows now (ISO 8601). Pure.
 */
export function arrivalsInPlace(
  inPlace: readonly MovedNumber[],
  listed: ReadonlyMap<string, readonly Pick<PhoneNumber, 'sid' | 'phoneNumber' | 'dateUpdated'>[]>,
  readFrom: ReadonlyMap<string, string>,
  kept: readonly NumberUpdateCheck[],
  spans: readonly NotChecked[],
): { spans: NotChecked[]; stopsOnlyBefore: Map<NotChecked, number> } {
  const out = [...spans];
  const before = new Map<string, number>();
  for (const m of inPlace) {
    const from = readFrom.get(m.subaccountSid);
    const there = (listed.get(m.subaccountSid) ?? []).find(
      (n) => n.sid === m.numberSid || n.phoneNumber === m.phoneNumber,
    );
    if (from === undefined || there?.dateUpdated === undefined) continue;
    const changed = there.dateUpdated.getTime();
    // Twilio's date against this machine's: the allowance on the safe side.
    if (!(changed > Date.parse(from) - CLOCK_SKEW_MS)) continue;
    const covered = kept.some(
      (c) =>
        c.numberSid === m.numberSid &&
        c.subaccountSid === m.subaccountSid &&
        c.outcome === 'vouched' &&
        vouchHolds(c) &&
        Date.parse(c.spanStart) <= Date.parse(from) &&
        Date.parse(c.checkedAt) > Date.parse(m.movedAt) + CLOCK_SKEW_MS,
    );
    if (covered) continue;
    const i = out.findIndex(
      (s) =>
        s.reason === 'number-updated' &&
        s.phoneNumber === m.phoneNumber &&
        s.subaccountSid === m.subaccountSid &&
        s.accountSid === m.subaccountSid,
    );
    const span: NotChecked = {
      accountSid: m.subaccountSid,
      start: from,
      end: isoSeconds(there.dateUpdated),
      reason: 'number-updated',
      customerId: m.customerId,
      phoneNumber: m.phoneNumber,
      subaccountSid: m.subaccountSid,
    };
    if (i === -1) out.push(span);
    else if (Date.parse(out[i]!.start) > Date.parse(from)) out[i] = { ...out[i]!, start: from };
    else continue;
    // Before its plan listed it there (by Twilio's clock, up to the allowance earlier), what it
    // sent or heard elsewhere was none of the migration's but a STOP its subaccount forgot.
    before.set(m.numberSid, Date.parse(m.movedAt) - CLOCK_SKEW_MS);
  }
  const stopsOnlyBefore = new Map<NotChecked, number>();
  for (const s of out) {
    const m = inPlace.find(
      (n) => n.phoneNumber === s.phoneNumber && n.subaccountSid === s.subaccountSid,
    );
    const at = m === undefined ? undefined : before.get(m.numberSid);
    if (at !== undefined && s.reason === 'number-updated' && s.accountSid === m!.subaccountSid) {
      stopsOnlyBefore.set(s, at);
    }
  }
  return { spans: out, stopsOnlyBefore };
}
