-- Each account's rows of `numbers`, found by its SID: the table is keyed by number SID only, so
-- a listing that replaces an account's numbers (`snapshot`, one account at a time) found the
-- old ones by reading every number listed. Over 1,000 subaccounts of 100 numbers that was
-- 1,000 reads of 100,000 rows, some 9 s of CPU. No row changes.
CREATE INDEX numbers_by_account ON numbers (account_sid);
