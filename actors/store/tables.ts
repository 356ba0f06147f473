/**
 * The columns of the stored tables, in the field order every COPY into them
 * uses (see `sql/` and docs/history.md). One list per table shape; the
 * writer's row builders, the tests and the bench all take them from here.
 *
 * @module
 */

/** `trades` and `liquidations`. */
export const TRADE_COLUMNS = [
  "ts",
  "exchange_ts",
  "exchange",
  "symbol",
  "price",
  "size",
  "raw_size",
  "side",
] as const;

/** `book_changes` and `book_snapshots`. */
export const BOOK_COLUMNS = [
  "ts",
  "exchange_ts",
  "exchange",
  "symbol",
  "seq",
  "bids",
  "asks",
] as const;

/**
 * `heatmap` and every heatmap rollup (`heatmap_1m` … `heatmap_1d`); `sizes`
 * is a column's four arrays as `encodeSizes` (columns.ts) encodes them.
 */
export const HEATMAP_COLUMNS = [
  "ts",
  "exchange",
  "exchange_symbol",
  "symbol",
  "market",
  "bucket_size",
  "lo",
  "best_bid",
  "best_ask",
  "sizes",
] as const;

/** `imbalances`. */
export const IMBALANCE_COLUMNS = [
  "ts",
  "exchange",
  "symbol",
  "depth",
  "bid_size",
  "ask_size",
  "imbalance",
] as const;

/** `health_events`. */
export const HEALTH_COLUMNS = [
  "ts",
  "exchange",
  "connection",
  "kind",
  "symbol",
  "detail",
] as const;

/** `ohlcv_1s` and every OHLCV rollup. */
export const OHLCV_COLUMNS = [
  "ts",
  "exchange",
  "symbol",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "buy_volume",
  "sell_volume",
  "trades",
] as const;
