-- The apply journal. A run executes one plan (identified by its integrity seal); each step's
-- intent is committed before its Twilio request and its result after the answer, so a killed
-- apply is settled from live state and continued, never blindly sent again.

CREATE TABLE apply_runs (
  id                 INTEGER PRIMARY KEY,
  plan_path          TEXT    NOT NULL,
  plan_integrity     TEXT    NOT NULL,
  plan_fingerprint   TEXT    NOT NULL,
  parent_account_sid TEXT    NOT NULL,
  status             TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  started_at         TEXT    NOT NULL,
  finished_at        TEXT,
  options_json       TEXT    NOT NULL,
  notes_json         TEXT    NOT NULL DEFAULT '[]',
  -- The plan itself, as applied: reports are rebuilt from the database alone.
  plan_json          TEXT    NOT NULL
);
CREATE UNIQUE INDEX apply_runs_by_plan ON apply_runs (plan_integrity);

-- One row per plan step: where it stands now.
CREATE TABLE apply_steps (
  run_id        INTEGER NOT NULL REFERENCES apply_runs (id),
  step_id       TEXT    NOT NULL,
  position      INTEGER NOT NULL,
  action        TEXT    NOT NULL,
  customer_id   TEXT    NOT NULL,
  state         TEXT    NOT NULL
    CHECK (state IN ('pending', 'in_flight', 'done', 'skipped', 'failed', 'not_run')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  started_at    TEXT,
  finished_at   TEXT,
  result_json   TEXT, -- the Twilio SIDs the step produced or found
  error_status  INTEGER,
  error_code    INTEGER,
  error_message TEXT,
  PRIMARY KEY (run_id, step_id)
);

-- Append-only: every intent, result, settlement and note, in order.
CREATE TABLE apply_events (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES apply_runs (id),
  step_id     TEXT,
  at          TEXT    NOT NULL,
  kind        TEXT    NOT NULL CHECK (kind IN ('intent', 'result', 'settled', 'note')),
  detail_json TEXT    NOT NULL
);
CREATE INDEX apply_events_by_step ON apply_events (run_id, step_id);

-- One apply per database at a time.
CREATE TABLE apply_lock (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  run_id      INTEGER,
  pid         INTEGER NOT NULL,
  hostname    TEXT    NOT NULL,
  acquired_at TEXT    NOT NULL
);
