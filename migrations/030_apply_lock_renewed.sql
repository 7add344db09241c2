-- When the apply holding the lock last renewed it: a running apply renews it every few seconds,
-- so that `apply --take-over-lock` on another machine (or container), whose processes this one
-- cannot see, can tell an apply that still runs there (renewed within the last 30 s, or in this
-- machine's future: the clocks differ) from one that stopped. NULL for a lock written before this
-- migration, or given back as it was: never taken for an apply that runs.
ALTER TABLE apply_lock ADD COLUMN renewed_at TEXT;
