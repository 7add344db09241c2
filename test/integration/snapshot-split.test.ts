/**
 * No sequential start-up and no idle slot: a snapshot starts from the account's date_created
 * (not a probe), and while fewer slices than request slots are being read, a slice that turns
 * out large is cut in two. Started as ONE slice with eight slots, the run ends with many
 * slices, every page still read once, and the ledger the emulator's own store says.
 */

import { describe, expect, it } from 'vitest';

import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import { exportOptOuts } from '../../src/optouts/export.js';
import { clearRequestLog, emulatorOptOuts, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  countMessageRequests,
  exportPairKey,
  fixedClock,
  pairKey,
  readOnly,
  snapshotInto,
  withLedger,
} from '../support/snapshot-harness.js';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const MESSAGES = 20_000;

describe('snapshot: large slices split while slots are idle', () => {
  const ws = useCliWorkspace(undefined, {
    now: () => NOW,
    load: (state) => loadOwlie(state, { seed: 21, messages: MESSAGES, now: NOW }),
  });

  it('one slice and eight slots: it is cut while read, each page read once, the ledger exact', async () => {
    await clearRequestLog(ws.env);
    const dbPath = ws.dir.file('split.db');
    const result = await snapshotInto(dbPath, ws.env.port(), fixedClock(NOW), {
      partitions: 1,
      inFlight: 8,
      useExport: false,
    });
    const counts = countMessageRequests(await requestLog(ws.env));
    // No probe: single-message pages would be PageSize=1.
    expect(counts.probes).toBe(0);
    expect(result.slices).toBeGreaterThanOrEqual(8);
    // Every request is a slice's first page (one per slice, and one more for each slice that
    // went on with a newer half after a cut) or a next page; none twice.
    expect(counts.firstPages + counts.nextPages).toBe(result.pagesRead);
    expect(counts.firstPages).toBeLessThanOrEqual(2 * result.slices);
    // A cut shares its boundary second: a message there may be read twice, nothing more.
    expect(result.messagesRead).toBeGreaterThanOrEqual(MESSAGES);
    expect(result.messagesRead).toBeLessThan(MESSAGES + 10 * result.slices);
    const slices = readOnly(dbPath, (db) =>
      db.prepare('SELECT status FROM snapshot_slices').pluck().all(),
    ) as string[];
    expect(slices).toEqual(slices.map(() => 'done'));

    const ours = await withLedger(dbPath, (db) => exportOptOuts(db));
    const truth = await emulatorOptOuts(ws.env);
    expect(ours.optouts.map(exportPairKey).sort()).toEqual(truth.map(pairKey).sort());
  });
});
