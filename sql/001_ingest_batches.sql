-- Write batches already stored: `Db.writeBatch` inserts a batch's id here in
-- the batch's own transaction, and skips the batch when the id is present.
-- Shared by both paths (plain and TimescaleDB).

CREATE TABLE IF NOT EXISTS ingest_batches (
  id text PRIMARY KEY
);
