-- The time tables without TimescaleDB (PostgreSQL, PGlite): each one is
-- range-partitioned by its event time `ts`, one partition per UTC day, named
-- `<table>_pYYYYMMDD` and created ahead of the writes by `ensurePartitions`
-- (actors/store/maintain.ts). There is no DEFAULT partition: a row for a day
-- without its partition fails its batch. Retention drops whole partitions.
--
-- The columns must match sql/timescale/002_tables.sql exactly (a test compares
-- the two schemas). See docs/history.md for what each table holds.

CREATE TABLE IF NOT EXISTS trades (
  ts timestamptz NOT NULL,
  exchange_ts timestamptz,
  exchange text NOT NULL,
  symbol text NOT NULL,
  price float8 NOT NULL,
  size float8 NOT NULL,
  raw_size float8,
  side text NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS trades_exchange_symbol_ts
  ON trades (exchange, symbol, ts);

-- As trades; `side` is the liquidation order's side.
CREATE TABLE IF NOT EXISTS liquidations (LIKE trades INCLUDING DEFAULTS)
  PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS liquidations_exchange_symbol_ts
  ON liquidations (exchange, symbol, ts);

CREATE TABLE IF NOT EXISTS book_changes (
  ts timestamptz NOT NULL,
  exchange_ts timestamptz,
  exchange text NOT NULL,
  symbol text NOT NULL,
  seq int NOT NULL,
  bids float8[] NOT NULL,
  asks float8[] NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS book_changes_exchange_symbol_ts
  ON book_changes (exchange, symbol, ts, seq);

-- As book_changes, the full book (an empty one: the book is not synced).
CREATE TABLE IF NOT EXISTS book_snapshots (LIKE book_changes INCLUDING DEFAULTS)
  PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS book_snapshots_exchange_symbol_ts
  ON book_snapshots (exchange, symbol, ts, seq);

CREATE TABLE IF NOT EXISTS heatmap (
  ts timestamptz NOT NULL,
  exchange text NOT NULL,
  exchange_symbol text,
  symbol text NOT NULL,
  market text NOT NULL,
  bucket_size float8 NOT NULL,
  lo bigint NOT NULL,
  best_bid float8,
  best_ask float8,
  -- bids, asks, buys and sells per bucket from bucket `lo`, each size to 6
  -- significant digits: the format of encodeSizes (actors/store/columns.ts).
  sizes bytea NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS heatmap_exchange_symbol_ts
  ON heatmap (exchange, symbol, ts);

-- The heatmap rollups are written by the writer (rows computed in-process).
CREATE TABLE IF NOT EXISTS heatmap_1m (LIKE heatmap INCLUDING DEFAULTS)
  PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS heatmap_1m_exchange_symbol_ts
  ON heatmap_1m (exchange, symbol, ts);
CREATE TABLE IF NOT EXISTS heatmap_5m (LIKE heatmap INCLUDING DEFAULTS)
  PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS heatmap_5m_exchange_symbol_ts
  ON heatmap_5m (exchange, symbol, ts);
CREATE TABLE IF NOT EXISTS heatmap_1h (LIKE heatmap INCLUDING DEFAULTS)
  PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS heatmap_1h_exchange_symbol_ts
  ON heatmap_1h (exchange, symbol, ts);
CREATE TABLE IF NOT EXISTS heatmap_1d (LIKE heatmap INCLUDING DEFAULTS)
  PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS heatmap_1d_exchange_symbol_ts
  ON heatmap_1d (exchange, symbol, ts);

CREATE TABLE IF NOT EXISTS ohlcv_1s (
  ts timestamptz NOT NULL,
  exchange text NOT NULL,
  symbol text NOT NULL,
  open float8 NOT NULL,
  high float8 NOT NULL,
  low float8 NOT NULL,
  close float8 NOT NULL,
  volume float8 NOT NULL,
  buy_volume float8 NOT NULL,
  sell_volume float8 NOT NULL,
  trades int NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS ohlcv_1s_exchange_symbol_ts
  ON ohlcv_1s (exchange, symbol, ts);

CREATE TABLE IF NOT EXISTS imbalances (
  ts timestamptz NOT NULL,
  exchange text NOT NULL,
  symbol text NOT NULL,
  depth float8 NOT NULL,
  bid_size float8 NOT NULL,
  ask_size float8 NOT NULL,
  imbalance float8
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS imbalances_exchange_symbol_ts
  ON imbalances (exchange, symbol, ts);

CREATE TABLE IF NOT EXISTS health_events (
  ts timestamptz NOT NULL,
  exchange text NOT NULL,
  connection text,
  kind text NOT NULL,
  symbol text,
  detail text
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS health_events_exchange_symbol_ts
  ON health_events (exchange, symbol, ts);
