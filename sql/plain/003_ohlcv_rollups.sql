-- The OHLCV rollups without TimescaleDB: tables with the columns of ohlcv_1s,
-- filled for closed intervals by the rollup job (`rollup` in
-- actors/store/maintain.ts), each from the next finer rollup (1m from 1s,
-- 5m from 1m, … 1d from 4h). Intervals are aligned to the Unix epoch in UTC.
-- The primary key (exchange, symbol, ts) makes a re-run an upsert; it holds
-- the partition key `ts`, as a partitioned table requires.

CREATE TABLE IF NOT EXISTS ohlcv_1m (LIKE ohlcv_1s INCLUDING DEFAULTS,
  PRIMARY KEY (exchange, symbol, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS ohlcv_5m (LIKE ohlcv_1s INCLUDING DEFAULTS,
  PRIMARY KEY (exchange, symbol, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS ohlcv_15m (LIKE ohlcv_1s INCLUDING DEFAULTS,
  PRIMARY KEY (exchange, symbol, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS ohlcv_1h (LIKE ohlcv_1s INCLUDING DEFAULTS,
  PRIMARY KEY (exchange, symbol, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS ohlcv_4h (LIKE ohlcv_1s INCLUDING DEFAULTS,
  PRIMARY KEY (exchange, symbol, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS ohlcv_1d (LIKE ohlcv_1s INCLUDING DEFAULTS,
  PRIMARY KEY (exchange, symbol, ts)) PARTITION BY RANGE (ts);

-- How far each rollup is complete: every interval of `target` that ends at
-- or before `done_until` has been aggregated. Not partitioned: one row per
-- rollup table.
CREATE TABLE IF NOT EXISTS ohlcv_rollup_marks (
  target text PRIMARY KEY,
  done_until timestamptz NOT NULL
);
