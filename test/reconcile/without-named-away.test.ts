/**
 * `withoutNamedAway`: a `number-updated` span a pass says itself is left out only when a
 * `number-away` span of the same number, in the account its message was found in, covers it;
 * every other is kept (pure).
 */

import { describe, expect, it } from 'vitest';

import { withoutNamedAway } from '../../src/reconcile/away.js';
import type { NotChecked } from '../../src/reconcile/result.js';

const A = '+14155550701';
const [PARENT, ACME, BETA, OTHER] = ['ACparent', 'ACacme', 'ACbeta', 'ACother'];

const away: NotChecked = {
  accountSid: PARENT,
  start: '2026-12-03T10:00:00Z',
  end: '2026-12-03T18:00:00Z',
  reason: 'number-away',
  customerId: 'beta',
  phoneNumber: A,
  subaccountSid: ACME,
};

const updated = (over: Partial<NotChecked> = {}, foundIn = PARENT): NotChecked => ({
  accountSid: BETA,
  start: '2026-12-03T11:00:00Z',
  end: '2026-12-03T18:00:00Z',
  reason: 'number-updated',
  customerId: 'beta',
  phoneNumber: A,
  subaccountSid: BETA,
  updatedCheck: {
    outcome: 'found',
    accountSid: foundIn,
    messageSid: 'SM1',
    sentAt: '2026-12-03T15:00:00Z',
  },
  ...over,
});

describe('withoutNamedAway', () => {
  it('leaves out one whose message is in the account a span away covering it has the number in', () => {
    expect(withoutNamedAway([updated()], [away])).toEqual([]);
    expect(withoutNamedAway([updated({ start: away.start, end: away.end })], [away])).toEqual([]);
  });

  it.each([
    ['found in another account', updated({}, OTHER)],
    ['begun before the span away', updated({ start: '2026-12-03T09:59:59Z' })],
    ['ended after it', updated({ end: '2026-12-03T18:00:01Z' })],
    ['of another number', updated({ phoneNumber: '+14155550702' })],
    ['not found (unreadable)', updated({ updatedCheck: { outcome: 'unreadable', accounts: [] } })],
  ])('keeps one %s', (_, span) => {
    expect(withoutNamedAway([span], [away])).toEqual([span]);
  });

  it('keeps it beside a span that is not away, or with no span at all', () => {
    const left: NotChecked = { ...away, reason: 'numbers-left', phoneNumber: undefined };
    expect(withoutNamedAway([updated()], [left])).toEqual([updated()]);
    expect(withoutNamedAway([updated()], [])).toEqual([updated()]);
  });
});
