/**
 * `numberSightings`' journal part on a real SQLite file, against the query it replaced (each
 * number's steps looked up in the whole journal, which apply_steps has no index for: 20,000
 * numbers took 43 s): generated journals of transfers and attaches (done, skipped, failed, in
 * flight; with and without a service or a target account), numbers mapped and not, a phone
 * mapped under two SIDs. The same sightings for each phone, in any order.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Db } from '../../src/db/open.js';
import { numberSightings } from '../../src/db/whereabouts.js';
import { prng } from '../support/prng.js';
import { tempDir, withLedger, type TempDir } from '../support/snapshot-harness.js';

const sid = (prefix: string, i: number) => `${prefix}${String(i).padStart(32, '0')}`;
const phone = (i: number) => `+1415555${String(i).padStart(4, '0')}`;
const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const T0 = Date.parse('2026-11-01T10:00:00Z');

/** The query numberSightings read the journal with before, as it was. */
function stepsByLookup(db: Db, phones: readonly string[]) {
  return db
    .prepare(
      `SELECT n.phone_number AS phone, s.action,
              COALESCE(s.result_json ->> '$.to_account_sid', c.subaccount_sid) AS accountSid,
              s.result_json ->> '$.service_sid' AS service, s.finished_at AS at
       FROM customer_numbers n
       JOIN apply_steps s ON s.step_id IN ('transfer_number:' || n.number_sid,
                                           'attach_number:' || n.number_sid)
       LEFT JOIN customer_subaccounts c ON c.customer_id = s.customer_id
       WHERE n.phone_number IN (SELECT value FROM json_each(?))
         AND s.state IN ('done', 'skipped') AND s.finished_at IS NOT NULL`,
    )
    .all(JSON.stringify(phones)) as {
    phone: string;
    action: string;
    accountSid: string | null;
    service: string | null;
    at: string;
  }[];
}

function journal(db: Db, seed: number, numbers: number): void {
  const r = prng(seed);
  for (let c = 0; c < 4; c++) {
    db.prepare(
      `INSERT INTO customers (customer_id, customer_name, mapping_sha256, recorded_at)
       VALUES (?, ?, 'x', ?)`,
    ).run(`c${c}`, `C${c}`, at(T0));
    if (c < 3) {
      db.prepare(
        'INSERT INTO customer_subaccounts (customer_id, subaccount_sid, recorded_at) VALUES (?, ?, ?)',
      ).run(`c${c}`, sid('AC', c + 1), at(T0));
    }
  }
  for (let i = 0; i < numbers; i++) {
    if (r.chance(0.1)) continue;
    // A few phones mapped under a second SID too (a number released and bought again).
    const p = r.chance(0.05) && i > 0 ? phone(i - 1) : phone(i);
    db.prepare(
      `INSERT INTO customer_numbers (number_sid, phone_number, customer_id, source_account_sid,
         recorded_at) VALUES (?, ?, ?, ?, ?)`,
    ).run(sid('PN', i), p, `c${r.int(0, 3)}`, sid('AC', 0), at(T0));
  }
  const step = db.prepare(
    `INSERT INTO apply_steps (run_id, step_id, position, action, customer_id, state, finished_at,
       result_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (let run = 1; run <= 3; run++) {
    db.prepare(
      `INSERT INTO apply_runs (id, plan_path, plan_integrity, plan_fingerprint, parent_account_sid,
         status, started_at, options_json, plan_json) VALUES (?, 'p', ?, 'f', ?, 'completed', ?, '{}', '{}')`,
    ).run(run, `sha-${run}`, sid('AC', 0), at(T0 + run * 3_600_000));
    let position = 0;
    for (let i = 0; i < numbers; i++) {
      for (const action of ['transfer_number', 'attach_number', 'detach_number']) {
        if (!r.chance(0.4)) continue;
        const state = r.pick(['done', 'done', 'skipped', 'failed', 'in_flight']);
        const result =
          action === 'transfer_number'
            ? { to_account_sid: r.chance(0.8) ? sid('AC', r.int(1, 3)) : null }
            : { service_sid: r.chance(0.7) ? sid('MG', r.int(1, 5)) : null };
        step.run(
          run,
          `${action}:${sid('PN', i)}`,
          position++,
          action,
          `c${r.int(0, 3)}`,
          state,
          state === 'in_flight' || r.chance(0.05) ? null : at(T0 + run * 3_600_000 + i * 1000),
          r.chance(0.05) ? null : JSON.stringify(result),
        );
      }
    }
  }
}

describe('numberSightings: the journal read once', () => {
  let dir: TempDir;
  beforeEach(() => (dir = tempDir('submigrate-sightings-')));
  afterEach(() => dir.remove());

  it.each([1, 2, 3, 4])('gives the sightings the lookup by number gave (seed %i)', async (seed) => {
    await withLedger(dir.file(`s${seed}.db`), (db) => {
      journal(db, seed, 80);
      const phones = Array.from({ length: 90 }, (_, i) => phone(i)).filter((_, i) => i % 3 !== 0);
      const sightings = numberSightings(db, phones);
      const expected = new Map(phones.map((p) => [p, [] as unknown[]]));
      for (const { phone: p, action, accountSid, service, at: when } of stepsByLookup(db, phones)) {
        if (accountSid === null) continue;
        if (action === 'attach_number' && service === null) continue;
        expected.get(p)!.push({
          accountSid,
          at: when,
          listed: true,
          ...(action === 'attach_number' ? { service } : {}),
        });
      }
      const key = (s: unknown) => JSON.stringify(s);
      const sorted = (m: Map<string, unknown[]>) =>
        new Map([...m].map(([p, list]) => [p, list.map(key).sort()]));
      expect(sorted(sightings)).toEqual(sorted(expected));
      expect([...expected.values()].flat().length).toBeGreaterThan(20);
    });
  });
});
