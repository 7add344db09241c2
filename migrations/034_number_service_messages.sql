-- Every Messaging Service SID a number's own messages carried, sent or received, in each account,
-- with the first and last such message's date_sent (Twilio's clock), kept for good. A number
-- Twilio sent a message from through a service, or routed one to through it, was in that service
-- then (a service sends from its sender pool), even where no listing ever saw it there: moved out
-- of it by hand before the first snapshot, its list still carries what the service's other
-- numbers were told while it was in it. The ledger keeps only keywords and refused sends; a
-- snapshot reads every message, and keeps this of the others. Whether a SID is a service is
-- judged where it is read (Twilio may write one default SID on every message sent without one).
-- Empty on upgrade: the next snapshot that reads the history again fills it.
CREATE TABLE number_service_messages (
  phone_number          TEXT NOT NULL,
  account_sid           TEXT NOT NULL,
  messaging_service_sid TEXT NOT NULL,
  first_sent            TEXT NOT NULL,
  last_sent             TEXT NOT NULL,
  PRIMARY KEY (phone_number, account_sid, messaging_service_sid)
) WITHOUT ROWID;
