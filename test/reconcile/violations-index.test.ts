/**
 * `findViolations` reads each suppression list once per call (indexed by the recipients sent
 * to) and each recipient's opt-ins alone. Held here to the algorithm it replaced
 * (test/support/violations-by-scan.ts: every send scans its list, every listed send every
 * opt-in) over seeded random inputs in a small world, so that ties and repeats are common:
 * a recipient twice on a list, pairs shared by several lists, same-second sends, opt-outs,
 * opt-ins and moves, sends with no sender, from an RCS agent or alphanumeric sender, from
 * numbers that did not move or from other accounts, 21610 refusals, opt-ins to a number or
 * through a service, before and after, pairs said since the move in one account (held only
 * against another's sends) and lifted there. `VIOLATION_SEEDS=1-5000` runs other seeds.
 */

import { describe, expect, it } from 'vitest';

import type { MovedNumber } from '../../src/db/reconcile.js';
import {
  findViolations,
  type OptIn,
  type SentMessage,
  type SuppressedPair,
} from '../../src/reconcile/violations.js';
import { prng, seedsFromEnv } from '../support/prng.js';
import { violationsByScan } from '../support/violations-by-scan.js';

const sid = (prefix: string, i: number) => `${prefix}${String(i).padStart(32, '0')}`;
const PHONES = Array.from({ length: 6 }, (_, i) => `+1555000000${i}`);
const PEOPLE = Array.from({ length: 5 }, (_, i) => `+1555777000${i}`);
const SOURCE = sid('AC', 0);
const ACCOUNTS = [SOURCE, sid('AC', 1), sid('AC', 2), sid('AC', 3)];
const SERVICES = [sid('MG', 1), sid('MG', 2)];
/** Seven seconds: most things happen in the same one as something else. */
const second = (s: number) => `2026-11-01T10:00:0${s}Z`;

