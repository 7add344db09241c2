/**
 * The baseline of `numberStays`' `seenWhereHeld` in test/bench/stays-bench.ts: the query it
 * replaced, which joined each plan's `observed` to the open stays number by number (json_each
 * run again for each of them: 30 open stays over a plan of 100,000 numbers took 2 s), with the
 * rule it had then (a plan that saw the number anywhere but the stay's account ended it; now
 * only one that saw it where it is held now does: the bench's plans see it nowhere else). For
 * each open stay's number (`open`: its SID and the account of its stay), when the first plan
 * applied after its transfer's run, made after that transfer finished, saw it in another
 * account.
 */

import type { Db } from '../../src/db/open.js';

export function seenWhereHeldByJoin(
  db: Db,
  open: readonly { numberSid: string; accountSid: string }[],
): Map<string, string> {
  if (open.length === 0) return new Map();
  const rows = db
    .prepare(
      `WITH open AS MATERIALIZED (
         SELECT value ->> '$.numberSid' AS number_sid, value ->> '$.accountSid' AS account_sid
         FROM json_each(?)),
       last AS MATERIALIZED (
         SELECT u.number_sid, u.account_sid, MAX(s.run_id) AS run_id,
                MAX(s.finished_at) AS finished
         FROM open u JOIN apply_steps s ON s.step_id = 'transfer_number:' || u.number_sid
         WHERE s.action = 'transfer_number' AND s.state IN ('done', 'skipped')
         GROUP BY u.number_sid, u.account_sid),
       plans AS MATERIALIZED (
         SELECT id, plan_json, plan_json ->> '$.created_at' AS created_at FROM apply_runs
         WHERE id > (SELECT MIN(run_id) FROM last))
       SELECT l.number_sid AS numberSid, MIN(p.created_at) AS seen
       FROM plans p, json_each(p.plan_json, '$.observed') o
       JOIN last l ON o.key = 'number:' || l.number_sid AND p.id > l.run_id
         AND p.created_at > l.finished AND o.value ->> '$.account_sid' <> l.account_sid
       GROUP BY l.number_sid`,
    )
    .all(JSON.stringify(open)) as { numberSid: string; seen: string }[];
  return new Map(rows.map((r) => [r.numberSid, r.seen]));
}
