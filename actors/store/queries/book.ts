/**
 * The exact order book at an instant, rebuilt from `book_snapshots` and
 * `book_changes`: the last keyframe at or before the instant (by `ts, seq`),
 * then every change after it up to and including the instant, in
 * `(ts, seq)` order, a size of 0 deleting the level.
 *
 * @module
 */

import { OrderBook } from "../../market/book.ts";
import type { Market } from "../../market/events.ts";
import type { BookView } from "../../market/requests.ts";
import type { Db } from "../db.ts";
import { checkTime, historyError, iso, msSql } from "./_common.ts";

/** Levels per side when no `depth` is given. */
export const DEFAULT_DEPTH = 50;

/** The most levels per side a book answer holds. */
export const MAX_DEPTH = 5000;

/** Parameters of {@link bookAt}. */
export interface BookAtParams {
  /** Exchange id. */
  exchange: string;
  /** The venue's symbol, e.g. `BTCUSDT`. */
  symbol: string;
  /** The instant, ms since epoch (event time): rows at `at` are applied. */
  at: number;
  /**
   * Levels per side.
   * @default 50
   */
  depth?: number;
}

/** A rebuilt book and when its newest row was recorded. */
export interface BookAtResult {
  /** The book, as the live `book` request answers it. */
  view: BookView;
  /** Event time of the last keyframe or change applied, ms. */
  ts: number;
}

/**
 * Checks a book depth.
 * @param depth levels per side.
 * @returns the depth.
 * @throws {RequestError} `bad_request` outside 1 … {@link MAX_DEPTH}.
 */
export function checkDepth(depth: number): number {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
    throw historyError(
      "bad_request",
      `depth ${depth} must be an integer from 1 to ${MAX_DEPTH}`,
    );
  }
  return depth;
}

/** A keyframe or change row. */
interface BookRow {
  ts: number;
  seq: number;
  bids: number[];
  asks: number[];
}

/**
 * The symbol's normalized name and market, from the heatmap column the
 * exchange recorded for it nearest `p.at`: the last from a minute before
 * `from` to `p.at`, else the first in the minute after `p.at` (a book that
 * just synced has no column yet); the venue's symbol and `spot` when there
 * is none (the book tables do not store them).
 */
async function naming(
  db: Db,
  p: BookAtParams,
  from: number,
): Promise<{ symbol: string; market: Market }> {
  const [row] = await db.query<{ symbol: string; market: Market }>(
    `SELECT symbol, market FROM heatmap
     WHERE exchange = $1 AND exchange_symbol = $2
       AND ts >= $3::timestamptz AND ts <= $5::timestamptz
     ORDER BY ts <= $4::timestamptz DESC,
       CASE WHEN ts <= $4::timestamptz THEN ts END DESC, ts
     LIMIT 1`,
    [p.exchange, p.symbol, iso(from - 60_000), iso(p.at), iso(p.at + 60_000)],
  );
  return row ?? { symbol: p.symbol, market: "spot" };
}

/**
 * Rebuilds one book at an instant, with the time of its newest row.
 * @param db the database.
 * @param p exchange, the venue's symbol, instant and depth.
 * @returns the book (`state` `synced`, or `unsynced` with no levels when
 * the keyframe was empty: the book was not synced then) and its time.
 * @throws {RequestError} `not_found` when no keyframe precedes `at`;
 * `bad_request` for a bad time or depth.
 */
export async function rebuildBook(
  db: Db,
  p: BookAtParams,
): Promise<BookAtResult> {
  checkTime("at", p.at);
  const depth = checkDepth(p.depth ?? DEFAULT_DEPTH);
  const at = iso(p.at);
  const select = `SELECT ${msSql("ts")} AS ts, seq, bids, asks`;
  const [key] = await db.query<BookRow & { since: string }>(
    `${select}, ts::text AS since FROM book_snapshots
     WHERE exchange = $1 AND symbol = $2 AND ts <= $3::timestamptz
     ORDER BY ts DESC, seq DESC LIMIT 1`,
    [p.exchange, p.symbol, at],
  );
  if (!key) {
    throw historyError(
      "not_found",
      `No book of ${p.symbol} on ${p.exchange} was recorded at or before ${at}`,
    );
  }
  const { symbol, market } = await naming(db, p, key.ts);
  const empty = key.bids.length === 0 && key.asks.length === 0;
  if (empty) {
    return {
      view: {
        exchange: p.exchange,
        exchangeSymbol: p.symbol,
        symbol,
        market,
        state: "unsynced",
        lastSequence: -1,
        bids: [],
        asks: [],
      },
      ts: key.ts,
    };
  }
  const changes = await db.query<BookRow>(
    // `since` is the keyframe's own text, so no ms rounding can move it.
    `${select} FROM book_changes
     WHERE exchange = $1 AND symbol = $2
       AND ts >= $3::timestamptz AND ts <= $4::timestamptz
       AND (ts, seq) > ($3::timestamptz, $5::int)
     ORDER BY ts, seq`,
    [p.exchange, p.symbol, key.since, at, key.seq],
  );
  const book = new OrderBook();
  book.apply(key.bids, key.asks);
  let last: BookRow = key;
  for (const c of changes) {
    book.apply(c.bids, c.asks);
    last = c;
  }
  return {
    view: {
      exchange: p.exchange,
      exchangeSymbol: p.symbol,
      symbol,
      market,
      state: "synced",
      lastSequence: -1,
      bids: book.bids.top(depth),
      asks: book.asks.top(depth),
    },
    ts: last.ts,
  };
}

/**
 * The exact book of one exchange symbol at instant `at`.
 * @param db the database.
 * @param p exchange, the venue's symbol, instant and depth.
 * @returns the book as `GET /api/v1/book` serves it live, best levels
 * first; `state` is `synced`, or `unsynced` (no levels) when the book was
 * not synced at `at`. `lastSequence` is -1: the store keeps the book's
 * changes, not the venue's update ids.
 * `symbol` and `market` come from the heatmap columns recorded near it (the
 * venue's symbol and `spot` when there are none).
 * @throws {RequestError} `not_found` when no keyframe precedes `at`;
 * `bad_request` for a bad time or depth.
 * @example
 * ```ts
 * const book = await bookAt(db, { exchange: "binance", symbol: "BTCUSDT", at: Date.parse("2026-01-05T12:00:00Z"), depth: 10 });
 * ```
 */
export async function bookAt(db: Db, p: BookAtParams): Promise<BookView> {
  return (await rebuildBook(db, p)).view;
}
