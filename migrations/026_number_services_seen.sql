-- Every Messaging Service a snapshot (or plan's refresh) saw a number in, kept for good: the
-- `numbers` table holds only what the latest listing of each account saw, so a number moved
-- out of a shared service by hand between two snapshots lost the service from its list, and
-- with it every opt-out said to the service's other numbers (a STOP to one number of a service
-- covers them all). A number's list carries the services it was seen in, as it carries those
-- its own evidence came through.
CREATE TABLE number_services_seen (
  phone_number          TEXT NOT NULL,
  account_sid           TEXT NOT NULL,
  messaging_service_sid TEXT NOT NULL,
  first_seen            TEXT NOT NULL,
  PRIMARY KEY (phone_number, account_sid, messaging_service_sid)
) WITHOUT ROWID;

INSERT OR IGNORE INTO number_services_seen
  (phone_number, account_sid, messaging_service_sid, first_seen)
SELECT phone_number, account_sid, messaging_service_sid, observed_at
FROM numbers WHERE messaging_service_sid IS NOT NULL;
