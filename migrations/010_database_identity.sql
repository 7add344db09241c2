-- This database's own id: random, made once when the database gets this migration. Files
-- written from it name it (a run's report folder, in its `.submigrate-report` mark), because
-- two databases used from one folder both have a run 1, and neither may replace the other's
-- reports. One row only; never changed. A copy of the file is the same database.
CREATE TABLE database_identity (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  id       TEXT    NOT NULL
);
INSERT INTO database_identity (only_row, id) VALUES (1, lower(hex(randomblob(16))));
