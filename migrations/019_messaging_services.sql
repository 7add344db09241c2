-- The Messaging Services each account was seen to hold: listed by a snapshot (or the plan
-- that refreshed the ledger), or a number's service when a snapshot or plan observed it. A
-- message's messaging_service_sid may be no service at all (Twilio: "A unique default value
-- is assigned if a Messaging Service is not used"), so an opt-in under a SID not known here
-- lifts only its number's pair, never the service's opt-outs. A SID stays here once seen:
-- Twilio does not give a service's SID to anything else.
CREATE TABLE messaging_services (
  account_sid TEXT NOT NULL,
  service_sid TEXT NOT NULL,
  first_seen_at TEXT NOT NULL, -- ISO 8601 UTC
  PRIMARY KEY (account_sid, service_sid)
);
INSERT OR IGNORE INTO messaging_services (account_sid, service_sid, first_seen_at)
  SELECT account_sid, messaging_service_sid, MIN(observed_at) FROM numbers
  WHERE messaging_service_sid IS NOT NULL GROUP BY account_sid, messaging_service_sid;
INSERT OR IGNORE INTO messaging_services (account_sid, service_sid, first_seen_at)
  SELECT source_account_sid, source_service_sid, MIN(recorded_at) FROM customer_numbers
  WHERE source_service_sid IS NOT NULL GROUP BY source_account_sid, source_service_sid;
