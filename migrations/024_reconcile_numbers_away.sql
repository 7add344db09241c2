-- Moved numbers a reconcile pass found in another account than the subaccount it holds them to,
-- with no step of apply's that put them there (moved by hand back into the parent, say): a pass
-- reads a moved number's sends only in that subaccount, so what it sent from `account_sid` from
-- `start` (its latest move into the subaccount) to `end` (the last pass that found it there)
-- was held to no list. Kept for good: a later plan and apply that move it back do not judge
-- those sends, and every later pass says so.
CREATE TABLE reconcile_numbers_away (
  number_sid     TEXT NOT NULL,
  phone_number   TEXT NOT NULL,
  customer_id    TEXT NOT NULL,
  subaccount_sid TEXT NOT NULL,
  account_sid    TEXT NOT NULL,
  start          TEXT NOT NULL,
  "end"          TEXT NOT NULL,
  PRIMARY KEY (number_sid, account_sid, start)
);
