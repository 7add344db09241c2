-- What a pending send was found against when it was kept: the customer its number was then
-- with, and the opt-out that listed its recipient. A later wave may move the number on to
-- another subaccount, out of the account the send was made in: the list the number is then
-- held to is no longer the one the send broke, and the send is judged from these. (Null on a
-- send kept before: it is judged as it was.)
ALTER TABLE pending_sends ADD COLUMN customer_id TEXT;
ALTER TABLE pending_sends ADD COLUMN stop_message_sid TEXT;
ALTER TABLE pending_sends ADD COLUMN opted_out_at TEXT;
