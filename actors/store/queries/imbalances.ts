/**
 * Order-book imbalance over windows: means of the per-tick `imbalances`
 * rows over window-aligned buckets.
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

/** Window lengths of the imbalance means, ms. */
export type ImbalanceWindow = 1000 | 5000 | 15000 | 60000;

/** Every {@link ImbalanceWindow}, shortest first. */
export const IMBALANCE_WINDOWS: readonly ImbalanceWindow[] = [
  1000,
  5000,
  15000,
  60000,
];

/** The SQL interval of each window (whitelisted: it is inlined). */
const INTERVAL: Readonly<Record<ImbalanceWindow, string>> = {
  1000: "1 second",
  5000: "5 seconds",
  15000: "15 seconds",
  60000: "1 minute",
};

/**
 * The mean imbalance of one exchange × symbol over one window. Sizes in base
 * currency.
 */
export interface ImbalanceRow {
  /** Window start, ms since epoch (aligned to the window from the epoch). */
  ts: number;
  /** Exchange id. */
  exchange: string;
  /** The venue's symbol (the consolidation key for consolidated rows). */
  symbol: string;
  /** How deep the book was summed, as the writer measured it. */
  depth: number;
  /** Mean resting bid size within `depth`. */
  bidSize: number;
  /** Mean resting ask size within `depth`. */
  askSize: number;
  /** Mean of the ticks' imbalance; null when no tick had one. */
  imbalance: number | null;
}

/** Parameters of {@link imbalances}. */
export interface ImbalanceParams extends RangeParams {
  /** Window length, ms. */
  window: ImbalanceWindow;
}

/** Options for {@link imbalanceRows}. */
export interface ImbalanceRowsOptions {
  /** Window length, ms. */
  window: ImbalanceWindow;
  /** Windows starting at or after this, ms. */
  from: number;
  /** Windows starting before this, ms. */
  to: number;
  /** Most rows. */
  limit: number;
  /**
   * Only ticks at or before this instant, ms (a window it cuts is partial).
   * @default Infinity
   */
  cut?: number;
  /**
   * Keep the newest `limit` rows instead of the earliest (still returned
   * oldest first).
   * @default false
   */
  newest?: boolean;
}

/**
 * Window means of several series, ordered by window start (then exchange).
 * @param db the database.
 * @param series the exchange × symbol pairs.
 * @param o window, range, limit, cut.
 * @returns the rows, oldest first.
 */
export async function imbalanceRows(
  db: Db,
  series: readonly Series[],
  o: ImbalanceRowsOptions,
): Promise<ImbalanceRow[]> {
  const lo = ceilTo(o.from, o.window);
  const hi = Math.min(ceilTo(o.to, o.window), (o.cut ?? Infinity) + 1);
  if (series.length === 0 || lo >= hi) return [];
  const dir = o.newest ? "DESC" : "";
  const bin = `date_bin(interval '${
    INTERVAL[o.window]
  }', i.ts, timestamptz '1970-01-01T00:00:00Z')`;
  const rows = await select<ImbalanceRow>(
    db,
    `SELECT ${msSql("x.ts")} AS ts, x.exchange, x.symbol, x.depth,
       x."bidSize", x."askSize", x.imbalance
     FROM (
       SELECT ${bin} AS ts, i.exchange, i.symbol, i.depth,
         avg(i.bid_size) AS "bidSize", avg(i.ask_size) AS "askSize",
         avg(i.imbalance) AS imbalance
       FROM imbalances i JOIN ${SERIES_SQL}
         ON i.exchange = k.exchange AND i.symbol = k.symbol
       WHERE i.ts >= $2::timestamptz AND i.ts < $3::timestamptz
       GROUP BY 1, i.exchange, i.symbol, i.depth
     ) x
     ORDER BY x.ts ${dir}, x.exchange ${dir}, x.depth ${dir}
     LIMIT $4::int`,
    [seriesParam(series), iso(lo), iso(hi), o.limit],
  );
  return o.newest ? rows.reverse() : rows;
}

/**
 * Mean imbalance per window for windows starting in `[from, to)`.
 * @param db the database.
 * @param p exchanges, the venue's symbol, range, limit and window.
 * @returns up to `limit` rows, oldest first.
 * @throws {RequestError} `bad_request` for a bad range, limit or window.
 * @example
 * ```ts
 * const rows = await imbalances(db, { exchanges: ["binance"], symbol: "BTCUSDT", from, to, window: 5000 });
 * ```
 */
export async function imbalances(
  db: Db,
  p: ImbalanceParams,
): Promise<ImbalanceRow[]> {
  const limit = checkRange(p);
  if (!IMBALANCE_WINDOWS.includes(p.window)) {
    throw historyError(
      "bad_request",
      `window ${p.window} must be one of ${IMBALANCE_WINDOWS.join(", ")} ms`,
    );
  }
  return await imbalanceRows(db, seriesOf(p), {
    window: p.window,
    from: p.from,
    to: p.to,
    limit,
  });
}
