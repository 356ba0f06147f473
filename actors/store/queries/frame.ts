/**
 * The unified inference frame: everything recorded about one symbol in a
 * window ending at an instant, across exchanges, in one object. Nothing
 * after the instant is in it: bars are built from the 1 s bars that closed
 * by it, books from the rows at or before it.
 *
 * @module
 */

import type { BookView } from "../../market/requests.ts";
import { RequestError } from "../../../runtime/protocol.ts";
import type { Db } from "../db.ts";
import {
  checkLimit,
  checkTime,
  CONSOLIDATED,
  floorTo,
  historyError,
  iso,
  msSql,
  select,
  type Series,
  SERIES_SQL,
  seriesParam,
} from "./_common.ts";
import { checkDepth, rebuildBook } from "./book.ts";
import { type ImbalanceRow, imbalanceRows } from "./imbalances.ts";
import { type Bar, barRows, type Timeframe, TIMEFRAME_MS } from "./ohlcv.ts";
import { type TradeRow, tradeRows } from "./trades.ts";

/** The timeframes of a frame's bars. */
export type FrameTimeframe = Extract<
  Timeframe,
  "1s" | "1m" | "5m" | "15m" | "1h"
>;

/** Every {@link FrameTimeframe}, shortest first. */
export const FRAME_TIMEFRAMES: readonly FrameTimeframe[] = [
  "1s",
  "1m",
  "5m",
  "15m",
  "1h",
];

/** Book levels per side in a frame when no `depth` is given. */
export const FRAME_DEPTH = 10;

/** The longest window a frame covers, ms (one day). */
export const MAX_WINDOW_MS = 86_400_000;

/** Parameters of {@link frame}. */
export interface FrameParams {
  /**
   * The consolidation key (`BTC-USDT`: every venue's symbol with that key,
   * and the consolidated series) or a venue's symbol (`BTCUSDT`).
   */
  symbol: string;
  /** The instant the frame ends at, ms since epoch (event time). */
  at: number;
  /** Window length, ms: the frame covers `[at - windowMs, at]`. */
  windowMs: number;
  /**
   * Only these exchanges.
   * @default every exchange that recorded the symbol in the window
   */
  exchanges?: string[];
  /**
   * Book levels per side.
   * @default 10
   */
  depth?: number;
  /**
   * Most rows of each list (bars per timeframe, imbalances, trades,
   * liquidations, health events); the newest are kept.
   * @default 1000
   */
  limit?: number;
}

/** One recorded change in a feed's health. */
export interface HealthRow {
  /** Event time, ms since epoch. */
  ts: number;
  /** Exchange id. */
  exchange: string;
  /** The connection actor's id; null when unknown. */
  connection: string | null;
  /** `connect`, `disconnect`, `resync`, `checksum` or `excluded`. */
  kind: string;
  /** The venue's symbol it concerns; null for the whole connection. */
  symbol: string | null;
  /** The cause in words. */
  detail: string | null;
}

/** Where a frame's data came from and what went wrong in its window. */
export interface FrameQuality {
  /** Exchanges with any bar, trade, imbalance or synced book in the frame. */
  exchanges: string[];
  /** Exchanges of the symbol that contributed nothing. */
  missing: string[];
  /** Exchanges whose book at `at` is not synced or was never recorded. */
  unsynced: string[];
  /** Health events of the frame's exchanges in the window, oldest first. */
  health: HealthRow[];
  /** Health events in `health` by kind, e.g. `{resync: 2, excluded: 1}`. */
  counts: Record<string, number>;
}

/** The inference frame of {@link frame}. */
export interface Frame {
  /** The consolidation key when known, else the symbol as asked. */
  symbol: string;
  /** The frame's end, ms since epoch. */
  at: number;
  /** The frame's start, `at - windowMs`, ms. */
  from: number;
  /** The series read: each exchange's own symbol, and `consolidated`. */
  series: Series[];
  /**
   * Bars by timeframe over the window, aligned to their timeframe from the
   * epoch (the first may open before `from`); the last of each is partial
   * when `at` cuts it.
   */
  ohlcv: Record<FrameTimeframe, Bar[]>;
  /** Each exchange's book at `at` (see `bookAt`), top `depth` levels. */
  books: BookView[];
  /** Mean imbalance per 1 s window, per exchange. */
  imbalances: ImbalanceRow[];
  /** Trades in the window, oldest first. */
  trades: TradeRow[];
  /** Liquidations in the window, oldest first. */
  liquidations: TradeRow[];
  /** Data quality. */
  quality: FrameQuality;
}

