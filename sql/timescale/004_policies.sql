-- Compression and retention with TimescaleDB. The ages come from the
-- settings `coby.compress_after` and `coby.retention` (intervals), which the
-- migration runner sets for its transaction from `openDb`'s options; unset,
-- chunks are compressed after 1 day and dropped after 30 days. The policies
-- run on the wall clock; `applyRetention` (actors/store/maintain.ts) drops
-- chunks by the caller's clock as well.

ALTER TABLE trades SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');
ALTER TABLE liquidations SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');
ALTER TABLE book_changes SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol',
  timescaledb.compress_orderby = 'ts, seq');
ALTER TABLE book_snapshots SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol',
  timescaledb.compress_orderby = 'ts, seq');
ALTER TABLE heatmap SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');
ALTER TABLE heatmap_1m SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');
ALTER TABLE heatmap_5m SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');
ALTER TABLE heatmap_1h SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');
ALTER TABLE heatmap_1d SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');
ALTER TABLE ohlcv_1s SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');
ALTER TABLE imbalances SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');
ALTER TABLE health_events SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');

SELECT add_compression_policy(t,
  compress_after => coalesce(nullif(current_setting('coby.compress_after', true), ''), '1 day')::interval,
  if_not_exists => true)
FROM unnest(array['trades', 'liquidations', 'book_changes', 'book_snapshots',
  'heatmap', 'heatmap_1m', 'heatmap_5m', 'heatmap_1h', 'heatmap_1d',
  'ohlcv_1s', 'imbalances', 'health_events']::regclass[]) AS t;

-- Retention for the hypertables and the continuous aggregates alike.
SELECT add_retention_policy(t,
  drop_after => coalesce(nullif(current_setting('coby.retention', true), ''), '30 days')::interval,
  if_not_exists => true)
FROM unnest(array['trades', 'liquidations', 'book_changes', 'book_snapshots',
  'heatmap', 'heatmap_1m', 'heatmap_5m', 'heatmap_1h', 'heatmap_1d',
  'ohlcv_1s', 'imbalances', 'health_events', 'ohlcv_1m', 'ohlcv_5m',
  'ohlcv_15m', 'ohlcv_1h', 'ohlcv_4h', 'ohlcv_1d']::regclass[]) AS t;
