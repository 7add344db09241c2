import { describe, expect, it } from 'vitest';

import {
  INCREMENTAL_OVERLAP_MS,
  mergeRanges,
  MIN_SLICE_MS,
  planSlices,
  sliceFilter,
  uncoveredSpans,
  windowsToRead,
  type TimeRange,
} from '../../src/optouts/windows.js';

const SECOND = 1_000;

const at = (iso: string) => new Date(iso);
const range = (start: string, end: string): TimeRange => ({ start: at(start), end: at(end) });

/** The properties every plan has, whatever the window. */
function expectCovers(window: TimeRange, slices: TimeRange[], partitions: number): void {
  const wholeSecond = (d: Date) => Math.floor(d.getTime() / SECOND) * SECOND;
  expect(slices.length).toBeGreaterThanOrEqual(1);
  expect(slices.length).toBeLessThanOrEqual(Math.max(1, partitions));
  expect(slices[0]?.start.getTime()).toBe(wholeSecond(window.start));
  expect(slices.at(-1)?.end.getTime()).toBe(wholeSecond(window.end));
  slices.forEach((slice, i) => {
    expect(slice.start.getTime() % SECOND).toBe(0);
    expect(slice.end.getTime() % SECOND).toBe(0);
    expect(slice.end.getTime()).toBeGreaterThanOrEqual(slice.start.getTime());
    const next = slices[i + 1];
    if (next !== undefined) expect(next.start.getTime()).toBe(slice.end.getTime());
    if (slices.length > 1) {
      expect(slice.end.getTime() - slice.start.getTime()).toBeGreaterThanOrEqual(MIN_SLICE_MS);
    }
  });
}

describe('planSlices', () => {
  it('cuts a long window into `partitions` equal slices', () => {
    const window = range('2024-01-01T00:00:00Z', '2024-01-09T00:00:00Z');
    const slices = planSlices(window, 4);
    expect(slices).toEqual([
      range('2024-01-01T00:00:00Z', '2024-01-03T00:00:00Z'),
      range('2024-01-03T00:00:00Z', '2024-01-05T00:00:00Z'),
      range('2024-01-05T00:00:00Z', '2024-01-07T00:00:00Z'),
      range('2024-01-07T00:00:00Z', '2024-01-09T00:00:00Z'),
    ]);
  });

  it('one partition is the whole window', () => {
    const window = range('2020-02-29T12:34:56Z', '2024-06-30T01:02:03Z');
    expect(planSlices(window, 1)).toEqual([window]);
  });

  it.each([
    ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 8],
    ['2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z', 8],
    ['2024-01-01T00:00:00Z', '2024-01-01T00:30:00Z', 8],
    ['2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z', 8],
    ['2024-01-01T00:00:00Z', '2024-01-01T01:30:00Z', 8],
    ['2024-01-01T00:00:00Z', '2024-01-01T01:59:59Z', 8],
  ])('a window shorter than two hours (%s → %s) is one slice', (start, end, partitions) => {
    const window = range(start, end);
    expect(planSlices(window, partitions)).toEqual([window]);
  });

  it('a zero-length window gives one empty slice', () => {
    const window = range('2024-05-05T05:05:05Z', '2024-05-05T05:05:05Z');
    expect(planSlices(window, 16)).toEqual([window]);
  });

  it('a window ending before it starts gives one slice', () => {
    const slices = planSlices(range('2024-01-02T00:00:00Z', '2024-01-01T00:00:00Z'), 4);
    expect(slices).toHaveLength(1);
  });

  it('never cuts slices shorter than an hour', () => {
    const window = range('2024-01-01T00:00:00Z', '2024-01-01T05:30:00Z');
    const slices = planSlices(window, 100);
    expect(slices).toHaveLength(5);
    expectCovers(window, slices, 100);
  });

  it('drops the milliseconds of the window to whole seconds', () => {
    const window = { start: at('2024-01-01T00:00:00.999Z'), end: at('2024-01-03T00:00:00.500Z') };
    const slices = planSlices(window, 3);
    expect(slices[0]?.start).toEqual(at('2024-01-01T00:00:00Z'));
    expect(slices.at(-1)?.end).toEqual(at('2024-01-03T00:00:00Z'));
    expectCovers(window, slices, 3);
  });

  // A sweep of awkward windows: primes, odd seconds, long and short.
  const starts = ['2024-01-01T00:00:00Z', '2023-03-12T09:59:59.123Z', '2019-12-31T23:59:59Z'];
  const spans = [0, 1, 59, 3_599, 3_600, 3_601, 7_199, 7_200, 7_201, 10_007, 86_399, 9_999_991];
  const partitionCounts = [1, 2, 3, 7, 8, 16, 64];
  const sweep = starts.flatMap((start) =>
    spans.flatMap((span) => partitionCounts.map((partitions) => ({ start, span, partitions }))),
  );

  it.each(sweep)(
    'covers $start + $span s in ≤ $partitions contiguous whole-second slices',
    ({ start, span, partitions }) => {
      const window = { start: at(start), end: new Date(at(start).getTime() + span * SECOND) };
      expectCovers(window, planSlices(window, partitions), partitions);
    },
  );
});