/**
 * The series a frame reads: the venues' symbols that the heatmap columns or
 * 1 s bars in the window name with `symbol` (as their key or as the venue's
 * own), and the consolidated series when `symbol` is a key; the frame's
 * symbol is the one key those venues share, else `symbol` as asked.
 */
async function resolve(
  db: Db,
  p: FrameParams,
  from: number,
): Promise<{ key: string; series: Series[] }> {
  const only = p.exchanges ? JSON.stringify(p.exchanges) : null;
  const filter = `ts >= $2::timestamptz AND ts <= $3::timestamptz
    AND ($4::text::json IS NULL
      OR exchange IN (SELECT json_array_elements_text($4::text::json)))`;
  const named = await db.query<
    { exchange: string; venue: string; key: string | null }
  >(
    `SELECT DISTINCT exchange, coalesce(exchange_symbol, symbol) AS venue,
       symbol AS key
     FROM heatmap WHERE (symbol = $1 OR exchange_symbol = $1) AND ${filter}
     UNION
     SELECT DISTINCT exchange, symbol AS venue,
       CASE WHEN exchange = '${CONSOLIDATED}' THEN symbol END AS key
     FROM ohlcv_1s WHERE symbol = $1 AND ${filter}
     ORDER BY 1, 2`,
    [p.symbol, iso(from), iso(p.at), only],
  );
  const series: Series[] = [];
  const seen = new Set<string>();
  const add = (exchange: string, symbol: string) => {
    const id = JSON.stringify([exchange, symbol]);
    if (seen.has(id)) return;
    seen.add(id);
    series.push({ exchange, symbol });
  };
  const keys = new Set<string>();
  for (const r of named) {
    if (r.key !== null) keys.add(r.key);
    if (r.exchange !== CONSOLIDATED) add(r.exchange, r.venue);
  }
  // Exchanges asked for that recorded nothing: read as asked, found missing.
  for (const e of p.exchanges ?? []) {
    if (e !== CONSOLIDATED && !series.some((s) => s.exchange === e)) {
      add(e, p.symbol);
    }
  }
  const consolidated = !p.exchanges || p.exchanges.includes(CONSOLIDATED);
  if (consolidated && keys.has(p.symbol)) add(CONSOLIDATED, p.symbol);
  return { key: keys.size === 1 ? [...keys][0] : p.symbol, series };
}

/** Health events of the series' exchanges in `[from, at]`. */
function healthRows(
  db: Db,
  series: readonly Series[],
  keys: readonly string[],
  from: number,
  at: number,
  limit: number,
): Promise<HealthRow[]> {
  return select<HealthRow>(
    db,
    `SELECT * FROM (
       SELECT ${msSql("h.ts")} AS ts, h.exchange, h.connection, h.kind,
         h.symbol, h.detail
       FROM health_events h
       WHERE h.exchange IN (SELECT exchange FROM ${SERIES_SQL})
         AND (h.symbol IS NULL OR h.symbol IN (SELECT symbol FROM ${SERIES_SQL})
           OR h.symbol IN (SELECT json_array_elements_text($2::text::json)))
         AND h.ts >= $3::timestamptz AND h.ts <= $4::timestamptz
       ORDER BY h.ts DESC, h.exchange DESC
       LIMIT $5::int
     ) x ORDER BY x.ts, x.exchange`,
    [seriesParam(series), JSON.stringify(keys), iso(from), iso(at), limit],
  );
}

/**
 * The inference frame of one symbol at instant `at`: multi-timeframe bars
 * (1s, 1m, 5m, 15m, 1h), every exchange's book at `at`, 1 s imbalance
 * means, trades and liquidations of the window `[at - windowMs, at]`, and
 * its data quality (which exchanges contributed, the health events of the
 * window). Nothing recorded after `at` is in it.
 * @param db the database.
 * @param p symbol, instant, window, and optionally exchanges, depth, limit.
 * @returns the frame; lists are oldest first.
 * @throws {RequestError} `bad_request` for a bad instant, window, depth or
 * limit; `not_found` when nothing names the symbol in the window.
 * @example
 * ```ts
 * const f = await frame(db, { symbol: "BTC-USDT", at: Date.parse("2026-01-05T12:00:00Z"), windowMs: 300_000 });
 * f.ohlcv["1m"].at(-1)?.close; // the last (partial) 1 m bar's close
 * ```
 */
