-- Sends a reconcile pass read and could not judge yet: to a listed recipient, after a span no
-- pass had read (a --since pass skipped it), where an opt-in could lift them. The pass that
-- reads that span reads them again and judges them. If the span falls out of the Messages API
-- window first, no pass ever will: a later pass judges them from here, with what the ledger
-- knows, rather than let them drop out of every list.
CREATE TABLE pending_sends (
  message_sid           TEXT PRIMARY KEY,
  account_sid           TEXT NOT NULL,
  from_number           TEXT NOT NULL,
  to_number             TEXT NOT NULL,
  status                TEXT NOT NULL,
  error_code            INTEGER,
  messaging_service_sid TEXT,
  sent_at               TEXT NOT NULL,
  pass_id               INTEGER NOT NULL REFERENCES reconcile_passes (id)
);
