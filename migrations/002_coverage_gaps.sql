-- Coverage without silent holes: a run may read several windows of one account (every span
-- of history no completed run has read yet), the start of each account's history is kept once
-- it is known, and evidence Twilio gave no date for is kept apart, counted and reported.

CREATE TABLE snapshot_windows_new (
  run_id       INTEGER NOT NULL REFERENCES snapshot_runs (id),
  account_sid  TEXT    NOT NULL,
  window_start TEXT    NOT NULL, -- ISO 8601 UTC, inclusive
  window_end   TEXT    NOT NULL, -- ISO 8601 UTC, inclusive
  PRIMARY KEY (run_id, account_sid, window_start)
);
INSERT INTO snapshot_windows_new (run_id, account_sid, window_start, window_end)
  SELECT run_id, account_sid, window_start, window_end FROM snapshot_windows;
DROP TABLE snapshot_windows;
ALTER TABLE snapshot_windows_new RENAME TO snapshot_windows;

-- Where an account's message history begins, as far as the tool found out (and how).
CREATE TABLE account_history (
  account_sid   TEXT PRIMARY KEY,
  history_start TEXT NOT NULL, -- ISO 8601 UTC
  source        TEXT NOT NULL,
  observed_at   TEXT NOT NULL
);

-- A keyword message or refused send without date_sent or date_created: it cannot be ordered
-- against the rest of the pair's evidence, so it is not in ledger_events; every report counts it.
CREATE TABLE undated_evidence (
  message_sid           TEXT    PRIMARY KEY,
  account_sid           TEXT    NOT NULL,
  kind                  TEXT    NOT NULL CHECK (kind IN ('opt-out', 'opt-in', 'help', 'refused')),
  keyword               TEXT,
  twilio_number         TEXT    NOT NULL,
  end_user              TEXT    NOT NULL,
  messaging_service_sid TEXT,
  direction             TEXT    NOT NULL,
  body                  TEXT    NOT NULL,
  error_code            INTEGER,
  run_id                INTEGER NOT NULL REFERENCES snapshot_runs (id)
);
