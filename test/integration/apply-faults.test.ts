/**
 * Apply on a bad day at Twilio: 15% of requests answered 5xx, 5% of connections dropped, and
 * the emulator's per-account concurrency limit equal to --concurrency. Through the one
 * limiter and retry policy, and writes settled from live state when their answer was lost,
 * apply still exits 0 with exactly the state the mapping asks; no request draws a 429, and
 * no one-second window holds more than --rate requests.
 *
 * The rate is judged from the tool's own trace (SUBMIGRATE_TRACE: when each attempt left),
 * which is what the limiter controls. The emulator's arrival times are not used for it: on a
 * loaded machine its event loop can stall past the limiter's 50 ms margin and stamp several
 * requests that left apart with one later instant.
 */

import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { loadOwlie, owlieMapping } from '../../src/emulator/scenarios/owlie.js';
import { requestLog } from '../support/emulator.js';
import { customersOf, expectMigrated, useCliWorkspace } from '../support/migration.js';
import { cliEnv, runCli } from '../support/snapshot-harness.js';

/** The hour now, frozen: the CLI under test reads the real clock, so the emulator must agree. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const RATE = 25;
const CONCURRENCY = 4;

describe('apply under injected faults (built CLI)', () => {
  const ws = useCliWorkspace(undefined, {
    now: () => NOW,
    load: (state) => loadOwlie(state, { seed: 6, messages: 3_000, now: NOW }),
  });

  it('exits 0 with the exact end state, no 429, and never more than --rate a second', async () => {
    // The first twelve customers: shared services, own services, toll-free, none.
    const lines = owlieMapping().trimEnd().split('\n');
    const customers = customersOf(owlieMapping()).slice(0, 12);
    const keep = new Set(customers.map((c) => c.id));
    const text = `${[lines[0], ...lines.slice(1).filter((l) => keep.has(l.split(',')[0]!))].join('\n')}\n`;
    const mapping = ws.dir.file('twelve.csv');
    writeFileSync(mapping, text);
    const { cli } = ws;
    const db = ws.dir.file('faults.db');
    const plan = ws.dir.file('faults.plan.json');
    const trace = ws.dir.file('apply.trace.jsonl');
    expect((await cli(['plan', '--mapping', mapping, '--db', db, '--out', plan])).code).toBe(0);

    await ws.env.control('DELETE', '/__emulator/requests');
    await ws.env.control('POST', '/__emulator/faults', {
      error_rate: 0.15,
      error_status: 503,
      reset_rate: 0.05,
      concurrency_limit: CONCURRENCY,
      latency_ms: 10,
    });
    let result;
    try {
      result = await runCli(
        ['apply', plan, '--db', db, '--rate', String(RATE), '--concurrency', String(CONCURRENCY)],
        { ...cliEnv(ws.env), SUBMIGRATE_TRACE: trace },
        ws.dir.path,
      );
    } finally {
      await ws.env.control('POST', '/__emulator/faults', {
        error_rate: 0,
        reset_rate: 0,
        concurrency_limit: 0,
        latency_ms: 0,
      });
    }
    // Nothing on stderr but the writes it settled from live state, each said as it happened.
    const said = result.stderr.split('\n').filter((line) => line !== '');
    expect(
      said.filter(
        (line) => !/^note: \S+: send \d of at most 6 got no certain answer \(/.test(line),
      ),
    ).toEqual([]);
    expect(result.code).toBe(0);
    await expectMigrated(ws.env, customersOf(text));

    const log = await requestLog(ws.env);
    const statuses = new Map<number, number>();
    for (const entry of log) statuses.set(entry.status, (statuses.get(entry.status) ?? 0) + 1);
    console.log(
      `apply faults: ${log.length} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    // The faults happened, and none of them was a 429.
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(0) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(429) ?? 0).toBe(0);
    // Every attempt the emulator saw is in the trace, and none carries a credential.
    const traceText = readFileSync(trace, 'utf8');
    const attempts = traceText
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { started_at: string; status: number; url: string });
    expect(attempts.length).toBe(log.length);
    expect(attempts.filter((a) => a.status === 503).length).toBe(statuses.get(503));
    expect(traceText).not.toContain(ws.env.parentToken);
    expect(traceText).not.toMatch(/authorization|basic /i);
    // No sliding second holds more than --rate attempts, as they left the tool.
    const times = attempts.map((a) => Date.parse(a.started_at)).sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThanOrEqual(RATE);
    expect(busiest).toBeGreaterThan(RATE / 2);
  });
});
