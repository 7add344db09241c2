/**
 * snapshot's summary line: one window is named by its span; several by how many accounts and
 * windows, within the earliest start and the latest end.
 */

import { describe, expect, it } from 'vitest';

import { snapshotSummary } from '../../../src/cli/render/snapshot.js';
import type { SnapshotResult } from '../../../src/optouts/snapshot.js';

function result(windows: { accountSid: string; windowStart: string; windowEnd: string }[]) {
  return {
    runId: 1,
    resumed: true,
    windows,
    slices: 8,
    messagesRead: 1_234_567,
    exportMessagesRead: 1_000,
    pagesRead: 1_300,
    exportDays: 3,
    eventsAdded: 12,
    ledger: { optOut: 5, optIn: 2, help: 1, refused: 4 },
    optedOutPairs: 3,
  } as unknown as SnapshotResult;
}

describe('snapshotSummary', () => {
  it('one window', () => {
    expect(
      snapshotSummary(
        result([{ accountSid: 'AC1', windowStart: '2026-01-01', windowEnd: '2026-02-01' }]),
        2.345,
        7,
      ),
    ).toBe(
      'snapshot run 1 (resumed): 1,234,567 messages read in 2.3 s (1300 pages, 8 slices, 1,000 of them from 3 Bulk Export days, 7 retries); 12 new events; ledger: 5 opt-out, 2 opt-in, 1 help, 4 refused (21610); 3 pairs opted out now; window 2026-01-01 → 2026-02-01',
    );
  });

  it('several windows: the accounts counted once, the span from the earliest start to the latest end', () => {
    const line = snapshotSummary(
      result([
        { accountSid: 'AC1', windowStart: '2026-01-05', windowEnd: '2026-03-01' },
        { accountSid: 'AC2', windowStart: '2026-01-01', windowEnd: '2026-02-01' },
        { accountSid: 'AC1', windowStart: '2026-03-01', windowEnd: '2026-04-01' },
      ]),
      1,
      0,
    );
    expect(line.endsWith('; 2 account(s), 3 windows within 2026-01-01 → 2026-04-01')).toBe(true);
  });
});
