/**
 * Up to when a moved number a pass found away from its subaccount (in the parent) was there:
 * the last pass that found it there, carried on to the first pass after it (which no longer
 * did), or to a transfer that took it out before that pass.
 */

import { describe, expect, it } from 'vitest';

import { awayUntil } from '../../src/reconcile/away.js';

const PARENT = 'ACparent';
const span = { accountSid: PARENT, end: '2026-12-03T10:00:00Z' };
const pass = (startedAt: string, finishedAt: string) => ({ startedAt, finishedAt });

describe('awayUntil', () => {
  it('keeps the end of the last pass that found it while no pass came after', () => {
    expect(awayUntil(span, [pass('2026-12-03T10:00:00Z', '2026-12-03T10:00:05Z')], [])).toBe(
      '2026-12-03T10:00:00Z',
    );
  });

  it('carries the end to the first later pass, which no longer found it there', () => {
    const passes = [
      pass('2026-12-03T10:00:00Z', '2026-12-03T10:00:05Z'),
      pass('2026-12-03T14:00:00Z', '2026-12-03T14:00:07Z'),
      pass('2026-12-03T18:00:00Z', '2026-12-03T18:00:03Z'),
    ];
    expect(awayUntil(span, passes, [])).toBe('2026-12-03T14:00:07Z');
  });

  it('ends at a transfer out of that account before the next pass', () => {
    const passes = [pass('2026-12-03T14:00:00Z', '2026-12-03T14:00:07Z')];
    const departures = [
      { accountSid: 'ACother', leftAt: '2026-12-03T11:00:00Z' },
      { accountSid: PARENT, leftAt: '2026-12-03T09:00:00Z' },
      { accountSid: PARENT, leftAt: '2026-12-03T12:30:00Z' },
    ];
    expect(awayUntil(span, passes, departures)).toBe('2026-12-03T12:30:00Z');
  });

  it('passes over a transfer out in the second the last pass found it: it may have come first', () => {
    // Moved out of the parent at 10:00:00.2, back by hand, found there by the pass at 10:00:00.6
    // (both said 10:00:00): the transfer does not end what the pass found. The next pass does.
    const passes = [pass('2026-12-03T14:00:00Z', '2026-12-03T14:00:07Z')];
    const departures = [{ accountSid: PARENT, leftAt: '2026-12-03T10:00:00Z' }];
    expect(awayUntil(span, passes, departures)).toBe('2026-12-03T14:00:07Z');
  });

  it('takes a pass that began in the second of the end for the one that found it', () => {
    const passes = [
      pass('2026-12-03T10:00:00Z', '2026-12-03T10:00:02Z'),
      pass('2026-12-03T14:00:00Z', '2026-12-03T14:00:07Z'),
    ];
    expect(awayUntil(span, passes, [])).toBe('2026-12-03T14:00:07Z');
  });
});
