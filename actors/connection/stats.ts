/**
 * What a connection actor reports about itself: its cumulative counters, the
 * state of its socket, its message rate and the venue's last error, and the
 * sync state of each book. Pure: every time is passed in.
 *
 * @module
 */

import {
  LatencyHistogram,
  type LatencySnapshot,
} from "../../runtime/latency.ts";

/**
 * Why a book was resynced: a sequence `gap`, a `checksum` mismatch, a
 * `crossed` book, a `stale` REST snapshot (one that did not align with the
 * buffered deltas, fetched again), a connection-wide break resynced by
 * `reconnect` (the parser's `ResyncError`), or
 * `other` (a malformed book frame).
 */
export type ResyncCause =
  | "gap"
  | "checksum"
  | "crossed"
  | "stale"
  | "reconnect"
  | "other";

/** Every {@link ResyncCause}, in the order `/metrics` lists them. */
export const RESYNC_CAUSES: readonly ResyncCause[] = [
  "gap",
  "checksum",
  "crossed",
  "stale",
  "reconnect",
  "other",
];

/**
 * Why a frame could not be read: `syntax` (it could not be decoded: not
 * JSON, `FrameSyntaxError` or a `SyntaxError`), `invalid` (decoded, but a
 * field is missing or bad: `MalformedFrameError`), `other` (any other
 * error).
 */
export type MalformedReason = "syntax" | "invalid" | "other";

/** Every {@link MalformedReason}, in the order `/metrics` lists them. */
export const MALFORMED_REASONS: readonly MalformedReason[] = [
  "syntax",
  "invalid",
  "other",
];

/**
 * Counters a connection actor publishes; summed across restarts by the
 * supervisor. `resyncs` counts every resync, and `resyncs.<cause>` each
 * {@link ResyncCause} (see {@link countResync}); `malformed` every
 * unreadable frame and `malformed.<reason>` each {@link MalformedReason}.
 * The flat dotted keys are what the supervisor sums across restarts.
 */
export interface ConnectionCounters {
  /** Resyncs of one cause; absent until the first. */
  [cause: `resyncs.${string}`]: number;
  /** Malformed frames of one reason; absent until the first. */
  [reason: `malformed.${string}`]: number;
  /** Frames received, heartbeats included. */
  frames: number;
  /** Heartbeat frames received (not counted as life by the watchdog). */
  heartbeats: number;
  /** Book snapshots and deltas applied. */
  bookUpdates: number;
  /** Trades received. */
  trades: number;
  /** Liquidations received. */
  liquidations: number;
  /** Sequence gaps detected. */
  gaps: number;
  /** Book resyncs, whatever their cause. */
  resyncs: number;
  /** Books whose checksum did not match the venue's (each resynced). */
  checksumFailures: number;
  /** Books found crossed after an update (each resynced). */
  crossedBooks: number;
  /** Frames that could not be read. */
  malformed: number;
  /** Errors the venue reported (a rejected subscription, say). */
  venueErrors: number;
  /** Sessions that ended and were opened again. */
  reconnects: number;
}

/**
 * A fresh set of counters, all zero.
 * @returns the counters.
 * @example
 * ```ts
 * const c = newCounters();
 * c.frames++;
 * ```
 */
export function newCounters(): ConnectionCounters {
  return {
    frames: 0,
    heartbeats: 0,
    bookUpdates: 0,
    trades: 0,
    liquidations: 0,
    gaps: 0,
    resyncs: 0,
    checksumFailures: 0,
    crossedBooks: 0,
    malformed: 0,
    venueErrors: 0,
    reconnects: 0,
  };
}

/**
 * Counts a resync and its cause.
 * @param c the counters, updated in place.
 * @param cause why.
 * @example
 * ```ts
 * countResync(counters, "gap"); // resyncs + 1, resyncs.gap + 1
 * ```
 */
export function countResync(c: ConnectionCounters, cause: ResyncCause): void {
  c.resyncs++;
  c[`resyncs.${cause}`] = (c[`resyncs.${cause}`] ?? 0) + 1;
}

