/**
 * OHLCV bars from `ohlcv_1s` and its rollups `ohlcv_<tf>`.
 *
 * A rollup is filled only for closed intervals (and, with TimescaleDB, may
 * lack intervals written after its refresh window passed them), so each
 * series takes the rollup's bars up to its last one in the range and builds
 * the bars after it from `ohlcv_1s` in SQL: `date_bin` on the epoch, open
 * and close as the first and last 1 s bar by `ts`. A timeframe with no
 * rolled-up bars at all is built entirely from the 1 s bars.
 *
 * @module
 */

import type { Db } from "../db.ts";
import {
  ceilTo,
  checkRange,
  historyError,
  iso,
  msSql,
  type RangeParams,
  select,
  type Series,
  SERIES_SQL,
  seriesOf,
  seriesParam,
} from "./_common.ts";

/** Bar lengths coby stores. */
export type Timeframe = "1s" | "1m" | "5m" | "15m" | "1h" | "4h" | "1d";

/** Every {@link Timeframe}, shortest first. */
export const TIMEFRAMES: readonly Timeframe[] = [
  "1s",
  "1m",
  "5m",
  "15m",
  "1h",
  "4h",
  "1d",
];

/** Length of each timeframe, ms. */
export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  "1s": 1_000,
  "1m": 60_000,
  "5m": 300_000,
  "15m": 900_000,
  "1h": 3_600_000,
  "4h": 14_400_000,
  "1d": 86_400_000,
};

/** The SQL interval of each timeframe (whitelisted: it is inlined). */
const INTERVAL: Readonly<Record<Timeframe, string>> = {
  "1s": "1 second",
  "1m": "1 minute",
  "5m": "5 minutes",
  "15m": "15 minutes",
  "1h": "1 hour",
  "4h": "4 hours",
  "1d": "1 day",
};

/**
 * One OHLCV bar of one exchange × symbol (or consolidated). Prices in quote
 * currency, volumes in base currency.
 */
export interface Bar {
  /** Bar open, ms since epoch (aligned to the timeframe from the epoch, UTC). */
  ts: number;
  /** Exchange id, or `consolidated`. */
  exchange: string;
  /** The venue's symbol, or the consolidation key. */
  symbol: string;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Traded volume. */
  volume: number;
  /** Volume of taker buys. */
  buyVolume: number;
  /** Volume of taker sells. */
  sellVolume: number;
  /** Number of trades. */
  trades: number;
}

/** Parameters of {@link ohlcv}. */
export interface OhlcvParams extends RangeParams {
  /** Bar length. */
  timeframe: Timeframe;
}

/** Options for {@link barRows}. */
export interface BarRowsOptions {
  /** Bar length. */
  timeframe: Timeframe;
  /** Bars opening at or after this, ms. */
  from: number;
  /** Bars opening before this, ms. */
  to: number;
  /** Most bars. */
  limit: number;
  /**
   * Only data known by this instant, ms: 1 s bars that closed by it (a bar
   * it cuts is built from them, partial) and rollup bars that closed by it.
   * @default Infinity
   */
  cut?: number;
  /**
   * Keep the newest `limit` bars instead of the earliest (still returned
   * oldest first).
   * @default false
   */
  newest?: boolean;
}

/** The SELECT list of a bar, from a relation `x` with the table's columns. */
const BAR_COLUMNS = `${msSql("x.ts")} AS ts, x.exchange, x.symbol,
  x.open, x.high, x.low, x.close, x.volume,
  x.buy_volume AS "buyVolume", x.sell_volume AS "sellVolume",
  x.trades::float8 AS trades`;

/**
 * Bars of several series, ordered by open time (then exchange).
 * @param db the database.
 * @param series the exchange × symbol pairs.
 * @param o timeframe, range, limit, cut.
 * @returns the bars, oldest first.
 */
