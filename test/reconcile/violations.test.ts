import { describe, expect, it } from 'vitest';

import type { MovedNumber } from '../../src/db/reconcile.js';
import {
  findViolations,
  type SentMessage,
  type SuppressedPair,
} from '../../src/reconcile/violations.js';

const SUB = 'AC' + '1'.repeat(32);
const OTHER = 'AC' + '2'.repeat(32);
const N = '+15550000001';
const M = '+15550000002';
const R = '+15557770001';
const STOP = 'SM' + 'a'.repeat(32);
const SERVICE = 'MG' + 'b'.repeat(32);

const moved: MovedNumber[] = [
  {
    numberSid: 'PN' + '1'.repeat(32),
    phoneNumber: N,
    customerId: 'acme',
    subaccountSid: SUB,
    sourceAccountSid: 'AC' + '0'.repeat(32),
    sourceServiceSid: null,
    movedAt: '2026-11-01T10:00:00Z',
    moveBegan: '2026-11-01T09:55:00Z',
    subaccountCreatedAt: null,
  },
];
const lists = new Map([
  [N, [{ recipient: R, stopMessageSid: STOP, optedOutAt: '2026-10-01T00:00:00Z' }]],
]);

let seq = 0;
const send = (over: Partial<SentMessage> = {}): SentMessage => ({
  sid: `SM${String(++seq).padStart(32, '0')}`,
  accountSid: SUB,
  from: N,
  to: R,
  status: 'delivered',
  errorCode: null,
  messagingServiceSid: SERVICE,
  sentAt: '2026-11-02T00:00:00Z',
  ...over,
});

