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
import type { Column, ColumnBatch } from "./heatmap.ts";

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

/**
 * What a replay session plays, as `POST /api/v1/replay` takes it (times in
 * ms since the Unix epoch, event time).
 */
export interface ReplaySpec {
  /**
   * `files`: capture files (cryptofeed's raw format, tardis.dev's raw format
   * `<ISO timestamp> <message>` per line, coby's own recordings; gzip or not);
   * `store`: a time range of the history store.
   */
  source: "files" | "store";
  /** Capture file paths (`files` only). */
  files?: string[];
  /**
   * Exchange ids to replay; default every exchange of the files (required
   * for `store`).
   */
  exchanges?: string[];
  /**
   * Symbols: the venue's names (`BTCUSDT`) or selectors (`BTC-USDT`); default
   * every symbol the files followed (required for `store`).
   */
  symbols?: string[];
  /** Start of the range; default the source's first event. */
  from?: number;
  /** End of the range (exclusive); default the source's last event. */
  to?: number;
  /**
   * A multiple of real time, 0.1 to 1000, or `max` (as fast as the events
   * can be applied).
   */
  speed: number | "max";
  /**
   * At the end, start again from `from` (default false: the session ends,
   * says so and stays ended).
   */
  loop?: boolean;
  /** Created paused (default false: it plays at once). */
  paused?: boolean;
  /**
   * Import: the session's events and columns also go to the store (the
   * writer). Only `deno task replay` sets it; such a session cannot seek.
   */
  store?: boolean;
  /** Also send every applied event as NDJSON on the `events` output channel. */
  emitEvents?: boolean;
}

/** A replay session's lifecycle state. */
export type ReplayState =
  | "loading"
  | "playing"
  | "paused"
  | "ended"
  | "stopped"
  | "failed";

/** A replay session's state and progress (`GET /api/v1/replay/{id}`, SSE `progress`). */
export interface ReplayProgress {
  /** Session id. */
  id: string;
  /** Lifecycle state; `ended` is final unless the session loops. */
  state: ReplayState;
  /** The speed in force. */
  speed: number | "max";
  /** Whether it restarts at the end. */
  loop: boolean;
  /** Start of the range, event time ms. */
  from: number;
  /** End of the range (exclusive), event time ms. */
  to: number;
  /** Event time reached: every event before it has been applied, ms. */
  position: number;
  /** `(position − from) / (to − from)` as a percentage, 0–100. */
  percent: number;
  /** Events (book changes, trades, liquidations) applied in total. */
  events: number;
  /** Events applied per second of wall time, over the last second or so. */
  eventsPerSecond: number;
  /**
   * When the session should reach its end at this speed, wall-clock ms
   * since the epoch; null while paused, loading or ended.
   */
  expectedEnd: number | null;
  /** Exchange ids replayed. */
  exchanges: string[];
  /** Why it failed (state `failed`). */
  error?: string;
}

/** A change to a running session (`PATCH /api/v1/replay/{id}`); fields apply in this order. */
export interface ReplayControl {
  /** New speed, 0.1 to 1000, or `max`. */
  speed?: number | "max";
  /**
   * Jump to this event time (ms, within the range): books are rebuilt
   * exactly at it and columns resume from it.
   */
  seek?: number;
  /** `pause` holds the stream; `resume` continues from the same event. */
  action?: "pause" | "resume";
  /** Turn looping on or off. */
  loop?: boolean;
}

/** One book of a session's dump: best prices first. */
export interface DumpBook {
  /** Sync state, `synced` when the book is exact. */
  state: string;
  /** `[price, size]` levels, best (highest) first. */
  bids: [number, number][];
  /** `[price, size]` levels, best (lowest) first. */
  asks: [number, number][];
  /** The venue's sequence number of the last applied update. */
  lastSequence: number;
}

/** Books and counters of a replay (the `--dump` JSON). */
export interface ReplayDump {
  /** Exchange id → exchange symbol → its book. */
  books: Record<string, Record<string, DumpBook>>;
  /** Exchange id → its counters (frames, gaps, resyncs, checksum failures, …), summed. */
  stats: Record<string, Record<string, number>>;
}

/**
 * What the replay actor sends on its `session` output channel; the main
 * thread routes it to the session's heatmap hub and SSE streams.
 * - `columns`: a closed tick's per-exchange and consolidated columns
 *   (`ColumnBatch`, its buffer transferred);
 * - `progress`: about every 250 ms of wall time while it plays, and on every
 *   change of state;
 * - `reset`: after a seek; columns restart at `at`, the ones before are void;
 * - `end`: once, when the session reached the end of its range (it then
 *   stays `ended`, unless it loops: then a `reset` follows).
 */
export type ReplayOutput =
  | { id: string; kind: "columns"; batch: ColumnBatch }
  | { id: string; kind: "progress"; progress: ReplayProgress }
  | { id: string; kind: "reset"; at: number }
  | { id: string; kind: "end"; progress: ReplayProgress };

/**
 * Codes the replay actor's handlers throw as `RequestError`s:
 * `not_found` — no such session; `bad_request` — a spec or change that
 * cannot apply (unreadable files, a seek outside the range, a seek of an
 * importing session); `too_many_sessions` — the actor's session limit.
 */
export type ReplayErrorCode = "not_found" | "bad_request" | "too_many_sessions";

/** The replay actor's requests. */
export type ReplayRequests = {
  /** Starts a session under `id` (the caller's). Throws {@link ReplayErrorCode}. */
  replayCreate: {
    params: { id: string; spec: ReplaySpec };
    result: ReplayProgress;
  };
  /** Changes a session: speed, seek, pause/resume, loop. */
  replayControl: {
    params: { id: string; control: ReplayControl };
    result: ReplayProgress;
  };
  /** A session's state and progress. */
  replayProgress: { params: { id: string }; result: ReplayProgress };
  /** Stops a session and forgets it. */
  replayStop: { params: { id: string }; result: ReplayProgress };
  /** A session's books (top `depth` levels) and counters. */
  replayBooks: { params: { id: string; depth?: number }; result: ReplayDump };
};

/** Every request coby's supervisor routes: the union of the actors' maps. */
export type CobyRequests =
  & ConnectionRequests
  & AggregatorRequests
  & WriterRequests
  & ReplayRequests;
