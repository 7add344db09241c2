-- The journal of `carry_optouts` steps, which write many consent records per step through
-- Twilio's Consent Management API, 25 to a request. The first time a step runs, every record
-- it will write is fixed here with its correlation_id and its batch, so a run taken up again
-- after a crash sends the same records with the same ids, never new ones; each record keeps
-- Twilio's answer for it, and each batch its sends and the answer to the last one.

CREATE TABLE consent_items (
  run_id          INTEGER NOT NULL REFERENCES apply_runs (id),
  step_id         TEXT    NOT NULL,
  position        INTEGER NOT NULL, -- the record's place in the step, from 0
  batch           INTEGER NOT NULL, -- the request it goes in, from 0
  correlation_id  TEXT    NOT NULL,
  account_sid     TEXT    NOT NULL, -- the subaccount written to, with its own credentials
  sender_id       TEXT    NOT NULL, -- a Messaging Service SID, or a phone number
  contact_id      TEXT    NOT NULL, -- the end user, E.164
  date_of_consent TEXT    NOT NULL, -- ISO 8601 UTC: when they opted out
  error_code      INTEGER,          -- NULL until Twilio answered for it; 0 = written
  error_messages  TEXT,             -- JSON array of Twilio's reasons (30646), [] when written
  answered_at     TEXT,
  PRIMARY KEY (run_id, step_id, position)
);
CREATE UNIQUE INDEX consent_items_by_correlation ON consent_items (run_id, step_id, correlation_id);
CREATE INDEX consent_items_written ON consent_items (correlation_id) WHERE error_code = 0;

CREATE TABLE consent_batches (
  run_id        INTEGER NOT NULL REFERENCES apply_runs (id),
  step_id       TEXT    NOT NULL,
  batch         INTEGER NOT NULL,
  sends         INTEGER NOT NULL DEFAULT 0, -- requests sent for it, each committed before it went
  sent_at       TEXT,                       -- the last of them
  answered_at   TEXT,                       -- when Twilio answered it with a result per item
  status        INTEGER,                    -- HTTP status of the last answer; 0 = none came
  error_code    INTEGER,                    -- Twilio's code when the whole request was refused
  error_message TEXT,
  PRIMARY KEY (run_id, step_id, batch)
);
