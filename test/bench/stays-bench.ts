/**
 * The stays reconcile reads on every pass and in `report` (`numberStays`, `spansNotJudged`) at
 * the scale of two big waves: `--stays-numbers` numbers moved by a first apply into 1,000
 * subaccounts, then as many more by a second (its plan as large), the journal and both plans
 * written straight into a database (no emulator: what is timed reads SQLite alone), and
 * `--stays-open` numbers of the first wave moved by hand into a second-wave customer's
 * subaccount, where the second plan found them: no transfer ended their first stay, and
 * `numberStays` reads the plans applied since for where they saw them. The baseline, in the
 * same run: the query it replaced (test/support/seen-elsewhere-by-join.ts), which read each plan
 * again for each open stay; both must name the same plans. Flags: --stays-numbers N,
 * --stays-open N.
 */

import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import { openDatabase, type Db } from '../../src/db/open.js';
import { movedNumbers, numberStays } from '../../src/db/reconcile.js';
import { subaccountsNow } from '../../src/reconcile/moved.js';
import { seenWhereHeldByJoin } from '../support/seen-elsewhere-by-join.js';

import { flag, log, n, root, work } from './support.js';

const NUMBERS = flag('stays-numbers', 100_000);
const OPEN = flag('stays-open', 30);
const CUSTOMERS = 1_000;

const sid = (prefix: string, i: number) => `${prefix}${String(i).padStart(32, '0')}`;
const phone = (i: number) => `+1${String(2_000_000_000 + i).padStart(10, '0')}`;
const PARENT = sid('AC', 0);
const sub = (wave: number, c: number) => sid('AC', wave * 10_000 + c + 1);
const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const T0 = Date.parse('2026-11-01T10:00:00Z');
const DAY = 86_400_000;

interface Wave {
  wave: number;
  created: number;
  /** The numbers it moves: [index, customer]. */
  numbers: [number, number][];
  /** Numbers its plan found already in a customer's subaccount (moved by hand). */
  found: [number, number][];
}

/** A plan file's JSON as apply keeps it, with `observed` and `steps` at full size. */
function planJson(w: Wave): string {
  const observed: Record<string, unknown> = {};
  for (const [i] of w.numbers) {
    observed[`number:${sid('PN', i)}`] = {
      account_sid: PARENT,
      service_sid: null,
      sms_url: 'https://app.example/sms',
      sms_method: 'POST',
    };
  }
  for (const [i, c] of w.found) {
    observed[`number:${sid('PN', i)}`] = {
      account_sid: sub(w.wave, c),
      service_sid: null,
      sms_url: 'https://app.example/sms',
      sms_method: 'POST',
    };
  }
  const steps: unknown[] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    steps.push({
      id: `create_subaccount:w${w.wave}c${c}`,
      action: 'create_subaccount',
      customer_id: `w${w.wave}c${c}`,
      depends_on: [],
      friendly_name: `Customer ${w.wave}-${c}`,
    });
  }
  for (const [i, c] of w.numbers) {
    steps.push({
      id: `transfer_number:${sid('PN', i)}`,
      action: 'transfer_number',
      customer_id: `w${w.wave}c${c}`,
      depends_on: [`create_subaccount:w${w.wave}c${c}`],
      phone_number: phone(i),
      number_sid: sid('PN', i),
      from_account_sid: PARENT,
      to_account_sid: null,
    });
  }
  return JSON.stringify({
    version: 1,
    created_at: at(w.created),
    parent_account_sid: PARENT,
    observed,
    customers: Array.from({ length: CUSTOMERS }, (_, c) => ({
      customer_id: `w${w.wave}c${c}`,
      customer_name: `Customer ${w.wave}-${c}`,
    })),
    steps,
    warnings: [],
  });
}

