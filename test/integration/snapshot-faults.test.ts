/**
 * A bad day at Twilio: 5xx answers, dropped connections and a per-account concurrency limit
 * below ours. Through the real retry policy and limiter the ledger still comes out identical
 * to a fault-free run's.
 */

import { describe, expect, it } from 'vitest';

import { loadOwlie } from '../../src/emulator/scenarios/owlie.js';
import { exportOptOuts } from '../../src/optouts/export.js';
import { createTwilioPort } from '../../src/twilio/adapter.js';
import { TwilioHttpClient } from '../../src/twilio/http-client.js';
import { DEFAULT_LIMITS } from '../../src/twilio/limiter.js';
import { DEFAULT_RETRY } from '../../src/twilio/retry.js';
import { clearRequestLog, emulatorOptOuts, requestLog } from '../support/emulator.js';
import { useCliWorkspace } from '../support/migration.js';
import {
  countMessageRequests,
  fixedClock,
  ledgerDump,
  snapshotInto,
  withLedger,
} from '../support/snapshot-harness.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const MESSAGES = 20_000;

describe('snapshot under injected faults', () => {
  const ws = useCliWorkspace(undefined, {
    now: () => NOW,
    load: (state) => loadOwlie(state, { seed: 23, messages: MESSAGES, now: NOW }),
  });

  it('ends with the same ledger as a fault-free run, and the faults really happened', async () => {
    const policy = () =>
      new TwilioHttpClient({
        apiUrl: ws.env.url,
        retry: DEFAULT_RETRY,
        limits: { ...DEFAULT_LIMITS, concurrency: 8 },
      });

    const calm = policy();
    const calmResult = await snapshotInto(
      ws.dir.file('calm.db'),
      createTwilioPort(ws.env.parentCredentials, calm),
      fixedClock(NOW),
    );
    expect(calm.stats.retries).toBe(0);
    // Through the API, every message once, but for the second a slice was cut at when it
    // freed a slot for another (both halves read it): a handful at most per slice.
    const fromApi = calmResult.messagesRead - calmResult.exportMessagesRead;
    expect(fromApi).toBeGreaterThanOrEqual(MESSAGES);
    expect(fromApi).toBeLessThan(MESSAGES + 10 * calmResult.slices);

    await ws.env.control('POST', '/__emulator/faults', {
      error_rate: 0.1,
      error_status: 503,
      reset_rate: 0.03,
      concurrency_limit: 2,
      // Our 8 requests in flight meet the emulator's limit of 2 however slow this machine is:
      // each holds its slot for 60 ms, so a third needs to start within that time, not in step.
      latency_ms: 60,
    });
    await clearRequestLog(ws.env);
    const stormy = policy();
    try {
      await snapshotInto(
        ws.dir.file('stormy.db'),
        createTwilioPort(ws.env.parentCredentials, stormy),
        fixedClock(NOW),
      );
    } finally {
      await ws.env.control('POST', '/__emulator/faults', {
        error_rate: 0,
        reset_rate: 0,
        concurrency_limit: 0,
        latency_ms: 0,
      });
    }

    const log = await requestLog(ws.env);
    const statuses = new Map<number, number>();
    for (const entry of log) statuses.set(entry.status, (statuses.get(entry.status) ?? 0) + 1);
    console.log(
      `faults: client ${JSON.stringify(stormy.stats)}; emulator statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `Messages requests ${JSON.stringify(countMessageRequests(log))}`,
    );
    // The faults happened, and the client saw each kind the emulator sent.
    expect(stormy.stats.retries).toBeGreaterThan(0);
    // (A new export job's 201 and a day's 307 to its file are answers, not faults.)
    expect(stormy.stats.retries).toBe(
      log.filter((entry) => ![200, 201, 307].includes(entry.status)).length,
    );
    expect(stormy.stats.serverErrors).toBe(statuses.get(503) ?? 0);
    expect(stormy.stats.throttled).toBe(statuses.get(429) ?? 0);
    expect(stormy.stats.noAnswer).toBe(statuses.get(0) ?? 0);
    expect(stormy.stats.throttled).toBeGreaterThan(0);
    expect(stormy.stats.serverErrors + stormy.stats.noAnswer).toBeGreaterThan(0);

    const calmLedger = ledgerDump(ws.dir.file('calm.db'), { observedAt: true });
    const stormyLedger = ledgerDump(ws.dir.file('stormy.db'), { observedAt: true });
    expect(stormyLedger.events.length).toBeGreaterThan(500);
    expect(stormyLedger).toEqual(calmLedger);

    const exported = await withLedger(ws.dir.file('stormy.db'), exportOptOuts);
    expect(exported.optouts.map((row) => row.stop_message_sid).sort()).toEqual(
      (await emulatorOptOuts(ws.env)).map((o) => o.message_sid).sort(),
    );
  });
});