function world(seed: number) {
  const r = prng(seed);
  const time = () => second(r.int(0, 6));
  const moved: MovedNumber[] = r
    .shuffle(PHONES)
    .slice(0, r.int(1, 5))
    .map((phoneNumber, i) => ({
      numberSid: sid('PN', i),
      phoneNumber,
      customerId: `c${i}`,
      subaccountSid: r.pick(ACCOUNTS.slice(1)),
      sourceAccountSid: SOURCE,
      sourceServiceSid: r.chance(0.5) ? r.pick(SERVICES) : null,
      movedAt: time(),
      moveBegan: time(),
      subaccountCreatedAt: null,
    }));
  // Some said again: standing since an earlier second, with a STOP before the latest or none.
  const said = (): Pick<SuppressedPair, 'optedOutAt' | 'standsSince' | 'priorOptOutAt'> => {
    const at = time();
    if (r.chance(0.6)) return { optedOutAt: at };
    const since = second(r.int(0, Number(at.slice(-2, -1))));
    const prior = second(r.int(Number(since.slice(-2, -1)), Number(at.slice(-2, -1))));
    return { optedOutAt: at, standsSince: since, priorOptOutAt: r.chance(0.3) ? null : prior };
  };
  // Some said since the move in an account (held only against another's sends, and its own
  // not through the service it came through), some lifted there since.
  const where = (): Pick<SuppressedPair, 'saidIn' | 'saidThrough' | 'liftedAt' | 'heldFrom'> =>
    r.chance(0.7)
      ? {}
      : {
          saidIn: r.pick(ACCOUNTS),
          saidThrough: r.chance(0.5) ? null : r.pick(SERVICES),
          liftedAt: r.chance(0.5) ? null : time(),
          ...(r.chance(0.5) ? {} : { heldFrom: time() }),
        };
  // Some pairs on several lists (a service's opt-out), some recipients twice on one.
  const shared: SuppressedPair[] = Array.from({ length: r.int(0, 4) }, () => ({
    recipient: r.pick(PEOPLE),
    stopMessageSid: r.chance(0.2) ? null : sid('SM', r.int(0, 99)),
    ...said(),
    ...where(),
  }));
  const lists = new Map<string, SuppressedPair[]>();
  for (const phone of PHONES) {
    if (r.chance(0.15)) continue;
    const own = Array.from({ length: r.int(0, 5) }, () => ({
      recipient: r.pick(PEOPLE),
      stopMessageSid: r.chance(0.2) ? null : sid('SM', r.int(100, 199)),
      ...said(),
      ...where(),
    }));
    lists.set(phone, r.shuffle([...own, ...shared.filter(() => r.chance(0.6))]));
  }
  const sends: SentMessage[] = Array.from({ length: r.int(0, 30) }, (_, i) => ({
    sid: sid('SM', 1000 + i),
    accountSid: r.pick(ACCOUNTS),
    from: r.chance(0.7) ? r.pick(PHONES) : r.pick(['', 'rcs:brand_agent', 'ACMECO', '12345']),
    to: r.pick(PEOPLE),
    status: r.pick(['delivered', 'failed', 'undelivered']),
    errorCode: r.chance(0.3) ? 21610 : r.chance(0.1) ? 30007 : null,
    messagingServiceSid: r.chance(0.7) ? r.pick(SERVICES) : null,
    sentAt: time(),
  }));
  const optIns: OptIn[] = Array.from({ length: r.int(0, 8) }, () => ({
    recipient: r.pick(PEOPLE),
    twilioNumber: r.pick(PHONES),
    messagingServiceSid: r.chance(0.5) ? r.pick(SERVICES) : null,
    at: time(),
  }));
  // The same answer for the same account and service, as sendersIn gives.
  const senders = new Map<string, MovedNumber[]>();
  const sendersOf = (send: SentMessage) => {
    const key = `${send.accountSid} ${send.messagingServiceSid}`;
    if (!senders.has(key))
      senders.set(
        key,
        moved.filter(() => r.chance(0.6)),
      );
    return senders.get(key)!;
  };
  // Each number's stays: some accounts a transfer put it in, some of them left since.
  const placedIn = r.chance(0.5)
    ? new Map(
        moved.map((m) => [
          m.numberSid,
          ACCOUNTS.filter(() => r.chance(0.4)).map((accountSid) => {
            const began = time();
            const left = r.chance(0.5) ? null : time();
            return { accountSid, began, left: left !== null && left < began ? began : left };
          }),
        ]),
      )
    : undefined;
  return { moved, lists, sends, optIns, sendersOf, placedIn };
}

const SEEDS = seedsFromEnv('VIOLATION_SEEDS') ?? Array.from({ length: 3000 }, (_, i) => i + 1);

