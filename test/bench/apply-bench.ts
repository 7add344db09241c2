/**
 * `apply` at scale: 1,000 customers and 3,000 numbers (a third of them in 10 shared parent
 * services, so detaches too), each customer with its own new service, against the emulator
 * at 20 ms latency with a per-account concurrency limit of 8, applied at --concurrency 8
 * --rate 1000. Printed beside the wall time is the floor: every request the run sent (read
 * from the emulator's request log) × latency ÷ concurrency.
 * Flags: --apply-customers N, --apply-numbers-per-customer N, --apply-latency MS.
 */

import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

import {
  bin,
  check,
  flag,
  log,
  n,
  run,
  setFaults,
  startEmulator,
  TOKEN,
  work,
  type BenchEmulator,
} from './support.js';

const CUSTOMERS = flag('apply-customers', 1_000);
const PER_CUSTOMER = flag('apply-numbers-per-customer', 3);
const LATENCY = flag('apply-latency', 20);
const CONCURRENCY = 8;
const SHARED = 10;
const BASELINE_REQUESTS = 2_000;

const phone = (i: number) => `+1${String(3_000_000_000 + i).padStart(10, '0')}`;

function writeInputs() {
  const total = CUSTOMERS * PER_CUSTOMER;
  const inShared = Math.floor(total / 3);
  const seed = join(work, 'apply-seed.json');
  writeFileSync(
    seed,
    JSON.stringify({
      numbers: Array.from({ length: total }, (_, i) => ({ phone_number: phone(i) })),
      services: Array.from({ length: SHARED }, (_, s) => ({
        friendly_name: `Shared ${s + 1}`,
        phone_numbers: Array.from({ length: total }, (_, i) => i)
          .filter((i) => i < inShared && i % SHARED === s)
          .map(phone),
      })),
    }),
  );
  const lines = ['customer_id,customer_name,phone_number,messaging_service,subaccount_sid'];
  for (let c = 0; c < CUSTOMERS; c++) {
    for (let k = 0; k < PER_CUSTOMER; k++) {
      lines.push(`c${c},Customer ${c},${phone(c * PER_CUSTOMER + k)},c${c}Alerts,`);
    }
  }
  const mapping = join(work, 'apply-mapping.csv');
  writeFileSync(mapping, `${lines.join('\n')}\n`);
  return { seed, mapping, total };
}

/**
 * The baseline in the same run: what a bare node:http client, `CONCURRENCY` keep-alive loops
 * each sending its next request the moment the last is answered, gets from the same emulator
 * at the same latency: milliseconds per request per slot. Whatever it spends beyond the
 * latency (the emulator's timers firing late, both processes' HTTP work on a shared machine)
 * no client can avoid here.
 */
async function bareClientCycle(emulator: BenchEmulator, requests: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const url = `${emulator.url}/2010-04-01/Accounts/${emulator.accountSid}.json`;
  const authorization = `Basic ${Buffer.from(`${emulator.accountSid}:${TOKEN}`).toString('base64')}`;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const request = http.get(url, { agent, headers: { authorization } }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          if (response.statusCode !== 200) reject(new Error(`baseline: ${response.statusCode}`));
          else resolve(void JSON.parse(text));
        });
      });
      request.on('error', reject);
    });
  const each = Math.ceil(requests / CONCURRENCY);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = 0; i < each; i++) await one();
    }),
  );
  agent.destroy();
  return ((performance.now() - started) * CONCURRENCY) / (each * CONCURRENCY);
}

/**
 * The requests the run sent, from the emulator's log, and when (wall clock, ms) the first
 * arrived and the last was answered: what the run spent before its first request (start-up,
 * reading and checking the plan) and after its last (the reports) is outside them.
 */
async function requestsSent(
  url: string,
): Promise<{ count: number; firstArrived: number; lastAnswered: number }> {
  const response = await fetch(`${url}/__emulator/requests`);
  const log = (await response.json()) as { time: string; duration_ms: number }[];
  // `time` is when the request arrived; it was answered `duration_ms` later.
  const arrived = log.map((entry) => Date.parse(entry.time));
  return {
    count: log.length,
    firstArrived: Math.min(...arrived),
    lastAnswered: Math.max(...log.map((entry, i) => arrived[i]! + entry.duration_ms)),
  };
}

export async function benchApply(): Promise<string> {
  const inputs = writeInputs();
  log(`apply: starting the emulator with ${n(inputs.total)} numbers…`);
  const emulator = await startEmulator(['--scenario', inputs.seed]);
  try {
    const db = join(work, 'apply.db');
    const plan = join(work, 'apply.plan.json');
    log('apply: snapshot and plan (not measured)…');
    await run(bin, ['plan', '--mapping', inputs.mapping, '--db', db, '--out', plan], emulator.env);
    await setFaults(emulator.url, { latency_ms: LATENCY, concurrency_limit: CONCURRENCY });
    log(`apply: baseline, a bare HTTP client at ${LATENCY} ms…`);
    const cycle = await bareClientCycle(emulator, BASELINE_REQUESTS);
    await fetch(`${emulator.url}/__emulator/requests`, { method: 'DELETE' });
    log(`apply: ${n(CUSTOMERS)} customers, ${n(inputs.total)} numbers at ${LATENCY} ms…`);
    const started = Date.now();
    const result = await run(
      bin,
      ['apply', plan, '--db', db, '--concurrency', String(CONCURRENCY), '--rate', '1000'],
      { ...emulator.env },
    );
    const ended = Date.now();
    const seconds = (ended - started) / 1000;
    const sent = await requestsSent(emulator.url);
    const requests = sent.count;
    const before = (sent.firstArrived - started) / 1000;
    const during = (sent.lastAnswered - sent.firstArrived) / 1000;
    const after = (ended - sent.lastAnswered) / 1000;
    const floor = (requests * LATENCY) / CONCURRENCY / 1000;
    const ratio = seconds / floor;
    const attainable = (requests * cycle) / CONCURRENCY / 1000;
    return [
      `apply bench: ${n(CUSTOMERS)} customers, ${n(inputs.total)} numbers (${n(Math.floor(inputs.total / 3))} in ${SHARED} shared services), ${LATENCY} ms latency, emulator concurrency limit ${CONCURRENCY}`,
      `  ${result.stdout.trim().split('\n').at(-1)}`,
      `  submigrate apply --concurrency ${CONCURRENCY} --rate 1000: ${n(seconds, 1)} s for ${n(requests)} requests, peak RSS ${n(result.rssMb)} MB`,
      `  floor (${n(requests)} requests × ${LATENCY} ms ÷ ${CONCURRENCY}): ${n(floor, 1)} s → ${ratio.toFixed(2)}x the floor (target ≤ 1.1x: ${check(ratio <= 1.1)})`,
      `  where the time went: ${n(before, 2)} s before the first request (start-up, the plan read and checked), ${n(during, 1)} s from it to the last answer (${(during / floor).toFixed(2)}x the floor), ${n(after, 2)} s after (the reports)`,
      `  baseline, same run: a bare node:http client (${CONCURRENCY} keep-alive loops, ${n(BASELINE_REQUESTS)} GETs) gets ${cycle.toFixed(2)} ms per request per slot here, ${(cycle / LATENCY).toFixed(2)}x the latency;`,
      `    at that pace ${n(requests)} requests take ${n(attainable, 1)} s → apply is ${(seconds / attainable).toFixed(2)}x the bare client`,
      '',
    ].join('\n');
  } finally {
    emulator.stop();
  }
}