/**
 * Counts a malformed frame and its reason.
 * @param c the counters, updated in place.
 * @param reason why it could not be read.
 * @example
 * ```ts
 * countMalformed(counters, "syntax"); // malformed + 1, malformed.syntax + 1
 * ```
 */
export function countMalformed(
  c: ConnectionCounters,
  reason: MalformedReason,
): void {
  c.malformed++;
  c[`malformed.${reason}`] = (c[`malformed.${reason}`] ?? 0) + 1;
}

/** State of a connection's socket. */
export type SocketState = "connecting" | "connected" | "disconnected";

/** An error the venue reported, as the health API shows it. */
export interface VenueErrorReport {
  /** The venue's message, verbatim. */
  readonly message: string;
  /** The exchange symbol it concerns, when the venue named one. */
  readonly symbol?: string;
  /** Local receive time of the frame, ms since epoch. */
  readonly ts: number;
}

/** Sync state of one book as the health API shows it. */
export interface BookHealth {
  /** `synced`, or `buffering` while waiting for a snapshot. */
  readonly state: string;
  /** The venue sequence of the last applied update; -1 before the first. */
  readonly lastSequence: number;
  /** Since when the book has been unsynced, ms since epoch; 0 while synced. */
  readonly unsyncedSince: number;
}

/** The stats a connection actor publishes to its supervisor. */
export interface ConnectionStats {
  /** Exchange id. */
  readonly exchange: string;
  /** State of the socket. */
  readonly connection: SocketState;
  /** Frames per second since the previous publish. */
  readonly messageRate: number;
  /** Local receive time of the last frame, ms since epoch; 0 before any. */
  readonly lastMessageTs: number;
  /**
   * Wall time of the last data frame (not a heartbeat), ms since epoch; 0
   * before any. `/metrics` shows the silence since it.
   */
  readonly lastDataTs: number;
  /**
   * Latency histograms, ms: `exchange_to_receive` (local receive time minus
   * the exchange's timestamp, per book update and trade that carries one)
   * and `receive_to_book` (from a frame's arrival to its book changes
   * applied, on this thread's monotonic clock).
   */
  readonly latency: {
    readonly exchange_to_receive: LatencySnapshot;
    readonly receive_to_book: LatencySnapshot;
  };
  /** Why the last session ended or failed; "" if none did. */
  readonly lastError: string;
  /** The venue's last reported error, or null. */
  readonly venueError: VenueErrorReport | null;
  /** The counters. */
  readonly counters: ConnectionCounters;
  /** Sync state per exchange symbol (empty on a bookless connection). */
  readonly books: Record<string, { state: string; lastSequence: number }>;
}

/** Health as the actor reports it to its supervisor. */
export interface HealthStatus {
  /** `running` when connected with every book syncing in time, else `degraded`. */
  readonly state: "running" | "degraded";
  /** e.g. `connected`, `connected: 1 book(s) cannot sync`, `disconnected: closed 1006`. */
  readonly detail: string;
}

/**
 * Tracks a connection's counters, socket state, rate and venue errors, and
 * renders them as stats and health.
 *
 * @example
 * ```ts
 * const s = new ConnectionStatsTracker("binance", 30_000, Date.now());
 * s.frame(Date.now(), false);
 * const stats = s.snapshot(Date.now(), new Map());
 * ```
 */
export class ConnectionStatsTracker {
  /** The counters, updated in place by the connection's parts. */
  readonly counters: ConnectionCounters = newCounters();
  /** Exchange timestamp → local receive, ms (see `ConnectionStats.latency`). */
  readonly exchangeToReceive: LatencyHistogram = new LatencyHistogram();
  /** Frame arrival → book changes applied, ms. */
  readonly receiveToBook: LatencyHistogram = new LatencyHistogram();
  readonly #exchange: string;
  readonly #syncTimeoutMs: number;
  #state: SocketState = "connecting";
  #lastMessageTs = 0;
  #lastDataTs = 0;
  #lastError = "";
  #venueError: VenueErrorReport | null = null;
  #mark: { frames: number; ts: number };

