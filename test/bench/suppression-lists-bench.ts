/**
 * `suppressionLists` alone on a big customer's Messaging Services full of STOPs since the move
 * (7ab6737's measurement, rebuilt): 10 customers of 100 numbers each, moved by a real apply (the
 * emulator, the CLI: snapshot, plan, apply) out of 10 shared parent services into one subaccount
 * and one new service each (each number with its own transfer and attach time); then, written
 * into the ledger as a reconcile pass's snapshot would, 10,000 STOPs through each customer's new
 * service since the move (to its numbers, from as many people) and 100,000 older events to the
 * numbers in the parent (opt-outs, opt-ins, refusals, before the move). Every number of a service
 * holds all its STOPs (Twilio opts the person out of the whole service): some 10,000,000 entries.
 *
 * Each measured run is a fresh process (`--measure`) that opens the database, reads the moved
 * numbers (not timed) and times `suppressionLists`, printing its time, the process's peak RSS
 * (getrusage), the heap the lists keep once built (after a full GC) and a digest of every list in
 * order, each pair by what it holds (a STOP's `heldFrom` no later than its own date, which holds
 * nothing more, left out): the same digest, the same verdicts. `--dist A,B` measures the builds of
 * other checkouts (their `dist/src`) on the same database, alternating, so that a commit and its
 * parent are timed in the same minutes.
 *
 *   npm run build && node dist/test/bench/suppression-lists-bench.js --runs 3 \
 *     [--dist /path/to/before,/path/to/after] [--lists-services 10] [--lists-per-service 100]
 *     [--lists-stops 10000] [--lists-older 100000]
 *
 * The baseline, in the same run: `suppressionLists` of the last build given over a copy of the
 * ledger without the STOPs since the move (the lists the numbers carried, and their own older
 * evidence): what those STOPs cost, in time and peak RSS. `npm run bench -- --only
 * suppression-lists` runs it once with this build (`benchSuppressionLists`).
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import Database from 'better-sqlite3';

import { insertEvents, recordServices, type LedgerEvent } from '../../src/db/ledger.js';
import type { MovedNumber } from '../../src/db/reconcile.js';
import { createRun, finishRun } from '../../src/db/snapshot-runs.js';
import type { SuppressedPair } from '../../src/reconcile/violations.js';
import { prng } from '../support/prng.js';

import { bin, flag, log, n, root, run, startEmulator, work } from './support.js';

const SERVICES = flag('lists-services', 10);
const PER_SERVICE = flag('lists-per-service', 100);
const STOPS = flag('lists-stops', 10_000);
const OLDER = flag('lists-older', 100_000);

const HOUR = 3_600_000;
const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const phone = (i: number) => `+1${String(3_000_000_000 + i).padStart(10, '0')}`;
const person = (i: number) => `+1${String(5_000_000_000 + i).padStart(10, '0')}`;
let sids = 0;
const messageSid = () => `SM${String(++sids).padStart(32, '0')}`;

/** The database, migrated and moved by the CLI against the emulator, then the ledger written. */
export async function prepareLedger(db: string): Promise<{ moved: number; events: number }> {
  const total = SERVICES * PER_SERVICE;
  const seed = join(work, 'lists-seed.json');
  writeFileSync(
    seed,
    JSON.stringify({
      numbers: Array.from({ length: total }, (_, i) => ({ phone_number: phone(i) })),
      services: Array.from({ length: SERVICES }, (_, s) => ({
        friendly_name: `Shared ${s + 1}`,
        phone_numbers: Array.from({ length: PER_SERVICE }, (_, k) => phone(s * PER_SERVICE + k)),
      })),
    }),
  );
  const lines = ['customer_id,customer_name,phone_number,messaging_service,subaccount_sid'];
  for (let i = 0; i < total; i++) {
    const c = Math.floor(i / PER_SERVICE);
    lines.push(`c${c},Customer ${c},${phone(i)},c${c}Alerts,`);
  }
  const mapping = join(work, 'lists-mapping.csv');
  writeFileSync(mapping, `${lines.join('\n')}\n`);
  const emulator = await startEmulator(['--scenario', seed]);
  try {
    const plan = join(work, 'lists.plan.json');
    log(`suppression-lists: plan and apply of ${n(total)} numbers (not measured)…`);
    await run(bin, ['plan', '--mapping', mapping, '--db', db, '--out', plan], emulator.env);
    await run(
      bin,
      ['apply', plan, '--db', db, '--concurrency', '8', '--rate', '1000'],
      emulator.env,
    );
    log('suppression-lists: writing the ledger…');
  } finally {
    emulator.stop();
  }
  const d = new Database(db);
  try {
    // Where apply put each number: its subaccount and the service it attached it to there.
    const attached = d
      .prepare(
        `SELECT n.phone_number AS phone, c.subaccount_sid AS account,
                s.result_json ->> '$.service_sid' AS service, s.finished_at AS at
         FROM customer_numbers n
         JOIN customer_subaccounts c ON c.customer_id = n.customer_id
         JOIN apply_steps s ON s.step_id = 'attach_number:' || n.number_sid AND s.state = 'done'
         ORDER BY n.phone_number`,
      )
      .all() as { phone: string; account: string; service: string; at: string }[];
    if (attached.length !== total) throw new Error(`${attached.length} numbers attached`);
    const parent = (
      d.prepare('SELECT parent_account_sid AS p FROM apply_runs').get() as {
        p: string;
      }
    ).p;
    const moved = Math.max(...attached.map((a) => Date.parse(a.at)));
    const accounts = [...new Set(attached.map((a) => a.account))];
    const read = at(moved + 11 * 24 * HOUR);
    const runId = createRun(
      d,
      {
        parentAccountSid: parent,
        startedAt: read,
        pid: 1,
        hostname: 'bench',
        partitions: 1,
        keywordsJson: '{}',
        explicitWindow: false,
        madeBy: 'reconcile',
      },
      [parent, ...accounts].map((accountSid) => ({
        accountSid,
        windowStart: '2026-01-01T00:00:00Z',
        windowEnd: read,
      })),
      [],
    );
    // As the pass's snapshot of the subaccounts records their services.
    const byAccount = new Map(attached.map((a) => [a.account, a.service]));
    for (const [account, service] of byAccount) recordServices(d, account, read, [service]);
    const r = prng(11);
    const event = (
      e: Pick<LedgerEvent, 'accountSid' | 'kind' | 'twilioNumber' | 'endUser' | 'dateSent'> &
        Partial<LedgerEvent>,
    ): LedgerEvent => ({
      messageSid: messageSid(),
      keyword: e.kind === 'opt-out' ? 'STOP' : e.kind === 'opt-in' ? 'START' : null,
      channel: null,
      messagingServiceSid: null,
      direction: e.kind === 'refused' ? 'outbound-api' : 'inbound',
      body: e.kind === 'opt-out' ? 'STOP' : e.kind === 'opt-in' ? 'START' : 'hello',
      errorCode: e.kind === 'refused' ? 21610 : null,
      ...e,
    });
    let events = 0;
    const write = (batch: LedgerEvent[]) => {
      d.transaction(() => (events += insertEvents(d, runId, batch)))();
    };
    const older = Date.parse('2026-01-01T00:00:00Z');
    const before = moved - 24 * HOUR;
    for (let done = 0; done < OLDER; done += 10_000) {
      write(
        Array.from({ length: Math.min(10_000, OLDER - done) }, () => {
          const kind = r.next();
          return event({
            accountSid: parent,
            kind: kind < 0.8 ? 'opt-out' : kind < 0.95 ? 'opt-in' : 'refused',
            twilioNumber: phone(r.int(0, total - 1)),
            endUser: person(r.int(0, 999_999)),
            dateSent: at(r.int(older, before)),
          });
        }),
      );
    }
    for (let s = 0; s < SERVICES; s++) {
      const ofService = attached.slice(s * PER_SERVICE, (s + 1) * PER_SERVICE);
      write(
        Array.from({ length: STOPS }, (_, k) => {
          const through = ofService[r.int(0, ofService.length - 1)]!;
          return event({
            accountSid: through.account,
            kind: 'opt-out',
            twilioNumber: through.phone,
            endUser: person(1_000_000 + s * STOPS + k),
            messagingServiceSid: through.service,
            dateSent: at(moved + HOUR + r.int(0, 10 * 24 * HOUR)),
          });
        }),
      );
    }
    finishRun(d, runId, 'completed', read);
    return { moved: total, events };
  } finally {
    d.close();
  }
}

