/**
 * Incremental snapshots: a second run reads only what is new (counted in the emulator's
 * request log), picks up a STOP (and a START) that arrived in between, and explicit
 * `--since/--until` windows read exactly their window; no run probes for the oldest message.
 */

import { afterAll, describe, expect, it } from 'vitest';

import { isoSeconds } from '../../src/clock.js';
import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import { exportOptOuts, readCoverage } from '../../src/optouts/export.js';
import { clearRequestLog, emulatorOptOuts, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  countMessageRequests,
  exportPairKey,
  fixedClock,
  historyOf,
  isEvidence,
  ledgerDump,
  pairKey,
  snapshotInto,
  withLedger,
  type MessageRequestCounts,
} from '../support/snapshot-harness.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MESSAGES = 8_000;

const ws = useCliWorkspace(undefined, {
  now: () => NOW,
  load: (state) => loadOwlie(state, { seed: 5, messages: MESSAGES, now: NOW }),
});
const tollFree = (phone: string) =>
  ws.env.emulator.state.numberByPhone(phone)?.type === 'toll-free';
/** Measured counts, printed once at the end for the report. */
const measured: Record<string, MessageRequestCounts> = {};

afterAll(async () => {
  console.log(`snapshot Messages requests: ${JSON.stringify(measured)}`);
});

async function exportKeys(dbPath: string) {
  const { optouts } = await withLedger(dbPath, exportOptOuts);
  return new Map(optouts.map((row) => [exportPairKey(row), row]));
}

async function expectEqualToEmulator(dbPath: string) {
  const ours = await exportKeys(dbPath);
  const truth = await emulatorOptOuts(ws.env);
  expect([...ours.keys()].sort()).toEqual(truth.map(pairKey).sort());
  for (const o of truth) expect(ours.get(pairKey(o))?.stop_message_sid).toBe(o.message_sid);
}

describe('incremental snapshots into one database', () => {
  const dbPath = () => ws.dir.file('incremental.db');

  it('first run: no probing (history starts at the account’s date_created), each page read once', async () => {
    await clearRequestLog(ws.env);
    const result = await snapshotInto(dbPath(), ws.env.port(), fixedClock(NOW));
    const counts = countMessageRequests(await requestLog(ws.env));
    measured['first'] = counts;
    // Day files only for the days before the oldest message the API showed (its day
    // included): every message of them the API showed too, so none is counted as the files'.
    // Every message once, though slices share their boundary seconds and a slice cut in two
    // reads its cut's second again.
    expect(result.exportDays).toBeGreaterThan(0);
    expect(result.exportMessagesRead).toBe(0);
    expect(result.messagesRead).toBe(historyOf(ws.env, ws.env.parentSid).length);
    expect(result.messagesRead).toBe(MESSAGES);
    expect(counts.probes).toBe(0);
    // A slice's first page, or the first page of the newer half it went on with after a cut;
    // every other page is a next page, and none is read twice.
    expect(counts.firstPages).toBeGreaterThanOrEqual(result.slices);
    expect(counts.firstPages).toBeLessThanOrEqual(2 * result.slices);
    expect(counts.firstPages + counts.nextPages).toBe(result.pagesRead);
    expect(result.pagesRead).toBeLessThanOrEqual(Math.ceil(MESSAGES / 1000) + 2 * result.slices);
    await expectEqualToEmulator(dbPath());
  });

  it('second run with nothing new: a handful of Messages requests, nothing added', async () => {
    const before = ledgerDump(dbPath());
    await clearRequestLog(ws.env);
    const result = await snapshotInto(dbPath(), ws.env.port(), fixedClock(NOW + HOUR));
    const counts = countMessageRequests(await requestLog(ws.env));
    measured['second, nothing new'] = counts;
    expect(counts.total).toBeLessThanOrEqual(3);
    expect(counts.probes).toBe(0);
    expect(result.eventsAdded).toBe(0);
    expect(ledgerDump(dbPath()).events).toEqual(before.events);
    // The window goes on from the last one, with a short overlap.
    const [window] = result.windows;
    expect(Date.parse(window!.windowStart)).toBeLessThan(NOW);
    expect(Date.parse(window!.windowStart)).toBeGreaterThanOrEqual(NOW - HOUR);
    expect(window!.windowEnd).toBe(isoSeconds(new Date(NOW + HOUR)));
  });

  it('a STOP and a START that arrive between runs are picked up by the next run', async () => {
    const before = await exportKeys(dbPath());
    // A new person says STOP to a number in a shared service…
    const owlieShared = [...ws.env.emulator.state.numbers.values()].find(
      (n) => n.serviceSid !== null,
    )!;
    const stop = await ws.env.control<{ sid: string; messaging_service_sid: string | null }>(
      'POST',
      '/__emulator/inbound',
      {
        from: '+12025550199',
        to: owlieShared.phoneNumber,
        body: 'STOP',
        date_sent: new Date(NOW + 2 * HOUR).toISOString(),
      },
    );
    expect(stop.messaging_service_sid).toBe(owlieShared.serviceSid);
    // …and someone who had opted out of a number opts back in.
    const rejoining = [...before.values()].find((row) => row.scope === 'number')!;
    await ws.env.control('POST', '/__emulator/inbound', {
      from: rejoining.recipient,
      to: rejoining.sender_number,
      body: 'START',
      date_sent: new Date(NOW + 2 * HOUR + 1000).toISOString(),
    });

    await clearRequestLog(ws.env);
    const result = await snapshotInto(dbPath(), ws.env.port(), fixedClock(NOW + 3 * HOUR));
    const counts = countMessageRequests(await requestLog(ws.env));
    measured['third, two new messages'] = counts;
    expect(counts.total).toBeLessThanOrEqual(3);
    expect(result.eventsAdded).toBe(2);

    const after = await exportKeys(dbPath());
    const key = pairKey({
      account_sid: ws.env.parentSid,
      messaging_service_sid: owlieShared.serviceSid,
      sender_number: owlieShared.phoneNumber,
      recipient: '+12025550199',
    });
    expect(before.has(key)).toBe(false);
    expect(after.get(key)).toMatchObject({
      scope: 'service',
      sender_number: owlieShared.phoneNumber,
      stop_message_sid: stop.sid,
      opted_out_at: isoSeconds(new Date(NOW + 2 * HOUR)),
    });
    expect(after.has(exportPairKey(rejoining))).toBe(false);
    expect(after.size).toBe(before.size);
    await expectEqualToEmulator(dbPath());

    const coverage = await withLedger(dbPath(), readCoverage);
    expect(coverage.snapshot_runs).toHaveLength(3);
    // In the order they ran (a review found them in the order of their windows).
    expect(coverage.snapshot_runs).toEqual([...coverage.snapshot_runs].sort((a, b) => a - b));
    // The three runs' API windows touch: one merged window, after the days Bulk Export read.
    expect(coverage.windows.map((w) => w.source)).toEqual(['export', 'api']);
    expect(coverage.windows[1]?.end).toBe(isoSeconds(new Date(NOW + 3 * HOUR)));
    expect(coverage.not_read).toEqual([]);
  });
});

