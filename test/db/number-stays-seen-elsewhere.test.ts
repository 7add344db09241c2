/**
 * `numberStays`' `seenWhereHeld` on a real SQLite file, against each plan parsed and read one
 * by one (its query reads them once for all open stays): generated journals of several waves
 * (transfers done, skipped, failed, left in flight; runs of each plan, some given up), each
 * run's plan seeing each number in some account at some date, and each number's customer's
 * subaccount now another than the last transfer put it in or not. Both must name the same plan
 * date for each open stay, and some of each kind must be there: open stays a plan saw where
 * they are held now, open stays none did.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Db } from '../../src/db/open.js';
import { numberStays } from '../../src/db/reconcile.js';
import { prng } from '../support/prng.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const sid = (prefix: string, i: number) => `${prefix}${String(i).padStart(32, '0')}`;
const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const T0 = Date.parse('2026-11-01T10:00:00Z');
const HOUR = 3_600_000;
const ACCOUNTS = [0, 1, 2, 3].map((i) => sid('AC', i));

/** A journal of `runs` runs over `numbers` numbers, drawn from `seed`. */
function journal(db: Db, seed: number, runs: number, numbers: number) {
  const r = prng(seed);
  const step = db.prepare(
    `INSERT INTO apply_steps (run_id, step_id, position, action, customer_id, state, attempts,
       started_at, finished_at, result_json) VALUES (?, ?, ?, 'transfer_number', 'c', ?, 1, ?, ?, ?)`,
  );
  let t = T0;
  for (let run = 1; run <= runs; run++) {
    t += r.int(1, 6) * HOUR;
    // Made a little before its run, or (a plan made again) long before, or after some steps of
    // the run before finished.
    const created = t - r.pick([60_000, 3 * HOUR, 30 * 60_000]);
    const observed: Record<string, unknown> = {};
    for (let i = 0; i < numbers; i++) {
      if (r.chance(0.8)) {
        observed[`number:${sid('PN', i)}`] = { account_sid: r.pick(ACCOUNTS), service_sid: null };
      }
    }
    db.prepare(
      `INSERT INTO apply_runs (id, plan_path, plan_integrity, plan_fingerprint, parent_account_sid,
         status, started_at, options_json, plan_json)
       VALUES (?, 'p', ?, 'f', ?, 'completed', ?, '{}', ?)`,
    ).run(
      run,
      `sha-${run}`,
      ACCOUNTS[0],
      at(t),
      JSON.stringify({ created_at: at(created), observed }),
    );
    for (let i = 0; i < numbers; i++) {
      if (!r.chance(0.4)) continue;
      const state = r.pick(['done', 'done', 'skipped', 'failed', 'in_flight'] as const);
      const began = t + r.int(0, 30) * 60_000;
      const finished = state === 'in_flight' ? null : began + r.pick([1000, 2 * HOUR]);
      step.run(
        run,
        `transfer_number:${sid('PN', i)}`,
        i,
        state,
        at(began),
        finished === null ? null : at(finished),
        JSON.stringify({ number_sid: sid('PN', i), to_account_sid: r.pick(ACCOUNTS.slice(1)) }),
      );
    }
  }
  return new Map(
    Array.from({ length: numbers }, (_, i) => [sid('PN', i), r.pick(ACCOUNTS.slice(1))] as const),
  );
}

/**
 * The oracle: each open stay's number's last finished transfer, then each plan applied after
 * its run, made after it finished, parsed here, that saw the number where it is held now; the
 * earliest such plan's date.
 */
function seenByReading(
  db: Db,
  open: readonly { numberSid: string }[],
  current: ReadonlyMap<string, string>,
): Map<string, string> {
  const plans = (
    db.prepare('SELECT id, plan_json AS json FROM apply_runs ORDER BY id').all() as {
      id: number;
      json: string;
    }[]
  ).map((p) => ({
    id: p.id,
    ...(JSON.parse(p.json) as {
      created_at: string;
      observed: Record<string, { account_sid: string }>;
    }),
  }));
  const seen = new Map<string, string>();
  for (const { numberSid } of open) {
    const last = db
      .prepare(
        `SELECT MAX(run_id) AS run, MAX(finished_at) AS finished FROM apply_steps
         WHERE step_id = ? AND state IN ('done', 'skipped')`,
      )
      .get(`transfer_number:${numberSid}`) as { run: number; finished: string };
    const dates = plans
      .filter(
        (p) =>
          p.id > last.run &&
          p.created_at > last.finished &&
          p.observed[`number:${numberSid}`]?.account_sid === current.get(numberSid),
      )
      .map((p) => p.created_at)
      .sort();
    if (dates.length > 0) seen.set(numberSid, dates[0]!);
  }
  return seen;
}

describe('numberStays: when a plan saw an open stay’s number elsewhere', () => {
  let dir: TempDir;
  beforeEach(() => (dir = tempDir('submigrate-seen-elsewhere-')));
  afterEach(() => dir.remove());

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'names the plans read one by one name (seed %i)',
    async (seed) => {
      await withLedger(dir.file(`s${seed}.db`), (db) => {
        const current = journal(db, seed, 6, 60);
        const stays = numberStays(db, current);
        const open = stays.filter(
          (s) => s.left === null && current.get(s.numberSid) !== s.accountSid,
        );
        const seen = new Map(
          open.flatMap((s) =>
            s.seenWhereHeld === undefined ? [] : [[s.numberSid, s.seenWhereHeld]],
          ),
        );
        expect(seen).toEqual(seenByReading(db, open, current));
        expect(seen.size).toBeGreaterThan(0);
        expect(open.length).toBeGreaterThan(seen.size);
        // Only the open stays carry it.
        expect(stays.filter((s) => s.seenWhereHeld !== undefined)).toHaveLength(seen.size);
      });
    },
  );
});