/** What a database prepared before holds. */
function ledgerOf(db: string): { moved: number; events: number } {
  const d = new Database(db, { readonly: true });
  try {
    const count = (sql: string) => (d.prepare(sql).get() as { n: number }).n;
    return {
      moved: count('SELECT COUNT(*) AS n FROM customer_numbers'),
      events: count('SELECT COUNT(*) AS n FROM ledger_events'),
    };
  } finally {
    d.close();
  }
}

interface Measured {
  seconds: number;
  peakRssMb: number;
  keptMb: number;
  entries: number;
  pairs: number;
  digest: string;
}

/** In this process: `suppressionLists` of the build under `dist` (its checkout's root). */
async function measure(db: string, dist: string): Promise<Measured> {
  const from = (module: string) => pathToFileURL(join(dist, 'dist', 'src', module)).href;
  const { movedNumbers } = (await import(from('db/reconcile.js'))) as {
    movedNumbers: (db: Database.Database) => MovedNumber[];
  };
  const { suppressionLists } = (await import(from('reconcile/suppression-lists.js'))) as {
    suppressionLists: (
      db: Database.Database,
      moved: readonly MovedNumber[],
    ) => Map<string, SuppressedPair[]>;
  };
  const d = new Database(db, { readonly: true });
  const moved = movedNumbers(d);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const lists = suppressionLists(d, moved);
  const seconds = (performance.now() - started) / 1000;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  gc?.();
  const keptMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  // Every list, in order, each pair by all it says: shared or copied, the same digest.
  const hash = createHash('sha256');
  const said = new Map<SuppressedPair, string>();
  let entries = 0;
  for (const phoneNumber of [...lists.keys()].sort()) {
    hash.update(`${phoneNumber}\n`);
    for (const pair of lists.get(phoneNumber)!) {
      entries++;
      let text = said.get(pair);
      if (text === undefined) {
        // A STOP holds no send before its own date: a `heldFrom` no later says nothing.
        const idle =
          pair.stopMessageSid !== null &&
          pair.heldFrom !== undefined &&
          pair.heldFrom <= (pair.standsSince ?? pair.optedOutAt);
        const fields = Object.entries(pair)
          .filter(([key, value]) => value !== undefined && !(idle && key === 'heldFrom'))
          .sort(([a], [b]) => (a < b ? -1 : 1));
        said.set(pair, (text = JSON.stringify(fields)));
      }
      hash.update(text);
      hash.update('\n');
    }
  }
  d.close();
  return {
    seconds,
    peakRssMb,
    keptMb,
    entries,
    pairs: said.size,
    digest: hash.digest('hex').slice(0, 16),
  };
}

