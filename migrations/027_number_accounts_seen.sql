-- Every account a snapshot (or plan's refresh) listed a number in, kept for good, with when it
-- first and last listed it there and the Messaging Service it was in at the last of them: the
-- `numbers` table holds only the latest listing, so a number moved by hand (into its
-- customer's subaccount, say) between two snapshots was seen only where it is now. No plan
-- then recorded where it came from, and reconcile never judged its sends. From these rows a
-- plan knows the account it left, and reconcile from when it may have arrived.
CREATE TABLE number_accounts_seen (
  number_sid            TEXT NOT NULL,
  account_sid           TEXT NOT NULL,
  phone_number          TEXT NOT NULL,
  messaging_service_sid TEXT,
  first_seen            TEXT NOT NULL,
  last_seen             TEXT NOT NULL,
  PRIMARY KEY (number_sid, account_sid)
) WITHOUT ROWID;

-- Filled from what an older version kept: the latest listing of each number, and (migration
-- 026) each account it was listed in a Messaging Service of, the first time only: as the last
-- time it was seen there, that is as early as it may be, so reconcile judges more of its sends
-- in the account it is in now, never fewer.
INSERT OR IGNORE INTO number_accounts_seen
  (number_sid, account_sid, phone_number, messaging_service_sid, first_seen, last_seen)
SELECT number_sid, account_sid, phone_number, messaging_service_sid, observed_at, observed_at
FROM numbers;

INSERT OR IGNORE INTO number_accounts_seen
  (number_sid, account_sid, phone_number, messaging_service_sid, first_seen, last_seen)
SELECT n.number_sid, s.account_sid, s.phone_number, s.messaging_service_sid, MIN(s.first_seen),
       MIN(s.first_seen)
FROM number_services_seen s JOIN numbers n ON n.phone_number = s.phone_number
GROUP BY n.number_sid, s.account_sid;