describe('findViolations', () => {
  it('passes over a send from an account a transfer had it in then, but holds one made there after a later transfer took it out', () => {
    const numberSid = moved[0]!.numberSid;
    const placedIn = new Map([
      [
        numberSid,
        [
          { accountSid: OTHER, began: '2026-11-01T09:55:00Z', left: '2026-11-03T00:00:00Z' },
          { accountSid: SUB, began: '2026-11-02T23:59:00Z', left: null },
        ],
      ],
    ]);
    const whileThere = send({ accountSid: OTHER, sentAt: '2026-11-02T12:00:00Z' });
    const afterIt = send({ accountSid: OTHER, sentAt: '2026-11-04T00:00:00Z' });
    const verdicts = findViolations(moved, lists, [whileThere, afterIt], [], () => [], placedIn);
    expect(verdicts.violations.map((v) => [v.violatingMessageSid, v.accountSid])).toEqual([
      [afterIt.sid, OTHER],
    ]);
  });

  it('holds a send made in an account before the transfer that put the number there, moved there by hand first', () => {
    // Its stay there began later: passed over, the send was judged by no pass and named by no
    // numbers-left span (which runs from the stay's start).
    const numberSid = moved[0]!.numberSid;
    const placedIn = new Map([
      [
        numberSid,
        [
          { accountSid: SUB, began: '2026-11-01T09:55:00Z', left: '2026-11-03T00:00:00Z' },
          { accountSid: OTHER, began: '2026-11-05T00:00:00Z', left: '2026-11-08T00:00:00Z' },
        ],
      ],
    ]);
    const moreMoved = [{ ...moved[0]!, subaccountSid: 'AC' + '3'.repeat(32) }];
    const before = send({ accountSid: OTHER, sentAt: '2026-11-04T00:00:00Z' });
    const during = send({ accountSid: OTHER, sentAt: '2026-11-06T00:00:00Z' });
    const verdicts = findViolations(moreMoved, lists, [before, during], [], () => [], placedIn);
    expect(verdicts.violations.map((v) => [v.violatingMessageSid, v.accountSid])).toEqual([
      [before.sid, OTHER],
    ]);
  });

  it('a send after the move to someone on the number’s list is a violation, with its STOP', () => {
    const s = send();
    const verdicts = findViolations(moved, lists, [s], []);
    expect(verdicts.violations).toEqual([
      {
        violatingMessageSid: s.sid,
        recipient: R,
        senderNumber: N,
        messagingServiceSid: SERVICE,
        customerId: 'acme',
        stopMessageSid: STOP,
        optedOutAt: '2026-10-01T00:00:00Z',
        sentAt: s.sentAt,
        accountSid: SUB,
        status: 'delivered',
      },
    ]);
    expect(verdicts.checked).toBe(1);
  });

  it('a send Twilio refused with 21610 is blocked, not a violation', () => {
    const s = send({ status: 'failed', errorCode: 21610 });
    const verdicts = findViolations(moved, lists, [s], []);
    expect(verdicts.violations).toEqual([]);
    expect(verdicts.blocked).toEqual([s]);
  });

  it('a send that failed for another reason still counts: the tool cannot vouch it was not sent', () => {
    const s = send({ status: 'failed', errorCode: 30003 });
    expect(findViolations(moved, lists, [s], []).violations).toHaveLength(1);
  });

  it('ignores sends before the move, from other accounts, other numbers and other recipients', () => {
    const sends = [
      send({ sentAt: '2026-11-01T09:54:59Z' }),
      send({ accountSid: OTHER }),
      send({ from: M }),
      send({ to: '+15557770002' }),
    ];
    const verdicts = findViolations(moved, lists, sends, []);
    expect(verdicts.violations).toEqual([]);
    expect(verdicts.checked).toBe(1);
  });

  it('a send after the transfer was sent, before the journal recorded it done, is checked', () => {
    const s = send({ sentAt: '2026-11-01T09:59:59Z' });
    expect(findViolations(moved, lists, [s], []).violations).toHaveLength(1);
  });

  it('a START before the send lifts the suppression; one in the same second or after does not', () => {
    const s = send({ sentAt: '2026-11-03T00:00:00Z' });
    const startAt = (at: string, over = {}) => ({
      recipient: R,
      twilioNumber: N,
      messagingServiceSid: null,
      at,
      ...over,
    });
    expect(findViolations(moved, lists, [s], [startAt('2026-11-02T23:59:59Z')]).violations).toEqual(
      [],
    );
    expect(
      findViolations(moved, lists, [s], [startAt('2026-11-03T00:00:00Z')]).violations,
    ).toHaveLength(1);
    expect(
      findViolations(moved, lists, [s], [startAt('2026-11-03T00:00:01Z')]).violations,
    ).toHaveLength(1);
    // A START older than the STOP it would have to undo lifts nothing.
    expect(
      findViolations(moved, lists, [s], [startAt('2026-09-01T00:00:00Z')]).violations,
    ).toHaveLength(1);
  });

  it('a START in the same second as the opt-out lifts nothing: on a tie the opt-out wins, as on the list', () => {
    // R said STOP and START to N in the same second in an account N has left since (a wave's
    // first subaccount): the ledger cannot order them and keeps R on N's list, so a START of
    // that second cannot lift it here either. One a second later does.
    const s = send({ sentAt: '2026-11-03T00:00:00Z' });
    const startAt = (at: string) => ({
      recipient: R,
      twilioNumber: N,
      messagingServiceSid: null,
      at,
    });
    const stoppedAt = lists.get(N)![0]!.optedOutAt;
    expect(findViolations(moved, lists, [s], [startAt(stoppedAt)]).violations).toHaveLength(1);
    expect(findViolations(moved, lists, [s], [startAt('2026-10-01T00:00:01Z')]).violations).toEqual(
      [],
    );
  });

  it('a send from before the STOP broke nothing; one before a refusal-only opt-out may have', () => {
    // Read from the subaccount's history start (a number that reached it by hand): a send made
    // there before the number's STOP in the parent (it was there once before) is no violation.
    const s = send({ sentAt: '2026-11-03T00:00:00Z' });
    const later = (stopMessageSid: string | null) =>
      new Map([[N, [{ recipient: R, stopMessageSid, optedOutAt: '2026-11-03T00:00:01Z' }]]]);
    expect(findViolations(moved, later(STOP), [s], []).violations).toEqual([]);
    const sameSecond = new Map([
      [N, [{ recipient: R, stopMessageSid: STOP, optedOutAt: s.sentAt }]],
    ]);
    expect(findViolations(moved, sameSecond, [s], []).violations).toHaveLength(1);
    // Known from a refusal only: opted out no later than the refusal, when is not known.
    expect(findViolations(moved, later(null), [s], []).violations).toHaveLength(1);
  });

  it('a send before the STOP that names the pair, after the opt-out it stood since, is a violation', () => {
    // R said STOP (or was refused) before the send and STOP again after it: the list names the
    // later STOP, and R was opted out all along.
    const s = send({ sentAt: '2026-11-03T00:00:00Z' });
    const again = new Map([
      [
        N,
        [
          {
            recipient: R,
            stopMessageSid: STOP,
            optedOutAt: '2026-11-04T00:00:00Z',
            standsSince: '2026-11-02T00:00:00Z',
          },
        ],
      ],
    ]);
    const found = findViolations(moved, again, [s], []).violations;
    expect(found.map((v) => [v.violatingMessageSid, v.stopMessageSid])).toEqual([[s.sid, STOP]]);
    // Standing only since after the send: it broke nothing.
    const since = new Map([[N, [{ ...again.get(N)![0]!, standsSince: '2026-11-03T00:00:01Z' }]]]);
    expect(findViolations(moved, since, [s], []).violations).toEqual([]);
  });

  it('a START between the opt-out that stood at the send and the send lifts it, though a STOP said after the send names the pair', () => {
    // R said STOP (Nov 1), START to N in the subaccount (Nov 2), was texted (Nov 3), and said
    // STOP again through the parent's service (Nov 4): at the send R had opted back in.
    const s = send({ sentAt: '2026-11-03T00:00:00Z' });
    const start = { recipient: R, twilioNumber: N, messagingServiceSid: null };
    const startAt = (at: string) => [{ ...start, at }];
    const pair = (over: Partial<SuppressedPair>) =>
      new Map([
        [
          N,
          [
            {
              recipient: R,
              stopMessageSid: STOP,
              optedOutAt: '2026-11-04T00:00:00Z',
              standsSince: '2026-11-01T00:00:00Z',
              priorOptOutAt: '2026-11-01T00:00:00Z',
              ...over,
            },
          ],
        ],
      ]);
    const violations = (over: Partial<SuppressedPair>, at: string) =>
      findViolations(moved, pair(over), [s], startAt(at)).violations.map(
        (v) => v.violatingMessageSid,
      );
    expect(violations({}, '2026-11-02T00:00:00Z')).toEqual([]);
    // Stood from a refusal (Nov 1), with no STOP before the one after the send: lifted too.
    expect(violations({ priorOptOutAt: null }, '2026-11-02T00:00:00Z')).toEqual([]);
    // The other side: a STOP after the START and before the send stood at the send.
    expect(violations({ priorOptOutAt: '2026-11-02T12:00:00Z' }, '2026-11-02T00:00:00Z')).toEqual([
      s.sid,
    ]);
    // The START in the second of the STOP before it, or of the send, lifts nothing.
    expect(violations({}, '2026-11-01T00:00:00Z')).toEqual([s.sid]);
    expect(violations({}, s.sentAt)).toEqual([s.sid]);
    // The STOP before the latest said after the send too: which stood at the send is not
    // known, and no START before the send lifts it.
    expect(violations({ priorOptOutAt: '2026-11-03T12:00:00Z' }, '2026-11-02T00:00:00Z')).toEqual([
      s.sid,
    ]);
    // Not known at all (a kept send's pair): lifted by none either.
    expect(violations({ priorOptOutAt: undefined }, '2026-11-02T00:00:00Z')).toEqual([s.sid]);
  });

  it('a START lifts the suppression only where it was said: that number, or the service sent through', () => {
    const s = send({ sentAt: '2026-11-03T00:00:00Z' });
    const at = '2026-11-02T00:00:00Z';
    const toOtherNumber = { recipient: R, twilioNumber: M, messagingServiceSid: null, at };
    const viaService = { recipient: R, twilioNumber: M, messagingServiceSid: SERVICE, at };
    const viaOtherService = {
      recipient: R,
      twilioNumber: N,
      messagingServiceSid: 'MG' + 'c'.repeat(32),
      at,
    };
    expect(findViolations(moved, lists, [s], [toOtherNumber]).violations).toHaveLength(1);
    expect(findViolations(moved, lists, [s], [viaOtherService]).violations).toHaveLength(1);
    expect(findViolations(moved, lists, [s], [viaService]).violations).toEqual([]);
  });
});

