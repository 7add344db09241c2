-- The opt-out ledger: evidence rebuilt from Twilio's message history, and the snapshot runs
-- that produced it (their windows and keyword lists are the coverage every report states).

CREATE TABLE snapshot_runs (
  id                 INTEGER PRIMARY KEY,
  parent_account_sid TEXT    NOT NULL,
  status             TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'abandoned')),
  started_at         TEXT    NOT NULL,
  finished_at        TEXT,
  -- The process that runs it, so a second snapshot can tell a live run from a killed one.
  pid                INTEGER NOT NULL,
  hostname           TEXT    NOT NULL,
  partitions         INTEGER NOT NULL,
  keywords_json      TEXT    NOT NULL,
  explicit_window    INTEGER NOT NULL CHECK (explicit_window IN (0, 1))
);

-- One window per account per run: what part of that account's history the run covers.
CREATE TABLE snapshot_windows (
  run_id       INTEGER NOT NULL REFERENCES snapshot_runs (id),
  account_sid  TEXT    NOT NULL,
  window_start TEXT    NOT NULL, -- ISO 8601 UTC, inclusive
  window_end   TEXT    NOT NULL, -- ISO 8601 UTC, inclusive
  PRIMARY KEY (run_id, account_sid)
);

-- A time slice of one account's window, read page by page. `next_page_url` is where to go
-- on after a crash; it is committed in the same transaction as the page's events.
CREATE TABLE snapshot_slices (
  run_id          INTEGER NOT NULL REFERENCES snapshot_runs (id),
  account_sid     TEXT    NOT NULL,
  slice_index     INTEGER NOT NULL,
  slice_start     TEXT    NOT NULL,
  slice_end       TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('pending', 'done')),
  next_page_url   TEXT,
  pages_read      INTEGER NOT NULL DEFAULT 0,
  messages_read   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, account_sid, slice_index)
);

-- Every keyword message (opt-out, opt-in, help) and every send refused with 21610.
CREATE TABLE ledger_events (
  message_sid           TEXT    PRIMARY KEY,
  account_sid           TEXT    NOT NULL,
  kind                  TEXT    NOT NULL CHECK (kind IN ('opt-out', 'opt-in', 'help', 'refused')),
  keyword               TEXT, -- normalised (upper case); null for a refused send
  twilio_number         TEXT    NOT NULL,
  end_user              TEXT    NOT NULL,
  messaging_service_sid TEXT,
  direction             TEXT    NOT NULL,
  body                  TEXT    NOT NULL,
  date_sent             TEXT    NOT NULL, -- ISO 8601 UTC
  error_code            INTEGER,
  run_id                INTEGER NOT NULL REFERENCES snapshot_runs (id)
);


-- The numbers each snapshotted account holds now, and the Messaging Service each is in.
CREATE TABLE numbers (
  account_sid           TEXT NOT NULL,
  number_sid            TEXT NOT NULL,
  phone_number          TEXT NOT NULL,
  number_type           TEXT,
  messaging_service_sid TEXT,
  service_name          TEXT,
  observed_at           TEXT NOT NULL,
  run_id                INTEGER NOT NULL REFERENCES snapshot_runs (id),
  PRIMARY KEY (number_sid)
);