describe('findViolations, indexed', () => {
  it('gives the verdicts of scanning every list for every send, over random worlds', () => {
    const seen = { violations: 0, blocked: 0, checked: 0, fromNoNumber: 0, withoutSender: 0 };
    for (const seed of SEEDS) {
      const w = world(seed);
      const args = [w.moved, w.lists, w.sends, w.optIns, w.sendersOf, w.placedIn] as const;
      const expected = violationsByScan(...args);
      expect(findViolations(...args), `seed ${seed}`).toEqual(expected);
      seen.violations += expected.violations.length;
      seen.blocked += expected.blocked.length;
      seen.checked += expected.checked;
      seen.fromNoNumber += expected.violations.filter(
        (v) => !v.senderNumber.startsWith('+'),
      ).length;
      seen.withoutSender += expected.blocked.filter((s) => s.from === '').length;
    }
    // The worlds reach every kind of verdict (with the fixed seeds; others may not).
    if (process.env['VIOLATION_SEEDS'] === undefined) {
      for (const count of Object.values(seen)) expect(count).toBeGreaterThan(0);
    }
  });

  it('a recipient twice on a list: a START that lifts the earlier opt-out leaves the later one standing, whatever the list order', () => {
    const [number] = world(1).moved;
    const m = { ...number!, moveBegan: second(0), subaccountSid: sid('AC', 1) };
    const first = { recipient: PEOPLE[0]!, stopMessageSid: 'SMfirst', optedOutAt: second(1) };
    const later = { recipient: PEOPLE[0]!, stopMessageSid: 'SMlater', optedOutAt: second(3) };
    const send: SentMessage = {
      sid: sid('SM', 1),
      accountSid: m.subaccountSid,
      from: m.phoneNumber,
      to: PEOPLE[0]!,
      status: 'delivered',
      errorCode: null,
      messagingServiceSid: null,
      sentAt: second(5),
    };
    // STOP (1), START (2), STOP again (3): the person is opted out when the number sends (5).
    const optIn = {
      recipient: PEOPLE[0]!,
      twilioNumber: m.phoneNumber,
      messagingServiceSid: null,
      at: second(2),
    };
    for (const list of [
      [first, later],
      [later, first],
    ]) {
      const args = [[m], new Map([[m.phoneNumber, list]]), [send], [optIn]] as const;
      expect(findViolations(...args)).toEqual(violationsByScan(...args));
      expect(findViolations(...args).violations).toMatchObject([{ stopMessageSid: 'SMlater' }]);
    }
    // Lifted both (a START after the later one too): no violation.
    const both = { ...optIn, at: second(4) };
    const args = [[m], new Map([[m.phoneNumber, [first, later]]]), [send], [both]] as const;
    expect(findViolations(...args).violations).toEqual([]);
    // Refused by Twilio: blocked, whichever pair it was refused for.
    const refused = { ...send, errorCode: 21610 };
    expect(
      findViolations([m], new Map([[m.phoneNumber, [first, later]]]), [refused], [optIn]).blocked,
    ).toEqual([refused]);
  });

  it('reads each list once, not once per send: pairs looked at grow with the lists, not sends × lists', () => {
    // 20 numbers with lists of 500 (a service's 400 on each), 2,000 sends: scanning each list
    // per send looks at some 1,000,000 pairs' recipients; reading each list once, 20,000.
    const r = prng(11);
    let looked = 0;
    const pair = (i: number): SuppressedPair => {
      const recipient = `+1444${String(i).padStart(7, '0')}`;
      return {
        get recipient() {
          looked += 1;
          return recipient;
        },
        stopMessageSid: null,
        optedOutAt: second(0),
      };
    };
    const service = Array.from({ length: 400 }, (_, i) => pair(i));
    const moved: MovedNumber[] = Array.from({ length: 20 }, (_, i) => ({
      numberSid: sid('PN', i),
      phoneNumber: `+1555100${String(i).padStart(4, '0')}`,
      customerId: 'c',
      subaccountSid: sid('AC', 1),
      sourceAccountSid: SOURCE,
      sourceServiceSid: SERVICES[0]!,
      movedAt: second(1),
      moveBegan: second(1),
      subaccountCreatedAt: null,
    }));
    const lists = new Map(
      moved.map((m, i) => [
        m.phoneNumber,
        [...service, ...Array.from({ length: 100 }, (_, j) => pair(1000 + i * 100 + j))],
      ]),
    );
    const sends: SentMessage[] = Array.from({ length: 2000 }, (_, i) => ({
      sid: sid('SM', i),
      accountSid: sid('AC', 1),
      from: i % 10 === 0 ? 'rcs:brand_agent' : r.pick(moved).phoneNumber,
      to: `+1444${String(r.int(0, 5000)).padStart(7, '0')}`,
      status: 'delivered',
      errorCode: null,
      messagingServiceSid: SERVICES[0]!,
      sentAt: second(2),
    }));
    const entries = 20 * 500;
    const verdicts = findViolations(moved, lists, sends, [], () => moved);
    expect(verdicts.checked).toBe(2000);
    expect(verdicts.violations.length).toBeGreaterThan(0);
    expect(looked).toBeLessThanOrEqual(2 * entries);
  });
});