export async function frame(db: Db, p: FrameParams): Promise<Frame> {
  checkTime("at", p.at);
  if (
    !Number.isInteger(p.windowMs) || p.windowMs < 1 ||
    p.windowMs > MAX_WINDOW_MS
  ) {
    throw historyError(
      "bad_request",
      `window ${p.windowMs} must be an integer from 1 to ${MAX_WINDOW_MS} ms`,
    );
  }
  const limit = checkLimit(p.limit);
  const depth = checkDepth(p.depth ?? FRAME_DEPTH);
  const at = p.at;
  const from = at - p.windowMs;
  const { key, series } = await resolve(db, p, from);
  if (series.length === 0) {
    throw historyError(
      "not_found",
      `Nothing names ${p.symbol} from ${iso(from)} to ${iso(at)}`,
    );
  }
  const ohlcv = {} as Record<FrameTimeframe, Bar[]>;
  for (const tf of FRAME_TIMEFRAMES) {
    ohlcv[tf] = await barRows(db, series, {
      timeframe: tf,
      // The bar holding `from` too: floor, not ceil.
      from: floorTo(from, TIMEFRAME_MS[tf]),
      to: at + 1,
      cut: at,
      limit,
      newest: true,
    });
  }
  const venues = series.filter((s) => s.exchange !== CONSOLIDATED);
  const books: BookView[] = [];
  const unsynced: string[] = [];
  for (const s of venues) {
    try {
      const b = await rebuildBook(db, {
        exchange: s.exchange,
        symbol: s.symbol,
        at,
        depth,
      });
      books.push(b.view);
      if (b.view.state !== "synced") unsynced.push(s.exchange);
    } catch (e) {
      if (!(e instanceof RequestError && e.code === "not_found")) throw e;
      unsynced.push(s.exchange);
    }
  }
  const range = { from, to: at + 1, limit, newest: true };
  const imbalances = await imbalanceRows(db, series, {
    ...range,
    window: 1000,
    from: floorTo(from, 1000),
    cut: at,
  });
  const trades = await tradeRows(db, "trades", venues, range);
  const liquidations = await tradeRows(db, "liquidations", venues, range);
  const health = await healthRows(db, venues, [key], from, at, limit);
  return {
    symbol: key,
    at,
    from,
    series,
    ohlcv,
    books,
    imbalances,
    trades,
    liquidations,
    quality: frameQuality(
      { ohlcv, books, imbalances, trades },
      venues.map((s) => s.exchange),
      unsynced,
      health,
    ),
  };
}

/**
 * A frame's data quality from its parts, as the stored and the live frame
 * both report it: an exchange contributed when it has a 1 s bar, an
 * imbalance, a trade or a synced book in the frame.
 * @param f the frame's bars, books, imbalances and trades.
 * @param exchanges the frame's venue exchanges (repeats allowed).
 * @param unsynced exchanges whose book is not synced or was never recorded.
 * @param health the window's health events, oldest first.
 * @returns the quality block.
 * @example
 * ```ts
 * const q = frameQuality({ ohlcv, books, imbalances, trades }, ["binance"], [], []);
 * ```
 */
export function frameQuality(
  f: Pick<Frame, "ohlcv" | "books" | "imbalances" | "trades">,
  exchanges: readonly string[],
  unsynced: readonly string[],
  health: HealthRow[],
): FrameQuality {
  const contributed = new Set<string>();
  for (const b of f.ohlcv["1s"]) contributed.add(b.exchange);
  for (const r of f.imbalances) contributed.add(r.exchange);
  for (const t of f.trades) contributed.add(t.exchange);
  for (const b of f.books) {
    if (b.state === "synced") contributed.add(b.exchange);
  }
  contributed.delete(CONSOLIDATED);
  const counts: Record<string, number> = {};
  for (const h of health) counts[h.kind] = (counts[h.kind] ?? 0) + 1;
  const all = [...new Set(exchanges)];
  return {
    exchanges: all.filter((e) => contributed.has(e)),
    missing: all.filter((e) => !contributed.has(e)),
    unsynced: [...new Set(unsynced)],
    health,
    counts,
  };
}