export async function barRows(
  db: Db,
  series: readonly Series[],
  o: BarRowsOptions,
): Promise<Bar[]> {
  const step = TIMEFRAME_MS[o.timeframe];
  const cut = o.cut ?? Infinity;
  // Bars open in [lo, hi); a bar is whole unless the cut ends it early.
  const lo = ceilTo(o.from, step);
  const hi = ceilTo(o.to, step);
  // 1 s bars closed by the cut: ts + 1000 <= cut.
  const secondsTo = Math.min(hi, cut - 999);
  if (series.length === 0 || lo >= hi || lo >= secondsTo) return [];
  const dir = o.newest ? "DESC" : "";
  const order = `ORDER BY x.ts ${dir}, x.exchange ${dir} LIMIT $4::int`;
  let rows: Bar[];
  if (o.timeframe === "1s") {
    rows = await select<Bar>(
      db,
      `SELECT ${BAR_COLUMNS}
       FROM ohlcv_1s x JOIN ${SERIES_SQL}
         ON x.exchange = k.exchange AND x.symbol = k.symbol
       WHERE x.ts >= $2::timestamptz AND x.ts < $3::timestamptz
       ${order}`,
      [seriesParam(series), iso(lo), iso(secondsTo), o.limit],
    );
  } else {
    // Rollup bars closed by the cut: ts + step <= cut.
    const rolledTo = Math.min(hi, cut - step + 1);
    const bin = `date_bin(interval '${
      INTERVAL[o.timeframe]
    }', s.ts, timestamptz '1970-01-01T00:00:00Z')`;
    rows = await select<Bar>(
      db,
      `WITH k AS (SELECT * FROM ${SERIES_SQL}),
       r AS (
         SELECT o.ts, o.exchange, o.symbol, o.open, o.high, o.low, o.close,
           o.volume, o.buy_volume, o.sell_volume, o.trades::bigint AS trades
         FROM ohlcv_${o.timeframe} o
           JOIN k ON o.exchange = k.exchange AND o.symbol = k.symbol
         WHERE o.ts >= $2::timestamptz AND o.ts < $5::timestamptz
       ),
       last AS (
         SELECT exchange, symbol, max(ts) AS ts FROM r GROUP BY exchange, symbol
       ),
       b AS (
         SELECT ${bin} AS ts, s.exchange, s.symbol,
           (array_agg(s.open ORDER BY s.ts))[1] AS open,
           max(s.high) AS high, min(s.low) AS low,
           (array_agg(s.close ORDER BY s.ts DESC))[1] AS close,
           sum(s.volume) AS volume, sum(s.buy_volume) AS buy_volume,
           sum(s.sell_volume) AS sell_volume, sum(s.trades)::bigint AS trades
         FROM ohlcv_1s s
           JOIN k ON s.exchange = k.exchange AND s.symbol = k.symbol
           LEFT JOIN last l ON l.exchange = s.exchange AND l.symbol = s.symbol
         WHERE s.ts >= $2::timestamptz AND s.ts < $3::timestamptz
           AND (l.ts IS NULL OR s.ts >= l.ts + interval '${
        INTERVAL[o.timeframe]
      }')
         GROUP BY 1, s.exchange, s.symbol
       )
       SELECT ${BAR_COLUMNS}
       FROM (SELECT * FROM r UNION ALL SELECT * FROM b) x
       ${order}`,
      [seriesParam(series), iso(lo), iso(secondsTo), o.limit, iso(rolledTo)],
    );
  }
  return o.newest ? rows.reverse() : rows;
}

/**
 * OHLCV bars opening in `[from, to)`: the rollup's where it has them, built
 * from the 1 s bars where it has not (yet).
 * @param db the database.
 * @param p exchanges (`consolidated` for the consolidated bars), symbol (the
 * venue's, or the consolidation key), range, limit and timeframe.
 * @returns up to `limit` bars, oldest first.
 * @throws {RequestError} `bad_request` for a bad range, limit or timeframe.
 * @example
 * ```ts
 * const bars = await ohlcv(db, { exchanges: ["consolidated"], symbol: "BTC-USDT", from, to, timeframe: "1m" });
 * ```
 */
export async function ohlcv(db: Db, p: OhlcvParams): Promise<Bar[]> {
  const limit = checkRange(p);
  if (!TIMEFRAMES.includes(p.timeframe)) {
    throw historyError(
      "bad_request",
      `timeframe ${p.timeframe} must be one of ${TIMEFRAMES.join(", ")}`,
    );
  }
  return await barRows(db, seriesOf(p), {
    timeframe: p.timeframe,
    from: p.from,
    to: p.to,
    limit,
  });
}
