/**
 * The history queries: pure functions of a {@link Db} that answer what coby
 * recorded (see docs/history.md), with the same SQL on PostgreSQL, PGlite
 * and TimescaleDB. Every time is an event time (`ts`) in ms since the Unix
 * epoch, UTC; a range is `[from, to)`; prices are in quote currency and
 * sizes in base currency.
 *
 * The actor that owns the database (the writer: PGlite has one connection)
 * serves them as requests, through {@link HistoryRequests} and
 * {@link historyHandlers}:
 *
 * ```ts
 * runActor<HistoryRequests & …>({
 *   init(config, ctx) { db = await openDb(…); },
 *   requests: { ...historyHandlers(() => db), … },
 * });
 * // caller (the HTTP layer)
 * const bars = await sup.request("writer", "ohlcv", { exchanges: ["consolidated"], symbol: "BTC-USDT", from, to, timeframe: "1m" });
 * ```
 *
 * Errors are `RequestError`s with a {@link HistoryErrorCode}: `bad_request`
 * (HTTP 400) and `not_found` (HTTP 404).
 *
 * @module
 */

import type { RequestHandlers } from "../../runtime/actor.ts";
import type { BookView } from "../market/requests.ts";
import type { Db } from "./db.ts";
import type { RangeParams } from "./queries/_common.ts";
import { bookAt, type BookAtParams } from "./queries/book.ts";
import { type Frame, frame, type FrameParams } from "./queries/frame.ts";
import {
  heatmap,
  type HeatmapParams,
  type HeatmapResult,
} from "./queries/heatmap.ts";
import {
  type ImbalanceParams,
  type ImbalanceRow,
  imbalances,
} from "./queries/imbalances.ts";
import { type Bar, ohlcv, type OhlcvParams } from "./queries/ohlcv.ts";
import {
  replayEvents,
  type ReplayEventsParams,
  type ReplayPage,
  replayRange,
  type ReplayRangeParams,
  type ReplayRangeResult,
} from "./queries/replay.ts";
import { liquidations, type TradeRow, trades } from "./queries/trades.ts";

export {
  CONSOLIDATED,
  DEFAULT_LIMIT,
  type HistoryErrorCode,
  MAX_LIMIT,
  type RangeParams,
  type Series,
} from "./queries/_common.ts";
export {
  bookAt,
  type BookAtParams,
  DEFAULT_DEPTH,
  MAX_DEPTH,
} from "./queries/book.ts";
export {
  type Frame,
  frame,
  FRAME_DEPTH,
  FRAME_TIMEFRAMES,
  type FrameParams,
  type FrameQuality,
  type FrameTimeframe,
  type HealthRow,
  MAX_WINDOW_MS,
} from "./queries/frame.ts";
export {
  heatmap,
  type HeatmapParams,
  type HeatmapResolution,
  type HeatmapResult,
  type HistoryColumn,
  MAX_HEATMAP_LIMIT,
  RESOLUTIONS,
  type StoredResolution,
} from "./queries/heatmap.ts";
export {
  IMBALANCE_WINDOWS,
  type ImbalanceParams,
  type ImbalanceRow,
  imbalances,
  type ImbalanceWindow,
} from "./queries/imbalances.ts";
export {
  type Bar,
  ohlcv,
  type OhlcvParams,
  type Timeframe,
  TIMEFRAME_MS,
  TIMEFRAMES,
} from "./queries/ohlcv.ts";
export {
  MAX_REPLAY_LIMIT,
  type ReplayColumns,
  type ReplayCursor,
  replayEvents,
  type ReplayEventsParams,
  type ReplayPage,
  replayRange,
  type ReplayRangeParams,
  type ReplayRangeResult,
  type ReplaySeries,
} from "./queries/replay.ts";
export { liquidations, type TradeRow, trades } from "./queries/trades.ts";

/**
 * The history requests (method → params and result; see `RequestMap` in
 * `runtime/protocol.ts`), served by the actor that owns the database.
 * Errors: `RequestError` with a `HistoryErrorCode`.
 */
export type HistoryRequests = {
  /** Trades in `[from, to)`, oldest first. */
  trades: { params: RangeParams; result: TradeRow[] };
  /** Liquidations in `[from, to)`, oldest first. */
  liquidations: { params: RangeParams; result: TradeRow[] };
  /** OHLCV bars opening in `[from, to)`. */
  ohlcv: { params: OhlcvParams; result: Bar[] };
  /** Mean imbalance per window starting in `[from, to)`. */
  imbalances: { params: ImbalanceParams; result: ImbalanceRow[] };
  /** Heatmap columns in `[from, to)` and the resolution they come from. */
  heatmap: { params: HeatmapParams; result: HeatmapResult };
  /** The exact book at an instant. */
  bookAt: { params: BookAtParams; result: BookView };
  /** The inference frame of a symbol at an instant. */
  frame: { params: FrameParams; result: Frame };
  /**
   * The next page of a replay from the store (columnar records, buffers
   * transferred), with the books at `from` on the first page.
   */
  replayEvents: { params: ReplayEventsParams; result: ReplayPage };
  /** The series (with their `SymbolRef`s) and time span of a replay. */
  replayRange: { params: ReplayRangeParams; result: ReplayRangeResult };
};

/** A history request's method name. */
export type HistoryMethod = keyof HistoryRequests;

/**
 * The handlers of {@link HistoryRequests}, each running its query on the
 * database `db()` returns when the request arrives.
 * @param db the database in use (a getter: the owner may reopen it).
 * @returns one handler per method, for `runActor`'s `requests`.
 * @throws nothing itself; each handler rejects with the query's
 * `RequestError` or the driver's error.
 * @example
 * ```ts
 * runActor<HistoryRequests>({ init() {}, requests: historyHandlers(() => db) });
 * ```
 */
export function historyHandlers(
  db: () => Db,
): RequestHandlers<HistoryRequests> {
  return {
    trades: (p) => trades(db(), p),
    liquidations: (p) => liquidations(db(), p),
    ohlcv: (p) => ohlcv(db(), p),
    imbalances: (p) => imbalances(db(), p),
    heatmap: (p) => heatmap(db(), p),
    bookAt: (p) => bookAt(db(), p),
    frame: (p) => frame(db(), p),
    replayEvents: (p) => replayEvents(db(), p),
    replayRange: (p) => replayRange(db(), p),
  };
}
