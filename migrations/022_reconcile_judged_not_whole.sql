-- The customers whose sends a reconcile pass held to a suppression list that was not whole
-- (history no snapshot read while their numbers were there), and from when (the first of their
-- moves): "no violation" then said nothing of a person whose opt-out lay in what was not read.
-- A snapshot that reads that history makes the list whole but judges no send; the mark stays
-- until a pass, the list whole, has read their sends again from `since`.
CREATE TABLE reconcile_judged_not_whole (
  customer_id TEXT PRIMARY KEY,
  since       TEXT NOT NULL
);
