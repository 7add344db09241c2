-- The token the apply holding the lock chose when it took it (a random UUID of its process): the
-- lock is a process's own only when its token is that process's. Its pid and hostname alone did
-- not tell: two containers sharing a hostname (one image, a compose file's `hostname:`, pods of a
-- fixed hostname), each running node as pid 1 against one database on a shared volume, each took
-- the other's lock for its own, and an apply given after a reboot the pid of the one that held it
-- took that lock for its own. pid and hostname stay, to name the holder and to tell a process of
-- this machine that no longer runs. NULL for a lock taken before this migration: never taken for
-- the lock of the process that reads it.
ALTER TABLE apply_lock ADD COLUMN token TEXT;
