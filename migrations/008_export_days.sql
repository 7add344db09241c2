-- Bulk Export. Every window a snapshot reads says where it was read from: `api` (the Messages
-- API, which shows only its retention window) or `export` (Bulk Export day files, for what is
-- older). A run's options that decide its windows are kept with it, so that a killed run is
-- resumed only by a run that asks for the same thing. Export jobs and days are tracked one by
-- one: a resumed run polls the job it created and never reads a finished day again.

CREATE TABLE snapshot_windows_new (
  run_id       INTEGER NOT NULL REFERENCES snapshot_runs (id),
  account_sid  TEXT    NOT NULL,
  source       TEXT    NOT NULL CHECK (source IN ('api', 'export')),
  window_start TEXT    NOT NULL, -- ISO 8601 UTC, inclusive
  window_end   TEXT    NOT NULL, -- ISO 8601 UTC, inclusive
  PRIMARY KEY (run_id, account_sid, source, window_start)
);
INSERT INTO snapshot_windows_new (run_id, account_sid, source, window_start, window_end)
  SELECT run_id, account_sid, 'api', window_start, window_end FROM snapshot_windows;
DROP TABLE snapshot_windows;
ALTER TABLE snapshot_windows_new RENAME TO snapshot_windows;

ALTER TABLE snapshot_runs ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 400;
ALTER TABLE snapshot_runs ADD COLUMN use_export INTEGER NOT NULL DEFAULT 0
  CHECK (use_export IN (0, 1));

-- A Bulk Export job a run created for an account, with the days it asked for.
CREATE TABLE snapshot_export_jobs (
  run_id      INTEGER NOT NULL REFERENCES snapshot_runs (id),
  account_sid TEXT    NOT NULL,
  job_sid     TEXT    NOT NULL,
  start_day   TEXT    NOT NULL, -- YYYY-MM-DD
  end_day     TEXT    NOT NULL,
  created_at  TEXT    NOT NULL,
  PRIMARY KEY (run_id, job_sid)
);

-- One UTC day of an account's history a run reads from Bulk Export. A day is `done` in the
-- same transaction as the evidence its file held; `had_file` is 0 for a day Twilio reported
-- without messages (no file to read).
CREATE TABLE snapshot_export_days (
  run_id        INTEGER NOT NULL REFERENCES snapshot_runs (id),
  account_sid   TEXT    NOT NULL,
  day           TEXT    NOT NULL, -- YYYY-MM-DD
  status        TEXT    NOT NULL CHECK (status IN ('pending', 'done')),
  had_file      INTEGER CHECK (had_file IN (0, 1)),
  messages_read INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, account_sid, day)
);

-- The oldest message the Messages API showed in each slice: where the API's history really
-- begins, to check the retention window assumed against.
ALTER TABLE snapshot_slices ADD COLUMN oldest_sent TEXT;
