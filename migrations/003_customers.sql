-- The mapping `plan` last recorded: customers, and which numbers are theirs. The opt-out
-- exports fill their customer columns from it, and `optouts --customer` filters by it.

CREATE TABLE customers (
  customer_id       TEXT PRIMARY KEY,
  customer_name     TEXT NOT NULL,
  messaging_service TEXT,
  mapping_sha256    TEXT NOT NULL,
  recorded_at       TEXT NOT NULL -- ISO 8601 UTC
);

-- One row per mapped number. `source_*` is where the number was before it moved: the
-- service whose service-wide opt-outs are on its suppression list. It is kept when a later
-- plan finds the number already moved.
CREATE TABLE customer_numbers (
  number_sid         TEXT PRIMARY KEY,
  phone_number       TEXT NOT NULL,
  customer_id        TEXT NOT NULL REFERENCES customers (customer_id),
  source_account_sid TEXT NOT NULL,
  source_service_sid TEXT,
  recorded_at        TEXT NOT NULL
);
CREATE INDEX customer_numbers_by_phone ON customer_numbers (phone_number);
CREATE INDEX customer_numbers_by_customer ON customer_numbers (customer_id);

-- The subaccount each customer went to, as recorded by apply: the next plan reuses it.
CREATE TABLE customer_subaccounts (
  customer_id    TEXT PRIMARY KEY,
  subaccount_sid TEXT NOT NULL,
  recorded_at    TEXT NOT NULL
);
