/**
 * Trades and liquidations as recorded, from the tables `trades` and
 * `liquidations`.
 *
 * @module
 */

import type { Db } from "../db.ts";
import {
  checkRange,
  iso,
  msSql,
  type RangeParams,
  select,
  type Series,
  SERIES_SQL,
  seriesOf,
  seriesParam,
} from "./_common.ts";

/**
 * One trade or liquidation. Price in quote currency, sizes in base currency
 * except `rawSize`.
 */
export interface TradeRow {
  /** Event time (local receive time), ms since epoch. */
  ts: number;
  /** The venue's own time, ms since epoch; null when it sent none. */
  exchangeTs: number | null;
  /** Exchange id. */
  exchange: string;
  /** The venue's symbol. */
  symbol: string;
  /** Price, quote currency. */
  price: number;
  /** Size, base currency. */
  size: number;
  /** Size as the venue sent it (contracts for a contract venue); null when unknown. */
  rawSize: number | null;
  /** A trade's taker side; a liquidation's order side. */
  side: "buy" | "sell";
}

/** Options for {@link tradeRows}. */
export interface TradeRowsOptions {
  /** Start, inclusive, ms. */
  from: number;
  /** End, exclusive, ms. */
  to: number;
  /** Most rows. */
  limit: number;
  /**
   * Keep the newest `limit` rows instead of the earliest (still returned
   * oldest first).
   * @default false
   */
  newest?: boolean;
}

/**
 * Rows of `trades` or `liquidations` of several series, ordered by `ts`
 * (then exchange).
 * @param db the database.
 * @param table `trades` or `liquidations`.
 * @param series the exchange × symbol pairs.
 * @param o range and limit.
 * @returns the rows, oldest first.
 */
export async function tradeRows(
  db: Db,
  table: "trades" | "liquidations",
  series: readonly Series[],
  o: TradeRowsOptions,
): Promise<TradeRow[]> {
  if (series.length === 0 || o.from >= o.to) return [];
  const dir = o.newest ? "DESC" : "";
  const rows = await select<TradeRow>(
    db,
    `SELECT ${msSql("t.ts")} AS ts, ${msSql("t.exchange_ts")} AS "exchangeTs",
       t.exchange, t.symbol, t.price, t.size, t.raw_size AS "rawSize", t.side
     FROM ${table} t JOIN ${SERIES_SQL}
       ON t.exchange = k.exchange AND t.symbol = k.symbol
     WHERE t.ts >= $2::timestamptz AND t.ts < $3::timestamptz
     ORDER BY t.ts ${dir}, t.exchange ${dir}
     LIMIT $4::int`,
    [seriesParam(series), iso(o.from), iso(o.to), o.limit],
  );
  return o.newest ? rows.reverse() : rows;
}

/**
 * Trades of the given exchanges in `[from, to)`.
 * @param db the database.
 * @param p exchanges, the venue's symbol, range and limit.
 * @returns up to `limit` trades, oldest first.
 * @throws {RequestError} `bad_request` for a bad range or limit.
 * @example
 * ```ts
 * const rows = await trades(db, { exchanges: ["binance"], symbol: "BTCUSDT", from, to });
 * ```
 */
export async function trades(db: Db, p: RangeParams): Promise<TradeRow[]> {
  const limit = checkRange(p);
  return await tradeRows(db, "trades", seriesOf(p), {
    from: p.from,
    to: p.to,
    limit,
  });
}

/**
 * Liquidations of the given exchanges in `[from, to)`; `side` is the
 * liquidated order's side.
 * @param db the database.
 * @param p exchanges, the venue's symbol, range and limit.
 * @returns up to `limit` liquidations, oldest first.
 * @throws {RequestError} `bad_request` for a bad range or limit.
 * @example
 * ```ts
 * const rows = await liquidations(db, { exchanges: ["bybit"], symbol: "BTCUSDT", from, to, limit: 100 });
 * ```
 */
export async function liquidations(
  db: Db,
  p: RangeParams,
): Promise<TradeRow[]> {
  const limit = checkRange(p);
  return await tradeRows(db, "liquidations", seriesOf(p), {
    from: p.from,
    to: p.to,
    limit,
  });
}
