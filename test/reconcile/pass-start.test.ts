/**
 * Where a reconcile pass starts reading a subaccount: from the first moment since a move (or,
 * for a subaccount an apply created, since its creation) that no earlier pass read, less the
 * snapshot's 10-minute overlap.
 */

import { describe, expect, it } from 'vitest';

import { movedAfterRead, passStart, unreadSpans } from '../../src/reconcile/spans.js';

const at = (iso: string) => new Date(iso);
const OVERLAP = 10 * 60_000;
const NOW = at('2026-12-03T12:00:00Z');
const CREATED = at('2026-12-01T09:00:00Z');
const MOVED = '2026-12-01T10:00:00Z';
const less = (iso: string) => new Date(at(iso).getTime() - OVERLAP);

describe('passStart', () => {
  it('first pass of a subaccount that existed before: from the move', () => {
    expect(passStart([{ moveBegan: MOVED }], [], null, NOW)).toEqual(less(MOVED));
  });

  it('first pass of a subaccount an apply created: from its creation', () => {
    expect(passStart([{ moveBegan: MOVED }], [], CREATED, NOW)).toEqual(
      less(CREATED.toISOString()),
    );
  });

  it('after a pass with --since that skipped the start, the next pass reads the skipped span', () => {
    const read = [{ start: at('2026-12-02T00:00:00Z'), end: at('2026-12-02T12:00:00Z') }];
    expect(passStart([{ moveBegan: MOVED }], read, CREATED, NOW)).toEqual(
      less(CREATED.toISOString()),
    );
    expect(passStart([{ moveBegan: MOVED }], read, null, NOW)).toEqual(less(MOVED));
  });

  it('after a pass that read everything, from where it stopped', () => {
    const read = [{ start: less(CREATED.toISOString()), end: at('2026-12-02T12:00:00Z') }];
    expect(passStart([{ moveBegan: MOVED }], read, CREATED, NOW)).toEqual(
      less('2026-12-02T12:00:00Z'),
    );
  });

  it('several numbers: from the earliest moment one of them has unread since its move', () => {
    // The second moved after the last pass: the first's unread span (since that pass) is earlier.
    const read = [{ start: less(MOVED), end: at('2026-12-02T12:00:00Z') }];
    const numbers = [{ moveBegan: '2026-12-02T18:00:00Z' }, { moveBegan: MOVED }];
    expect(passStart(numbers, read, null, NOW)).toEqual(less('2026-12-02T12:00:00Z'));
    // Only the later one: from its move.
    expect(passStart(numbers.slice(0, 1), read, null, NOW)).toEqual(less('2026-12-02T18:00:00Z'));
  });
});

describe('unreadSpans', () => {
  const span = (start: string, end: string) => ({ start: at(start), end: at(end) });

  it('says which parts no pass read (skipped) and which only an older submigrate read', () => {
    const older = span('2026-12-01T12:00:00Z', '2026-12-02T00:00:00Z');
    const now = span('2026-12-02T06:00:00Z', '2026-12-03T12:00:00Z');
    expect(
      unreadSpans(span('2026-12-01T10:00:00Z', NOW.toISOString()), [now], [older, now]),
    ).toEqual([
      { ...span('2026-12-01T10:00:00Z', '2026-12-01T12:00:00Z'), reason: 'skipped' },
      { ...older, reason: 'older-rules' },
      { ...span('2026-12-02T00:00:00Z', '2026-12-02T06:00:00Z'), reason: 'skipped' },
    ]);
  });

  it('with every pass under the current rules, only skipped spans', () => {
    const read = [span('2026-12-02T00:00:00Z', '2026-12-02T12:00:00Z')];
    expect(unreadSpans(span(MOVED, NOW.toISOString()), read, read)).toEqual([
      { ...span(MOVED, '2026-12-02T00:00:00Z'), reason: 'skipped' },
      { ...span('2026-12-02T12:00:00Z', NOW.toISOString()), reason: 'skipped' },
    ]);
  });
});

describe('same-second edges', () => {
  it('a pass after one whose read ended in the second a number began to move reads that second again', () => {
    // Already safe: the overlap reaches back 10 minutes before the first second no pass read.
    const read = [{ start: at('2026-12-01T09:00:00Z'), end: at(MOVED) }];
    const start = passStart([{ moveBegan: MOVED }], read, null, NOW);
    expect(start.getTime()).toBeLessThan(at(MOVED).getTime());
  });

  it('a number that came in the second the last read ended is taken as one that came after it', () => {
    // The pass's read ended at 10:00:00.4, the move began at 10:00:00.8: both said 10:00:00, and
    // no pass read the number's sends. One that came a second before was read.
    const numbers = [
      { moveBegan: '2026-12-01T09:59:59Z' },
      { moveBegan: MOVED },
      { moveBegan: '2026-12-01T10:00:01Z' },
    ];
    expect(movedAfterRead(numbers, at(MOVED))).toEqual(numbers.slice(1));
    expect(movedAfterRead(numbers, null)).toEqual(numbers);
  });
});
