/**
 * The request maps of coby's actors (method → params and result, see
 * `RequestMap` in `runtime/protocol.ts`) and the error codes their handlers
 * throw. The actor implements its map with typed handlers, the supervisor's
 * `request()` and the HTTP layer call through the same map.
 *
 * ```ts
 * // actor side (actors/connection/mod.ts)
 * runActor<ConnectionRequests>({
 *   init(config, ctx) { … },
 *   requests: {
 *     book: ({ symbol, depth = 50 }) => conn.book(symbol, depth),
 *     books: ({ depth = Infinity }) => conn.books(depth),
 *     stats: () => conn.publish(),
 *   },
 * });
 * // and inside conn.book():
 * throw new RequestError<ConnectionErrorCode>("not_followed", `Symbol ${symbol} is not followed on ${exchange}`);
 *
 * // caller side
 * const book = await sup.request("conn:binance", "book", { symbol: "BTCUSDT" }); // BookView
 * ```
 *
 * @module
 */

import type { Market } from "./events.ts";
import type { Column } from "./heatmap.ts";

/** A book as `GET /api/v1/book` serves it: the `book` request's result. */
export interface BookView {
  /** Exchange id. */
  exchange: string;
  /** The venue's symbol. */
  exchangeSymbol: string;
  /** Normalized `BASE-QUOTE`. */
  symbol: string;
  /** Market type. */
  market: Market;
  /** `synced`, or `buffering` while waiting for a snapshot (never served as a book). */
  state: string;
  /** The venue sequence of the last applied update. */
  lastSequence: number;
  /** `[price, size]` best first; price in quote, size in base currency. */
  bids: [number, number][];
  /** `[price, size]` best first. */
  asks: [number, number][];
}

/** Params of the connection actor's `book` request. */
export interface BookParams {
  /** The venue's symbol, e.g. `BTCUSDT`. */
  symbol: string;
  /**
   * Levels per side.
   * @default 50
   */
  depth?: number;
}

/** Params of the connection actor's `books` request. */
export interface BooksParams {
  /**
   * Levels per side.
   * @default Infinity
   */
  depth?: number;
}

/**
 * Codes a connection actor's handlers throw as `RequestError`s:
 * `not_followed` — the symbol is not one this connection follows (HTTP 404);
 * `not_loaded` — the connection has not loaded its instrument list yet, so it
 * cannot tell (HTTP 503, retry).
 */
export type ConnectionErrorCode = "not_followed" | "not_loaded";

/** The connection actor's requests. */
export type ConnectionRequests = {
  /**
   * One book, top `depth` levels.
   * Throws `not_followed` or `not_loaded` ({@link ConnectionErrorCode}).
   */
  book: { params: BookParams; result: BookView };
  /** Every book the connection keeps (none on a bookless connection). */
  books: { params: BooksParams; result: BookView[] };
  /** Publishes stats now (so the supervisor is current); returns the counters. */
  stats: {
    params: Record<string, never>;
    result: { readonly [counter: string]: number };
  };
};

/** The aggregator's requests. */
export type AggregatorRequests = {
  /** The current heatmap columns, sampled now. */
  columns: { params: Record<string, never>; result: Column[] };
};

/**
 * What the writer publishes as its actor stats (`ctx.stats`) and answers to
 * `flush`.
 */
export interface WriterStats {
  /**
   * Cumulative counts (the supervisor sums them over restarts): `batches`
   * written, `rows` written and `rows.<table>` per table, `duplicateBatches`
   * (ids the database had already), `rejected` rows and `rejected.<reason>`
   * per reason (`bad price`, `crossed book`, `bar high below open or
   * close`, …), `spooledBatches`, `spoolCorrupt` (records skipped),
   * `quarantinedBatches`, `lostBatches` (the spool could not take them),
   * `writeErrors`, `lateTrades` (trades after their bar was written);
   * in the writer actor's stats also `busPublished` and `busFailed`
   * (fan-out entries and keys written, and not writable).
   */
  counters: Record<string, number>;
  /** `up`, `down` (failing: batches go to the spool) or `connecting`. */
  db: "up" | "down" | "connecting";
  /** Rows in the in-memory queue. */
  queueRows: number;
  /** Rows received and not yet formed into a batch. */
  pendingRows: number;
  /** Bytes in the spool not drained yet. */
  spoolBytes: number;
  /** Duration of the last batch write, ms; null before any. */
  writeMsLast: number | null;
  /** Mean duration of the batch writes, ms; null before any. */
  writeMsAvg: number | null;
  /**
   * Event time from the clock of the newest committed batch to the newest
   * clock received, ms (0 when everything received is written).
   */
  lagMs: number;
  /** The watermark over the inputs' event clocks, ms since epoch; null before any. */
  watermark: number | null;
  /** Connection actors feeding the writer. */
  inputs: number;
  /** The fan-out bus (actor stats only): `up`, or `down` while Redis is unreachable. */
  bus?: "up" | "down";
}

/** Params of the writer's `flush` request. */
export interface FlushParams {
  /**
   * How long to wait for the writes, ms.
   * @default 30000
   */
  timeoutMs?: number;
}

/**
 * Codes the writer's handlers throw as `RequestError`s: `timeout` — `flush`
 * did not see everything written in time (the database failing, say;
 * nothing is lost: it waits in the queue or the spool); `no_database` — a
 * history query arrived before the database was open (HTTP 503, retry).
 */
export type WriterErrorCode = "timeout" | "no_database";

/**
 * The writer's own requests; it also answers the history queries
 * (`HistoryRequests` in `actors/store/queries.ts`) on the database it owns.
 */
export type WriterRequests = {
  /**
   * Writes everything received so far and answers when it is stored.
   * Throws `timeout` ({@link WriterErrorCode}).
   */
  flush: { params: FlushParams; result: WriterStats };
};

/** Every request coby's supervisor routes: the union of the actors' maps. */
export type CobyRequests =
  & ConnectionRequests
  & AggregatorRequests
  & WriterRequests;
