-- A move marked under way with no origin: a plan made before migration 009 and applied again
-- by a submigrate of 009..016 (its run continued, then stopped again). That apply marked each
-- number it sent a step of as moving, before its request, but no plan of its version had
-- recorded where the number was, so the next plan found no origin and planned it from its
-- half-moved state, as 017 says of numbers no apply since 009 touched; 017 left these alone,
-- reading `moving` as a move whose origin was recorded. Their origin is taken from the
-- journal as 017 takes it; a number with an origin recorded is not touched.
CREATE TEMP TABLE origin_number_steps (
  number_sid TEXT    NOT NULL,
  run_id     INTEGER NOT NULL,
  finished   INTEGER NOT NULL,
  begun      INTEGER NOT NULL,
  PRIMARY KEY (number_sid, run_id)
);
INSERT INTO origin_number_steps (number_sid, run_id, finished, begun)
  SELECT substr(step_id, instr(step_id, ':') + 1), run_id,
         SUM(state NOT IN ('done', 'skipped')) = 0,
         SUM(state IN ('in_flight', 'done', 'failed')) > 0
  FROM apply_steps
  WHERE action IN ('detach_number', 'transfer_number', 'attach_number', 'set_number_webhook')
  GROUP BY 1, 2;

CREATE TEMP TABLE origin_runs (
  number_sid TEXT    PRIMARY KEY,
  run_id     INTEGER NOT NULL
);
INSERT INTO origin_runs (number_sid, run_id)
  SELECT n.number_sid, MIN(n.run_id)
  FROM origin_number_steps n
  WHERE n.begun
    AND n.run_id > COALESCE((SELECT MAX(f.run_id) FROM origin_number_steps f
                             WHERE f.number_sid = n.number_sid AND f.finished), 0)
    AND n.number_sid IN (SELECT number_sid FROM customer_numbers
                         WHERE origin_json IS NULL AND moving = 1)
  GROUP BY n.number_sid;

-- Where each such number was, as the plan of its run observed it.
CREATE TEMP TABLE origin_observed (
  run_id      INTEGER NOT NULL,
  number_sid  TEXT    NOT NULL,
  account_sid TEXT,
  service_sid TEXT,
  PRIMARY KEY (run_id, number_sid)
);
INSERT OR IGNORE INTO origin_observed (run_id, number_sid, account_sid, service_sid)
  SELECT r.id, substr(o.key, 8), o.value ->> '$.account_sid', o.value ->> '$.service_sid'
  FROM apply_runs r CROSS JOIN json_each(r.plan_json, '$.observed') o
  WHERE r.id IN (SELECT run_id FROM origin_runs) AND o.key LIKE 'number:%';

-- And where its inbound went then (route_before), with that.
CREATE TEMP TABLE origins (
  number_sid  TEXT PRIMARY KEY,
  origin_json TEXT NOT NULL
);
INSERT OR IGNORE INTO origins (number_sid, origin_json)
  SELECT w.number_sid,
         json_object('accountSid', b.account_sid, 'serviceSid', b.service_sid,
                     'route', json(n.value ->> '$.route_before'))
  -- (CROSS JOIN: in this order, each plan's numbers read once, each looked up by its key.)
  FROM apply_runs r
  CROSS JOIN json_each(r.plan_json, '$.customers') c
  CROSS JOIN json_each(c.value, '$.numbers') n
  CROSS JOIN origin_runs w ON w.number_sid = n.value ->> '$.number_sid' AND w.run_id = r.id
  CROSS JOIN origin_observed b ON b.run_id = r.id AND b.number_sid = w.number_sid
  WHERE r.id IN (SELECT run_id FROM origin_runs) AND b.account_sid IS NOT NULL;

UPDATE customer_numbers
SET origin_json = (SELECT origin_json FROM origins WHERE origins.number_sid = customer_numbers.number_sid)
WHERE origin_json IS NULL AND moving = 1 AND number_sid IN (SELECT number_sid FROM origins);

DROP TABLE origins;
DROP TABLE origin_observed;
DROP TABLE origin_runs;
DROP TABLE origin_number_steps;
