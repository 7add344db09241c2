-- RCS and WhatsApp messages are in the same Messages list as SMS, their addresses channel
-- addresses (`rcs:+14155551234`, `whatsapp:+14155551234`). Evidence was kept under them as
-- written: an RCS STOP from rcs:+1… to rcs:+1A was on no number's list (none is rcs:+1A), and
-- one through a service listed `rcs:+1…`, which the customer's app, comparing E.164 numbers,
-- never finds. The ledger now keeps the E.164 number a channel address carries, and the
-- channel in a column of its own (null: none, as SMS and MMS). An address that carries no
-- phone number (an RCS agent `rcs:brand_agent`, `messenger:…`) stays as written.
ALTER TABLE ledger_events ADD COLUMN channel TEXT;
ALTER TABLE undated_evidence ADD COLUMN channel TEXT;

-- The channel: the end user's prefix, else the Twilio side's.
UPDATE ledger_events SET channel = lower(substr(end_user, 1, instr(end_user, ':') - 1))
  WHERE instr(end_user, ':') > 1
    AND substr(end_user, 1, instr(end_user, ':') - 1) NOT GLOB '*[^A-Za-z]*';
UPDATE ledger_events SET channel = lower(substr(twilio_number, 1, instr(twilio_number, ':') - 1))
  WHERE channel IS NULL AND instr(twilio_number, ':') > 1
    AND substr(twilio_number, 1, instr(twilio_number, ':') - 1) NOT GLOB '*[^A-Za-z]*';
UPDATE undated_evidence SET channel = lower(substr(end_user, 1, instr(end_user, ':') - 1))
  WHERE instr(end_user, ':') > 1
    AND substr(end_user, 1, instr(end_user, ':') - 1) NOT GLOB '*[^A-Za-z]*';
UPDATE undated_evidence SET channel = lower(substr(twilio_number, 1, instr(twilio_number, ':') - 1))
  WHERE channel IS NULL AND instr(twilio_number, ':') > 1
    AND substr(twilio_number, 1, instr(twilio_number, ':') - 1) NOT GLOB '*[^A-Za-z]*';

-- The E.164 number a channel address carries (+, then 8 to 15 digits, the first not 0).
UPDATE ledger_events SET end_user = substr(end_user, instr(end_user, ':') + 1)
  WHERE channel IS NOT NULL AND substr(end_user, instr(end_user, ':') + 1) GLOB '+[1-9]*'
    AND substr(end_user, instr(end_user, ':') + 2) NOT GLOB '*[^0-9]*'
    AND length(substr(end_user, instr(end_user, ':') + 1)) BETWEEN 9 AND 16;
UPDATE ledger_events SET twilio_number = substr(twilio_number, instr(twilio_number, ':') + 1)
  WHERE channel IS NOT NULL AND substr(twilio_number, instr(twilio_number, ':') + 1) GLOB '+[1-9]*'
    AND substr(twilio_number, instr(twilio_number, ':') + 2) NOT GLOB '*[^0-9]*'
    AND length(substr(twilio_number, instr(twilio_number, ':') + 1)) BETWEEN 9 AND 16;
UPDATE undated_evidence SET end_user = substr(end_user, instr(end_user, ':') + 1)
  WHERE channel IS NOT NULL AND substr(end_user, instr(end_user, ':') + 1) GLOB '+[1-9]*'
    AND substr(end_user, instr(end_user, ':') + 2) NOT GLOB '*[^0-9]*'
    AND length(substr(end_user, instr(end_user, ':') + 1)) BETWEEN 9 AND 16;
UPDATE undated_evidence SET twilio_number = substr(twilio_number, instr(twilio_number, ':') + 1)
  WHERE channel IS NOT NULL AND substr(twilio_number, instr(twilio_number, ':') + 1) GLOB '+[1-9]*'
    AND substr(twilio_number, instr(twilio_number, ':') + 2) NOT GLOB '*[^0-9]*'
    AND length(substr(twilio_number, instr(twilio_number, ':') + 1)) BETWEEN 9 AND 16;

-- A YES to a toll-free number is no opt-in (docs/opt-out-rules.md); read under its channel
-- address, the number was not seen to be toll-free, and such a YES was kept as one. Taken out,
-- as classifying the message again would: an opt-in fewer keeps the person on the list.
DELETE FROM ledger_events
  WHERE kind = 'opt-in' AND keyword = 'YES' AND channel IS NOT NULL
    AND (substr(twilio_number, 1, 5) IN ('+1800', '+1833', '+1844', '+1855', '+1866', '+1877', '+1888')
           AND length(twilio_number) = 12
         OR twilio_number IN (SELECT phone_number FROM numbers WHERE number_type LIKE '%toll%free%'));

-- A START over WhatsApp (or any channel but RCS) is no SMS opt-in: kept under its WhatsApp
-- addresses, it lifted only WhatsApp's; under the numbers now, it would lift an SMS STOP
-- Twilio still enforces. Taken out, as classifying the message again would.
DELETE FROM ledger_events WHERE kind = 'opt-in' AND channel IS NOT NULL AND channel <> 'rcs';
DELETE FROM undated_evidence WHERE kind = 'opt-in' AND channel IS NOT NULL AND channel <> 'rcs';