/** One measured run, in a fresh process: `--measure DB --dist ROOT`. */
async function measured(db: string, dist: string): Promise<Measured> {
  const self = join(root, 'dist', 'test', 'bench', 'suppression-lists-bench.js');
  const child = spawn(process.execPath, ['--expose-gc', self, '--measure', db, '--dist', dist], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`--measure ${dist} exited ${code}`);
  return JSON.parse(out) as Measured;
}

const range = (values: number[], digits: number) => {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? n(low, digits) : `${n(low, digits)}–${n(high, digits)}`;
};

/** `runs` fresh processes for each build in `dists`, alternating; the figures of each. */
export async function benchSuppressionLists(
  dists: readonly string[] = [root],
  runs = 1,
  /** A database an earlier run prepared (`--db`), kept: made there when missing. */
  given?: string,
): Promise<string> {
  const db = given ?? join(work, 'lists.db');
  const { moved, events } = existsSync(db) ? ledgerOf(db) : await prepareLedger(db);
  const baselineDb = `${db}.baseline`;
  if (!existsSync(baselineDb)) withoutStopsSinceMove(db, baselineDb);
  const results = new Map<string, Measured[]>(dists.map((dist) => [dist, []]));
  const baseline: Measured[] = [];
  const last = dists.at(-1)!;
  for (let i = 0; i < runs; i++) {
    for (const dist of dists) {
      log(`suppression-lists: run ${i + 1} of ${dist} (load ${loadavg()[0]!.toFixed(1)})…`);
      results.get(dist)!.push(await measured(db, dist));
    }
    log(`suppression-lists: run ${i + 1} of the baseline with ${last}…`);
    baseline.push(await measured(baselineDb, last));
  }
  const lines = [
    `suppression-lists bench: ${n(moved)} moved numbers in ${n(SERVICES)} services, ` +
      `${n(STOPS)} STOPs through each since the move, ${n(OLDER)} older events ` +
      `(${n(events)} in the ledger); load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  ];
  for (const [dist, measures] of results) {
    const m = measures[0];
    if (m === undefined) continue;
    lines.push(
      `  ${dist}: suppressionLists ${range(
        measures.map((x) => x.seconds),
        2,
      )} s, peak RSS ${range(
        measures.map((x) => x.peakRssMb),
        0,
      )} MB, kept ${range(
        measures.map((x) => x.keptMb),
        0,
      )} MB (${runs} runs); ${n(m.entries)} entries, ${n(m.pairs)} distinct pair objects, ` +
        `digest ${[...new Set(measures.map((x) => x.digest))].join(' ')}`,
    );
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
  const ofLast = results.get(last)!;
  const time = median(ofLast.map((x) => x.seconds)) / median(baseline.map((x) => x.seconds));
  const rss = median(ofLast.map((x) => x.peakRssMb)) / median(baseline.map((x) => x.peakRssMb));
  lines.push(
    `  baseline, same run: the same ledger without the STOPs since the move, with ${last}: ` +
      `${range(
        baseline.map((x) => x.seconds),
        2,
      )} s, peak RSS ${range(
        baseline.map((x) => x.peakRssMb),
        0,
      )} MB (${n(baseline[0]!.entries)} entries); ` +
      `the services' STOPs take ${time.toFixed(2)}x its time, ${rss.toFixed(2)}x its peak RSS (medians)`,
  );
  return lines.join('\n');
}

/** A copy of `db` holding none of the evidence the subaccounts took since the move. */
function withoutStopsSinceMove(db: string, copy: string): void {
  const d = new Database(db, { readonly: true });
  d.prepare('VACUUM INTO ?').run(copy);
  d.close();
  const c = new Database(copy);
  c.prepare(
    `DELETE FROM ledger_events
     WHERE account_sid NOT IN (SELECT parent_account_sid FROM apply_runs)`,
  ).run();
  c.close();
}

const at0 = process.argv.indexOf('--measure');
if (at0 >= 0) {
  const dist = process.argv[process.argv.indexOf('--dist') + 1]!;
  rmSync(work, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(await measure(process.argv[at0 + 1]!, dist)));
} else if (process.argv[1]?.endsWith('suppression-lists-bench.js')) {
  const given = process.argv.indexOf('--dist');
  const dists = given < 0 ? [root] : process.argv[given + 1]!.split(',');
  try {
    const db = process.argv.indexOf('--db');
    const kept = db < 0 ? undefined : process.argv[db + 1]!;
    process.stdout.write(`${await benchSuppressionLists(dists, flag('runs', 3), kept)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
