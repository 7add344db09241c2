-- Which version of the keyword rules a snapshot run classified messages by
-- (RULES_VERSION in src/optouts/keywords.ts). The ledger keeps only the messages a run took
-- for keywords and refusals, so a window read under older rules may lack an opt-out the
-- current rules see (a full-width ＳＴＯＰ, say): such a window no longer counts as read,
-- and the next snapshot reads it again. Runs recorded before this column are of version 1.
ALTER TABLE snapshot_runs ADD COLUMN rules_version INTEGER NOT NULL DEFAULT 1;