function writeWave(db: Db, w: Wave): number {
  const customer = db.prepare(
    `INSERT INTO customers (customer_id, customer_name, messaging_service, mapping_sha256, recorded_at)
     VALUES (?, ?, NULL, 'x', ?) ON CONFLICT DO NOTHING`,
  );
  const subaccount = db.prepare(
    'INSERT INTO customer_subaccounts (customer_id, subaccount_sid, recorded_at) VALUES (?, ?, ?)',
  );
  const number = db.prepare(
    `INSERT INTO customer_numbers (number_sid, phone_number, customer_id, source_account_sid,
       source_service_sid, recorded_at) VALUES (?, ?, ?, ?, NULL, ?)
     ON CONFLICT (number_sid) DO UPDATE SET customer_id = excluded.customer_id`,
  );
  const step = db.prepare(
    `INSERT INTO apply_steps (run_id, step_id, position, action, customer_id, state, attempts,
       started_at, finished_at, result_json) VALUES (?, ?, ?, ?, ?, 'done', 1, ?, ?, ?)`,
  );
  return db.transaction(() => {
    const started = w.created + 60_000;
    const run = Number(
      db
        .prepare(
          `INSERT INTO apply_runs (plan_path, plan_integrity, plan_fingerprint, parent_account_sid,
             status, started_at, finished_at, options_json, plan_json)
           VALUES (?, ?, 'f', ?, 'completed', ?, ?, '{}', ?)`,
        )
        .run(
          `w${w.wave}.plan.json`,
          `sha256-w${w.wave}`,
          PARENT,
          at(started),
          at(started + 3_600_000),
          planJson(w),
        ).lastInsertRowid,
    );
    let position = 0;
    for (let c = 0; c < CUSTOMERS; c++) {
      const id = `w${w.wave}c${c}`;
      customer.run(id, `Customer ${w.wave}-${c}`, at(w.created));
      subaccount.run(id, sub(w.wave, c), at(started));
      step.run(
        run,
        `create_subaccount:${id}`,
        position++,
        'create_subaccount',
        id,
        at(started),
        at(started + 1000),
        JSON.stringify({ subaccount_sid: sub(w.wave, c) }),
      );
    }
    for (const [i, c] of [...w.numbers, ...w.found]) {
      number.run(sid('PN', i), phone(i), `w${w.wave}c${c}`, PARENT, at(w.created));
    }
    w.numbers.forEach(([i, c], k) => {
      const t = started + 2000 + Math.floor((k / w.numbers.length) * 3_000_000);
      step.run(
        run,
        `transfer_number:${sid('PN', i)}`,
        position++,
        'transfer_number',
        `w${w.wave}c${c}`,
        at(t),
        at(t + 1000),
        JSON.stringify({ number_sid: sid('PN', i), to_account_sid: sub(w.wave, c) }),
      );
    });
    return run;
  })();
}

function median<T>(f: () => T): { seconds: number; value: T } {
  const runs: { seconds: number; value: T }[] = [];
  for (let k = 0; k < 3; k++) {
    const started = performance.now();
    const value = f();
    runs.push({ seconds: (performance.now() - started) / 1000, value });
  }
  return runs.sort((a, b) => a.seconds - b.seconds)[1]!;
}

function build(): Db {
  const db = openDatabase({
    path: join(work, 'stays.db'),
    migrationsDir: join(root, 'migrations'),
    clock: { now: () => new Date(T0) },
  });
  const per = NUMBERS / CUSTOMERS;
  writeWave(db, {
    wave: 1,
    created: T0,
    numbers: Array.from({ length: NUMBERS }, (_, i) => [i, Math.floor(i / per)]),
    found: [],
  });
  writeWave(db, {
    wave: 2,
    created: T0 + DAY,
    numbers: Array.from({ length: NUMBERS }, (_, i) => [NUMBERS + i, Math.floor(i / per)]),
    // Moved by hand from their first-wave subaccount into w2c0's, where the plan found them.
    found: Array.from({ length: OPEN }, (_, k) => [k * 7, 0]),
  });
  return db;
}

export async function benchStays(): Promise<string> {
  log(`stays: writing the database (${n(2 * NUMBERS)} transfers, ${n(OPEN)} moved by hand)…`);
  const db = build();
  try {
    log('stays: numberStays, and the baseline…');
    const current = subaccountsNow(movedNumbers(db));
    // What every pass read before a stay no transfer ended was ended by a plan's sighting.
    const bare = median(() => numberStays(db));
    const stays = median(() => numberStays(db, current));
    const open = stays.value.filter(
      (s) => s.left === null && current.get(s.numberSid) !== s.accountSid,
    );
    const seen = new Map(
      open.flatMap((s) => (s.seenWhereHeld === undefined ? [] : [[s.numberSid, s.seenWhereHeld]])),
    );
    const baseline = median(() => seenWhereHeldByJoin(db, open));
    const same = isDeepStrictEqual(seen, baseline.value);
    const added = stays.seconds - bare.seconds;
    return [
      `stays bench: ${n(NUMBERS)} numbers moved by a first apply, ${n(NUMBERS)} by a second, ` +
        `${n(OPEN)} of the first moved by hand into a second-wave subaccount`,
      `  open stays ${n(open.length)}, ended by a plan that saw the number where it is held now ${n(seen.size)}; the same as the baseline's: ${same ? 'yes' : 'NO'}`,
      `  stays-read: numberStays ${n(stays.seconds, 3)} s, of it the plans read for the open stays ${n(added, 3)} s ` +
        `(without them ${n(bare.seconds, 3)} s; medians of 3)`,
      `  baseline, same run: the query joining each open stay to each plan ${n(baseline.seconds, 3)} s ` +
        `(${n(baseline.seconds / Math.max(added, 0.001), 1)}x the plans' read)`,
    ].join('\n');
  } finally {
    db.close();
  }
}
