-- The spans in which a customer's sends were held by a reconcile pass to a suppression list that
-- was not whole (reconcile_judged_not_whole), and that no pass can read again over the whole
-- list: older than its subaccount's Messages API window by the time the list was whole
-- ('retention'), or sent from a number that has moved on to another customer since, whose sends
-- where it was before no pass reads ('numbers-left'). Kept for good: what was sent then was never
-- judged against the whole list, and every later pass says so.
CREATE TABLE reconcile_never_judged_whole (
  customer_id TEXT NOT NULL,
  account_sid TEXT NOT NULL,
  start       TEXT NOT NULL,
  "end"       TEXT NOT NULL,
  reason      TEXT NOT NULL CHECK (reason IN ('retention', 'numbers-left')),
  PRIMARY KEY (customer_id, account_sid, start, reason)
);