describe('findViolations: a send a service refused before it chose a sender', () => {
  const refused = (over: Partial<SentMessage> = {}) =>
    send({ from: '', status: 'failed', errorCode: 21610, ...over });
  const through = () => moved;

  it('is blocked when its recipient is on the list of a number it went through the service for', () => {
    const s = refused();
    const verdicts = findViolations(moved, lists, [s], [], through);
    expect(verdicts).toEqual({ violations: [], blocked: [s], checked: 1 });
  });

  it('is checked but not blocked for someone on no list; not checked before the move, in another account, or with no number to go through', () => {
    expect(findViolations(moved, lists, [refused({ to: M })], [], through)).toEqual({
      violations: [],
      blocked: [],
      checked: 1,
    });
    const notTheirs = [refused({ sentAt: '2026-11-01T09:00:00Z' }), refused({ accountSid: OTHER })];
    expect(findViolations(moved, lists, notTheirs, [], through).checked).toBe(0);
    expect(findViolations(moved, lists, [refused()], []).checked).toBe(0);
  });

  it('one Twilio did not refuse is not judged: it has not gone out yet', () => {
    const s = send({ from: '', status: 'accepted' });
    expect(findViolations(moved, lists, [s], [], through)).toEqual({
      violations: [],
      blocked: [],
      checked: 0,
    });
  });
});
