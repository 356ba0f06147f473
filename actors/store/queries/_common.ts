/**
 * What every history query shares: its error, the time range and row limit
 * rules, the series filter and the SQL that turns a `timestamptz` into ms.
 * Private to `actors/store/queries/`.
 *
 * @module
 */

import { RequestError } from "../../../runtime/protocol.ts";
import type { Db } from "../db.ts";

/** The exchange id of consolidated rows (heatmap columns, OHLCV bars). */
export const CONSOLIDATED = "consolidated";

/** Rows a query returns when no `limit` is given. */
export const DEFAULT_LIMIT = 1000;

/** The largest `limit` a query accepts. */
export const MAX_LIMIT = 100_000;

/**
 * Codes a history query throws as `RequestError`s: `bad_request` — a
 * parameter is out of range (HTTP 400); `not_found` — nothing was recorded
 * that could answer (HTTP 404).
 */
export type HistoryErrorCode = "bad_request" | "not_found";

/**
 * A history query's error, with its code.
 * @param code `bad_request` or `not_found`.
 * @param message what went wrong, naming the bad value.
 * @returns the error to throw; it travels through an actor's request reply.
 * @example
 * ```ts
 * throw historyError("not_found", "No book of BTCUSDT on binance before 2026-01-01T00:00:00.000Z");
 * ```
 */
export function historyError(
  code: HistoryErrorCode,
  message: string,
): RequestError<HistoryErrorCode> {
  return new RequestError<HistoryErrorCode>(code, message);
}

/**
 * The parameters every range query takes. Times are event times (`ts`), ms
 * since the Unix epoch, UTC.
 */
export interface RangeParams {
  /**
   * Exchange ids; `consolidated` selects the consolidated rows where a table
   * has them (heatmap, OHLCV).
   */
  exchanges: string[];
  /**
   * The venue's symbol (`BTCUSDT`) for an exchange's rows, the consolidation
   * key (`BTC-USDT`) for consolidated rows and for heatmap columns.
   */
  symbol: string;
  /** Start of the range, inclusive, ms. */
  from: number;
  /** End of the range, exclusive, ms. */
  to: number;
  /**
   * Most rows returned, the earliest first.
   * @default 1000
   */
  limit?: number;
}

/** One series of rows: an exchange and the symbol its rows carry. */
export interface Series {
  /** Exchange id, or `consolidated`. */
  readonly exchange: string;
  /** The symbol in the table's `symbol` column. */
  readonly symbol: string;
}

/**
 * Checks a range query's parameters.
 * @param p the parameters.
 * @returns the limit in force.
 * @throws {RequestError} `bad_request` naming the bad value.
 */
export function checkRange(p: RangeParams): number {
  if (!Array.isArray(p.exchanges) || p.exchanges.length === 0) {
    throw historyError("bad_request", "exchanges must name at least one");
  }
  if (typeof p.symbol !== "string" || p.symbol === "") {
    throw historyError("bad_request", "symbol must not be empty");
  }
  checkTime("from", p.from);
  checkTime("to", p.to);
  if (!(p.from < p.to)) {
    throw historyError(
      "bad_request",
      `from ${iso(p.from)} must be before to ${iso(p.to)}`,
    );
  }
  return checkLimit(p.limit);
}

/**
 * Checks a time parameter.
 * @param name the parameter's name, for the message.
 * @param ms the time, ms since the epoch.
 * @throws {RequestError} `bad_request` unless it is an integer ms time that
 * `Date` can hold.
 */
export function checkTime(name: string, ms: number): void {
  if (!Number.isInteger(ms) || Math.abs(ms) > 8.64e15) {
    throw historyError("bad_request", `${name} ${ms} is not a time in ms`);
  }
}

/**
 * Checks a row limit.
 * @param limit the requested limit; undefined for the default.
 * @returns the limit in force.
 * @throws {RequestError} `bad_request` outside 1 … {@link MAX_LIMIT}.
 */
export function checkLimit(limit: number | undefined): number {
  const n = limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw historyError(
      "bad_request",
      `limit ${n} must be an integer from 1 to ${MAX_LIMIT}`,
    );
  }
  return n;
}

/**
 * The series of a range query: each exchange with the one symbol.
 * @param p exchanges and symbol.
 * @returns one series per distinct exchange.
 */
export function seriesOf(
  p: Pick<RangeParams, "exchanges" | "symbol">,
): Series[] {
  return [...new Set(p.exchanges)].map((exchange) => ({
    exchange,
    symbol: p.symbol,
  }));
}

/**
 * A time as a query parameter (`$n::timestamptz`).
 * @param ms ms since the epoch.
 * @returns ISO-8601 UTC.
 */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The series as a query parameter, for {@link SERIES_SQL}.
 * @param series the series.
 * @returns JSON `[{exchange, symbol}, …]`.
 */
export function seriesParam(series: readonly Series[]): string {
  return JSON.stringify(
    series.map((s) => ({ exchange: s.exchange, symbol: s.symbol })),
  );
}

/**
 * The series as a relation `k(exchange, symbol)` from a JSON parameter
 * ({@link seriesParam}) at `$1`: the same SQL on every engine, with no
 * driver-specific array binding.
 */
export const SERIES_SQL =
  "json_to_recordset($1::text::json) AS k(exchange text, symbol text)";

/**
 * SQL for a `timestamptz` column as ms since the epoch (a JS number on
 * every driver).
 * @param column the column, e.g. `t.ts`.
 * @returns the expression.
 */
export function msSql(column: string): string {
  return `(extract(epoch from ${column}) * 1000)::float8`;
}

/**
 * `ms` rounded down to a multiple of `step` (intervals aligned to the
 * epoch, as `date_bin` aligns them).
 * @param ms ms since the epoch.
 * @param step ms.
 */
export function floorTo(ms: number, step: number): number {
  return Math.floor(ms / step) * step;
}

/**
 * `ms` rounded up to a multiple of `step`.
 * @param ms ms since the epoch.
 * @param step ms.
 */
export function ceilTo(ms: number, step: number): number {
  return Math.ceil(ms / step) * step;
}

/**
 * Runs a query and returns its rows as a plain array (postgres.js answers
 * an `Array` subclass carrying the statement's metadata).
 * @param db the database.
 * @param sql the statement, `$1…$n` placeholders.
 * @param params their values.
 * @returns the rows.
 * @throws the driver's error.
 */
export async function select<T>(
  db: Db,
  sql: string,
  params: readonly unknown[],
): Promise<T[]> {
  return Array.from(await db.query<T>(sql, params));
}
