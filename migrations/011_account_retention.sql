-- How many days back each account's Messages API shows records, as far as the tool was told
-- (`--retention-days`) or found out (a run with Bulk Export saw the API show less than it
-- assumed; kept only when smaller). A later run not told again uses each account's window:
-- assuming Twilio's default instead would record as read a span the API cannot show.
CREATE TABLE account_retention (
  account_sid    TEXT    PRIMARY KEY,
  retention_days INTEGER NOT NULL CHECK (retention_days BETWEEN 7 AND 400),
  source         TEXT    NOT NULL CHECK (source IN ('told', 'learned')),
  run_id         INTEGER NOT NULL REFERENCES snapshot_runs (id),
  observed_at    TEXT    NOT NULL -- ISO 8601 UTC
);
