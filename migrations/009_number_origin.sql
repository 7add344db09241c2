-- Where a number's inbound messages went before any apply touched it (an InboundRoute as
-- JSON), beside the account and service it came from: a plan made again after an apply that
-- stopped half way plans from this origin, not from the half-moved state. Null for numbers
-- recorded before this column existed.
ALTER TABLE customer_numbers ADD COLUMN source_route_json TEXT;
