-- Where a number was before the move an apply is making of it: its account, its Messaging
-- Service and where its inbound messages went (JSON `{accountSid, serviceSid, route}`), and
-- whether that move is under way (`moving`: set before apply's first request for the number,
-- cleared once all its steps are done or a later plan finds it where the mapping wants it).
-- A plan made while a number is moving plans it from this origin, not from its half-moved
-- state; otherwise the origin is simply where the number is when it is planned.
ALTER TABLE customer_numbers ADD COLUMN origin_json TEXT;
ALTER TABLE customer_numbers ADD COLUMN moving INTEGER NOT NULL DEFAULT 0;
