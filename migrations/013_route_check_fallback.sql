-- The routing check judges a number that reaches the same URL as before on its fallback too
-- (the URL Twilio calls when that one fails): its fallback before and now, and how it changed.
-- Null when not compared (the route changed, the fallback before is not known, or the check
-- was recorded before this column).
ALTER TABLE route_checks ADD COLUMN fallback_json TEXT;