describe('explicit --since/--until windows', () => {
  const since = new Date(NOW - 60 * DAY);
  const until = new Date(NOW - 20 * DAY);

  it('reads exactly the window, without probing, and states it as coverage', async () => {
    const dbPath = ws.dir.file('window.db');
    await clearRequestLog(ws.env);
    const result = await snapshotInto(dbPath, ws.env.port(), fixedClock(NOW), {
      since,
      until,
      partitions: 4,
    });
    const counts = countMessageRequests(await requestLog(ws.env));
    measured['explicit window'] = counts;
    expect(counts.probes).toBe(0);
    expect(counts.firstPages).toBe(4);
    expect(result.windows).toEqual([
      {
        accountSid: ws.env.parentSid,
        source: 'api',
        windowStart: isoSeconds(since),
        windowEnd: isoSeconds(until),
      },
    ]);

    const history = historyOf(ws.env, ws.env.parentSid);
    const inWindow = history.filter(
      (m) => m.dateSent >= since.getTime() && m.dateSent <= until.getTime(),
    );
    const { events } = ledgerDump(dbPath);
    const sids = new Set(events.map((e) => e['message_sid']));
    const evidence = inWindow.filter((m) => isEvidence(m, tollFree));
    expect(evidence.length).toBeGreaterThan(10);
    for (const m of evidence) expect(sids.has(m.sid), m.sid).toBe(true);
    // Slices reach one second before the window (boundary safety); nothing further out.
    for (const e of events) {
      const sent = Date.parse(String(e['date_sent']));
      expect(sent).toBeGreaterThanOrEqual(since.getTime() - 1000);
      expect(sent).toBeLessThanOrEqual(until.getTime());
    }

    const coverage = await withLedger(dbPath, readCoverage);
    expect(coverage.windows).toEqual([
      {
        account_sid: ws.env.parentSid,
        source: 'api',
        start: isoSeconds(since),
        end: isoSeconds(until),
      },
    ]);
  });

  it('an explicit window ending in the future does not hide what arrives later', async () => {
    // `--until` a day ahead, then a STOP an hour later, then a plain incremental run.
    const dbPath = ws.dir.file('future-until.db');
    const explicit = await snapshotInto(dbPath, ws.env.port(), fixedClock(NOW + 10 * HOUR), {
      since: new Date(NOW - DAY),
      until: new Date(NOW + 10 * HOUR + DAY),
    });
    // Coverage ends where reading ended (now), not at the future --until.
    expect(explicit.windows[0]?.windowEnd).toBe(isoSeconds(new Date(NOW + 10 * HOUR)));
    const stop = await ws.env.control<{ sid: string }>('POST', '/__emulator/inbound', {
      from: '+12025550142',
      to: [...ws.env.emulator.state.numbers.values()][0]!.phoneNumber,
      body: 'STOP',
      date_sent: new Date(NOW + 11 * HOUR).toISOString(),
    });
    await snapshotInto(dbPath, ws.env.port(), fixedClock(NOW + 12 * HOUR));
    const stops = [...(await exportKeys(dbPath)).values()].map((row) => row.stop_message_sid);
    expect(stops).toContain(stop.sid);
  });
});
