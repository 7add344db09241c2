-- A `number-updated` span a pass could not vouch for without finding a message elsewhere (an
-- account of the family refused its messages, or the span reaches back beyond what an
-- account's Messages API shows) was said by that pass only: once the number was out of its
-- subaccount into one passes read, or a later apply touched it (its known time past the
-- change), no later pass listed it as changed, and the span where it may have sent from an
-- account no pass read was forgotten. Such a span is now kept as well:
--   outcome 'unvouched': named by every later pass, and by apply's and report's lines and
--           report.html, until a later pass vouches for a span of the number in its subaccount
--           that holds it (the same span read again while the number is still there: the row
--           becomes 'vouched', or 'found') or a span a pass found the number away in covers it.
-- SQLite cannot change a CHECK constraint in place: the table is made again, rows kept.
CREATE TABLE number_update_checks_032 (
  number_sid        TEXT NOT NULL,
  subaccount_sid    TEXT NOT NULL,
  span_start        TEXT NOT NULL,
  date_updated      TEXT NOT NULL,
  outcome           TEXT NOT NULL CHECK (outcome IN ('vouched', 'found', 'unvouched')),
  accounts_read     INTEGER NOT NULL,
  requests          INTEGER NOT NULL,
  found_account_sid TEXT,
  found_message_sid TEXT,
  found_sent_at     TEXT,
  checked_at        TEXT NOT NULL,
  PRIMARY KEY (number_sid, subaccount_sid, span_start, date_updated)
) WITHOUT ROWID;
INSERT INTO number_update_checks_032 SELECT * FROM number_update_checks;
DROP TABLE number_update_checks;
ALTER TABLE number_update_checks_032 RENAME TO number_update_checks;
