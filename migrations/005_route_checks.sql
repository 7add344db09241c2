-- The routing check after apply (and `submigrate routes`): for each moved number, where its
-- inbound messages went before the move and where they go now, read back from Twilio.

CREATE TABLE route_checks (
  run_id       INTEGER NOT NULL REFERENCES apply_runs (id),
  number_sid   TEXT    NOT NULL,
  customer_id  TEXT    NOT NULL,
  phone_number TEXT    NOT NULL,
  before_json  TEXT    NOT NULL,
  after_json   TEXT, -- null when the number was not where the plan put it
  verdict      TEXT    NOT NULL,
  checked_at   TEXT    NOT NULL,
  PRIMARY KEY (run_id, number_sid)
);