  /**
   * @param exchange exchange id.
   * @param syncTimeoutMs a book unsynced for longer makes the connection degraded.
   * @param now the time stats start, ms.
   */
  constructor(exchange: string, syncTimeoutMs: number, now: number) {
    this.#exchange = exchange;
    this.#syncTimeoutMs = syncTimeoutMs;
    this.#mark = { frames: 0, ts: now };
  }

  /** State of the socket. */
  get state(): SocketState {
    return this.#state;
  }

  /** Why the last session ended; "" if none did. */
  get lastError(): string {
    return this.#lastError;
  }

  /**
   * Counts a received frame.
   * @param recvTs local receive time, ms.
   * @param heartbeat true for a heartbeat frame.
   */
  frame(recvTs: number, heartbeat: boolean): void {
    this.counters.frames++;
    if (heartbeat) this.counters.heartbeats++;
    else this.#lastDataTs = recvTs;
    this.#lastMessageTs = recvTs;
  }

  /**
   * Records an error the venue reported.
   * @param report the venue's message, symbol and time.
   */
  venueError(report: VenueErrorReport): void {
    this.counters.venueErrors++;
    this.#venueError = report;
  }

  /**
   * Records a change of socket state.
   * @param state the new state.
   * @param why why it changed ("" when the session opened); kept as `lastError`
   * when not empty.
   * @returns the health to report.
   */
  setState(state: SocketState, why: string): HealthStatus {
    this.#state = state;
    if (why) this.#lastError = why;
    // A new session clears the venue's complaint about the last one.
    if (state === "connected") this.#venueError = null;
    return {
      state: state === "connected" ? "running" : "degraded",
      detail: why ? `${state}: ${why}` : state,
    };
  }

  /**
   * The health of a connected connection given its books; null when not
   * connected (the socket state was reported when it changed).
   * @param now current time, ms.
   * @param books sync state per exchange symbol.
   * @returns the health to report, or null.
   */
  health(
    now: number,
    books: ReadonlyMap<string, BookHealth>,
  ): HealthStatus | null {
    if (this.#state !== "connected") return null;
    let stuck = 0;
    for (const b of books.values()) {
      if (b.unsyncedSince && now - b.unsyncedSince > this.#syncTimeoutMs) {
        stuck++;
      }
    }
    if (this.#venueError) {
      return {
        state: "degraded",
        detail: `connected: venue error: ${this.#venueError.message}`,
      };
    }
    return stuck
      ? { state: "degraded", detail: `connected: ${stuck} book(s) cannot sync` }
      : { state: "running", detail: "connected" };
  }

  /**
   * The stats to publish; also starts the next message-rate period.
   * @param now current time, ms.
   * @param books sync state per exchange symbol.
   * @returns the stats.
   */
  snapshot(
    now: number,
    books: ReadonlyMap<string, BookHealth>,
  ): ConnectionStats {
    const dt = (now - this.#mark.ts) / 1000;
    const rate = dt > 0 ? (this.counters.frames - this.#mark.frames) / dt : 0;
    this.#mark = { frames: this.counters.frames, ts: now };
    const out: ConnectionStats["books"] = {};
    for (const [sym, b] of books) {
      out[sym] = { state: b.state, lastSequence: b.lastSequence };
    }
    return {
      exchange: this.#exchange,
      connection: this.#state,
      messageRate: Math.round(rate * 10) / 10,
      lastMessageTs: this.#lastMessageTs,
      lastDataTs: this.#lastDataTs,
      latency: {
        exchange_to_receive: this.exchangeToReceive.snapshot(),
        receive_to_book: this.receiveToBook.snapshot(),
      },
      lastError: this.#lastError,
      venueError: this.#venueError,
      counters: { ...this.counters },
      books: out,
    };
  }
}
