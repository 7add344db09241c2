-- Reconcile: the subaccounts' history after the move, held against the suppression lists.
-- Each pass is recorded (its windows are also a snapshot run, so its evidence joins the
-- ledger and the next pass reads on from where it ended); each violation found is kept.

CREATE TABLE reconcile_passes (
  id              INTEGER PRIMARY KEY,
  snapshot_run_id INTEGER NOT NULL REFERENCES snapshot_runs (id),
  finished_at     TEXT    NOT NULL,
  sends_checked   INTEGER NOT NULL,
  blocked         INTEGER NOT NULL,
  violations      INTEGER NOT NULL
);

CREATE TABLE violations (
  violating_message_sid TEXT PRIMARY KEY,
  recipient             TEXT NOT NULL,
  sender_number         TEXT NOT NULL,
  messaging_service_sid TEXT,
  customer_id           TEXT NOT NULL,
  stop_message_sid      TEXT, -- null when the opt-out is known from a refusal only
  opted_out_at          TEXT NOT NULL,
  sent_at               TEXT NOT NULL,
  account_sid           TEXT NOT NULL,
  status                TEXT NOT NULL,
  pass_id               INTEGER NOT NULL REFERENCES reconcile_passes (id)
);

-- Sends Twilio refused with 21610 to someone on the sender's suppression list: the opt-out
-- reached Twilio (carried, or said again in the subaccount). Counted, not violations.
CREATE TABLE blocked_sends (
  message_sid   TEXT PRIMARY KEY,
  recipient     TEXT NOT NULL,
  sender_number TEXT NOT NULL,
  customer_id   TEXT NOT NULL,
  sent_at       TEXT NOT NULL,
  account_sid   TEXT NOT NULL,
  pass_id       INTEGER NOT NULL REFERENCES reconcile_passes (id)
);
