-- What a reconcile pass found when it looked through the family's messages for a moved number
-- that Twilio says changed in its subaccount since apply last changed it (`number-updated`:
-- a webhook edited in the Console, or a move by hand away and back). Each row is one span of
-- the number, from when it last came into its subaccount (or the last change vouched for) to
-- Twilio's `date_updated` then:
--   outcome        'vouched': the parent and every other subaccount of the family were read,
--                  and none held a message the number sent or heard in the span; later passes
--                  take that `date_updated` as known and read nothing more for it (a later one
--                  is a new span, from this one).
--                  'found': some account held one (`found_account_sid`, `found_message_sid`,
--                  `found_sent_at`); the span stays not checked, and later passes say so
--                  without reading again.
-- A span some account could not be read for, or older than what the Messages API shows, is
-- not kept: each pass tries it again.
CREATE TABLE number_update_checks (
  number_sid        TEXT NOT NULL,
  subaccount_sid    TEXT NOT NULL,
  span_start        TEXT NOT NULL,
  date_updated      TEXT NOT NULL,
  outcome           TEXT NOT NULL CHECK (outcome IN ('vouched', 'found')),
  accounts_read     INTEGER NOT NULL,
  requests          INTEGER NOT NULL,
  found_account_sid TEXT,
  found_message_sid TEXT,
  found_sent_at     TEXT,
  checked_at        TEXT NOT NULL,
  PRIMARY KEY (number_sid, subaccount_sid, span_start, date_updated)
) WITHOUT ROWID;