describe('sliceFilter', () => {
  const slice = range('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z');

  it('reaches one second back, and ends at the slice end', () => {
    expect(sliceFilter(slice, false)).toEqual({
      sentAfter: at('2023-12-31T23:59:59Z'),
      sentBefore: at('2024-01-02T00:00:00Z'),
    });
  });

  it('the last slice also reaches one second forward', () => {
    expect(sliceFilter(slice, true)).toEqual({
      sentAfter: at('2023-12-31T23:59:59Z'),
      sentBefore: at('2024-01-02T00:00:01Z'),
    });
  });

  it('adjacent slices overlap, so every second of the window is read', () => {
    const window = range('2024-01-01T00:00:00Z', '2024-01-05T00:00:00Z');
    const slices = planSlices(window, 4);
    const filters = slices.map((s, i) => sliceFilter(s, i === slices.length - 1));
    filters.forEach((filter, i) => {
      const next = filters[i + 1];
      if (next !== undefined) {
        expect(next.sentAfter!.getTime()).toBeLessThan(filter.sentBefore!.getTime());
      }
    });
    expect(filters[0]?.sentAfter!.getTime()).toBeLessThan(window.start.getTime());
    expect(filters.at(-1)?.sentBefore!.getTime()).toBeGreaterThan(window.end.getTime());
  });
});

const iso = (ranges: TimeRange[]) =>
  ranges.map((r) => [r.start.toISOString(), r.end.toISOString()]);

describe('mergeRanges', () => {
  it('merges overlapping and touching ranges, in any order, and keeps apart the rest', () => {
    const merged = mergeRanges([
      range('2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z'),
      range('2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z'),
      range('2025-02-01T00:00:00Z', '2025-02-10T00:00:00Z'),
      range('2025-03-15T00:00:00Z', '2025-03-20T00:00:00Z'),
    ]);
    expect(iso(merged)).toEqual([
      ['2025-01-01T00:00:00.000Z', '2025-02-10T00:00:00.000Z'],
      ['2025-03-01T00:00:00.000Z', '2025-04-01T00:00:00.000Z'],
    ]);
  });
});

describe('uncoveredSpans', () => {
  const target = range('2025-01-01T00:00:00Z', '2025-12-31T00:00:00Z');

  it('is the whole target when nothing was read', () => {
    expect(iso(uncoveredSpans(target, []))).toEqual(iso([target]));
  });

  it('is the spans before, between and after what was read', () => {
    const spans = uncoveredSpans(target, [
      range('2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z'),
      range('2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z'),
    ]);
    expect(iso(spans)).toEqual([
      ['2025-01-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z'],
      ['2025-04-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z'],
      ['2025-07-01T00:00:00.000Z', '2025-12-31T00:00:00.000Z'],
    ]);
  });

  it('is empty when what was read reaches past both ends', () => {
    expect(uncoveredSpans(target, [range('2024-01-01T00:00:00Z', '2026-01-01T00:00:00Z')])).toEqual(
      [],
    );
  });
});

describe('windowsToRead (a plain run)', () => {
  const start = at('2025-01-01T00:00:00Z');
  const now = at('2025-06-01T00:00:00Z');
  const overlap = (isoTime: string) =>
    new Date(at(isoTime).getTime() - INCREMENTAL_OVERLAP_MS).toISOString();

  it('reads all history the first time', () => {
    expect(iso(windowsToRead(start, now, []))).toEqual(iso([{ start, end: now }]));
  });

  it('after an explicit window, reads the history before it and the time after it', () => {
    const windows = windowsToRead(start, now, [
      range('2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z'),
    ]);
    expect(iso(windows)).toEqual([
      ['2025-01-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z'],
      [overlap('2025-04-01T00:00:00Z'), '2025-06-01T00:00:00.000Z'],
    ]);
  });

  it('after a full run, reads on from its end with the overlap', () => {
    const windows = windowsToRead(start, now, [
      range('2025-01-01T00:00:00Z', '2025-05-31T00:00:00Z'),
    ]);
    expect(iso(windows)).toEqual([[overlap('2025-05-31T00:00:00Z'), now.toISOString()]]);
  });

  it('still reads up to now when a window claims time past now (a clock that went back)', () => {
    const windows = windowsToRead(start, now, [
      range('2025-01-01T00:00:00Z', '2025-07-01T00:00:00Z'),
    ]);
    expect(iso(windows)).toEqual([[overlap('2025-06-01T00:00:00Z'), now.toISOString()]]);
  });
});
