-- The OHLCV rollups with TimescaleDB: continuous aggregates over ohlcv_1s,
-- with the columns of ohlcv_1s. Buckets are aligned to UTC midnight (every
-- width divides a day). `materialized_only = false`: a read also aggregates
-- the rows not materialized yet (real-time aggregation), so the newest bars
-- are there before the next refresh.
--
-- The refresh policies run on the wall clock and refresh a window behind
-- now (start_offset … end_offset): rows written later for an older interval
-- (an old capture replayed into a live database) are only materialized by an
-- explicit `CALL refresh_continuous_aggregate(...)`. A retention shorter than
-- a start_offset would let a refresh delete bars whose 1 s rows are dropped.

CREATE MATERIALIZED VIEW IF NOT EXISTS ohlcv_1m
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 minute', ts) AS ts,
  exchange,
  symbol,
  first(open, ts) AS open,
  max(high) AS high,
  min(low) AS low,
  last(close, ts) AS close,
  sum(volume) AS volume,
  sum(buy_volume) AS buy_volume,
  sum(sell_volume) AS sell_volume,
  sum(trades)::int AS trades
FROM ohlcv_1s
GROUP BY 1, exchange, symbol
WITH NO DATA;
CREATE INDEX IF NOT EXISTS ohlcv_1m_exchange_symbol_ts
  ON ohlcv_1m (exchange, symbol, ts);
SELECT add_continuous_aggregate_policy('ohlcv_1m',
  start_offset => interval '2 hours', end_offset => interval '1 minute',
  schedule_interval => interval '1 minute', if_not_exists => true);

CREATE MATERIALIZED VIEW IF NOT EXISTS ohlcv_5m
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '5 minutes', ts) AS ts,
  exchange,
  symbol,
  first(open, ts) AS open,
  max(high) AS high,
  min(low) AS low,
  last(close, ts) AS close,
  sum(volume) AS volume,
  sum(buy_volume) AS buy_volume,
  sum(sell_volume) AS sell_volume,
  sum(trades)::int AS trades
FROM ohlcv_1s
GROUP BY 1, exchange, symbol
WITH NO DATA;
CREATE INDEX IF NOT EXISTS ohlcv_5m_exchange_symbol_ts
  ON ohlcv_5m (exchange, symbol, ts);
SELECT add_continuous_aggregate_policy('ohlcv_5m',
  start_offset => interval '6 hours', end_offset => interval '5 minutes',
  schedule_interval => interval '5 minutes', if_not_exists => true);

CREATE MATERIALIZED VIEW IF NOT EXISTS ohlcv_15m
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '15 minutes', ts) AS ts,
  exchange,
  symbol,
  first(open, ts) AS open,
  max(high) AS high,
  min(low) AS low,
  last(close, ts) AS close,
  sum(volume) AS volume,
  sum(buy_volume) AS buy_volume,
  sum(sell_volume) AS sell_volume,
  sum(trades)::int AS trades
FROM ohlcv_1s
GROUP BY 1, exchange, symbol
WITH NO DATA;
CREATE INDEX IF NOT EXISTS ohlcv_15m_exchange_symbol_ts
  ON ohlcv_15m (exchange, symbol, ts);
SELECT add_continuous_aggregate_policy('ohlcv_15m',
  start_offset => interval '12 hours', end_offset => interval '15 minutes',
  schedule_interval => interval '15 minutes', if_not_exists => true);

CREATE MATERIALIZED VIEW IF NOT EXISTS ohlcv_1h
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 hour', ts) AS ts,
  exchange,
  symbol,
  first(open, ts) AS open,
  max(high) AS high,
  min(low) AS low,
  last(close, ts) AS close,
  sum(volume) AS volume,
  sum(buy_volume) AS buy_volume,
  sum(sell_volume) AS sell_volume,
  sum(trades)::int AS trades
FROM ohlcv_1s
GROUP BY 1, exchange, symbol
WITH NO DATA;
CREATE INDEX IF NOT EXISTS ohlcv_1h_exchange_symbol_ts
  ON ohlcv_1h (exchange, symbol, ts);
SELECT add_continuous_aggregate_policy('ohlcv_1h',
  start_offset => interval '2 days', end_offset => interval '1 hour',
  schedule_interval => interval '1 hour', if_not_exists => true);

CREATE MATERIALIZED VIEW IF NOT EXISTS ohlcv_4h
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '4 hours', ts) AS ts,
  exchange,
  symbol,
  first(open, ts) AS open,
  max(high) AS high,
  min(low) AS low,
  last(close, ts) AS close,
  sum(volume) AS volume,
  sum(buy_volume) AS buy_volume,
  sum(sell_volume) AS sell_volume,
  sum(trades)::int AS trades
FROM ohlcv_1s
GROUP BY 1, exchange, symbol
WITH NO DATA;
CREATE INDEX IF NOT EXISTS ohlcv_4h_exchange_symbol_ts
  ON ohlcv_4h (exchange, symbol, ts);
SELECT add_continuous_aggregate_policy('ohlcv_4h',
  start_offset => interval '4 days', end_offset => interval '4 hours',
  schedule_interval => interval '1 hour', if_not_exists => true);

CREATE MATERIALIZED VIEW IF NOT EXISTS ohlcv_1d
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 day', ts) AS ts,
  exchange,
  symbol,
  first(open, ts) AS open,
  max(high) AS high,
  min(low) AS low,
  last(close, ts) AS close,
  sum(volume) AS volume,
  sum(buy_volume) AS buy_volume,
  sum(sell_volume) AS sell_volume,
  sum(trades)::int AS trades
FROM ohlcv_1s
GROUP BY 1, exchange, symbol
WITH NO DATA;
CREATE INDEX IF NOT EXISTS ohlcv_1d_exchange_symbol_ts
  ON ohlcv_1d (exchange, symbol, ts);
SELECT add_continuous_aggregate_policy('ohlcv_1d',
  start_offset => interval '7 days', end_offset => interval '1 day',
  schedule_interval => interval '1 hour', if_not_exists => true);
