/**
 * The sends earlier passes kept pending that a pass judges without reading them (`judgeDue`):
 * the verdicts, and that each list is read once for all of them, not once per send.
 */

import { describe, expect, it } from 'vitest';

import type { KeptSend, MovedNumber } from '../../src/db/reconcile.js';
import { judgeDue } from '../../src/reconcile/judge-due.js';
import type { OptIn, SuppressedPair } from '../../src/reconcile/violations.js';

const MOVE = '2026-11-01T10:00:00Z';
const SUB = 'ACsub';
const A = '+14155550611';
const number: MovedNumber = {
  numberSid: 'PNa',
  phoneNumber: A,
  customerId: 'acme',
  subaccountSid: SUB,
  sourceAccountSid: 'ACparent',
  sourceServiceSid: null,
  movedAt: MOVE,
  moveBegan: MOVE,
  subaccountCreatedAt: null,
};
const person = (i: number) => `+1206${String(5_000_000 + i)}`;
const pair = (i: number): SuppressedPair => ({
  recipient: person(i),
  stopMessageSid: `SMstop${i}`,
  optedOutAt: '2026-10-01T00:00:00Z',
});
const kept = (i: number, to: string): KeptSend => ({
  sid: `SMsent${i}`,
  accountSid: SUB,
  from: A,
  to,
  status: 'delivered',
  errorCode: null,
  messagingServiceSid: null,
  sentAt: '2026-11-10T00:00:00Z',
  customerId: 'acme',
  stopMessageSid: null,
  optedOutAt: null,
});

/** A list whose walks are counted: each `for…of` over it is one. */
function counted(pairs: SuppressedPair[]): { list: SuppressedPair[]; walks: () => number } {
  let walks = 0;
  const values = pairs[Symbol.iterator].bind(pairs);
  Object.defineProperty(pairs, Symbol.iterator, {
    value: () => {
      walks += 1;
      return values();
    },
  });
  return { list: pairs, walks: () => walks };
}

describe('judgeDue', () => {
  it('judges kept sends from a number still in its subaccount as a pass judges one it read', () => {
    const lists = new Map([[A, [pair(1), pair(2)]]]);
    const optIns: OptIn[] = [
      {
        recipient: person(2),
        twilioNumber: A,
        messagingServiceSid: null,
        at: '2026-11-05T00:00:00Z',
      },
    ];
    const due = [kept(1, person(1)), kept(2, person(2)), kept(3, person(3))];
    const found = judgeDue(due, {
      moved: [number],
      lists,
      optIns,
      sendersOf: () => [],
      optInsOf: () => optIns,
    });
    expect(found.map((v) => [v.violatingMessageSid, v.stopMessageSid])).toEqual([
      ['SMsent1', 'SMstop1'],
    ]);
  });
  it('reads a list once for all the kept sends it judges, not once per send', () => {
    // 500 kept sends from one number with a list of 2,000: judged one by one, the list was
    // read 500 times (a list of 50,000 and thousands of kept sends: minutes).
    const { list, walks } = counted(Array.from({ length: 2_000 }, (_, i) => pair(i)));
    const lists = new Map([[A, list]]);
    const due = Array.from({ length: 500 }, (_, i) => kept(i, person(i * 7)));
    const found = judgeDue(due, {
      moved: [number],
      lists,
      optIns: [],
      sendersOf: () => [],
      optInsOf: () => [],
    });
    // Those sent to someone on the list (every recipient under 2,000), in the order kept.
    expect(found.map((v) => v.violatingMessageSid)).toEqual(
      due.filter((_, i) => i * 7 < 2_000).map((p) => p.sid),
    );
    expect(walks()).toBe(1);
  });

  it('judges a kept send from a number moved on by the opt-out it was kept with, named by a STOP said again after it', () => {
    // Kept pending against R's opt-out, which stood since before the send; the list named it by
    // R's STOP said again after the send. A later wave has moved the number on.
    const onward = { ...number, subaccountSid: 'ACnext' };
    const send: KeptSend = {
      ...kept(1, person(1)),
      stopMessageSid: 'SMstopAgain',
      optedOutAt: '2026-11-11T00:00:00Z',
    };
    const found = judgeDue([send], {
      moved: [onward],
      lists: new Map([[A, []]]),
      optIns: [],
      sendersOf: () => [],
      optInsOf: () => [],
    });
    expect(found.map((v) => [v.violatingMessageSid, v.stopMessageSid])).toEqual([
      ['SMsent1', 'SMstopAgain'],
    ]);
  });
});
