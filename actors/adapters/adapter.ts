/**
 * The contract every exchange adapter fulfils. Adapters are pure: frames in,
 * normalized events out. They open no sockets, fetch nothing, set no timers and
 * never read the clock; the receive time is passed in. Connection handling
 * lives in `actors/connection/`.
 *
 * @module
 */

import type { LevelColumns, OrderBook } from "../market/book.ts";
import type { SyncRule } from "../market/book_sync.ts";
import type {
  BookSnapshot,
  Instrument,
  MarketEvent,
} from "../market/events.ts";

/**
 * Thrown by a parser for a frame it cannot read; the frame is counted as
 * malformed with its reason. When the frame was a book update of a known
 * symbol, `symbol` names it: that book has lost an update, so the
 * connection takes it out of sync and realigns it.
 */
export class MalformedFrameError extends Error {
  /**
   * @param message what is wrong, naming the bad value.
   * @param symbol the exchange symbol whose book update the frame was, when known.
   */
  constructor(message: string, readonly symbol?: string) {
    super(message);
    this.name = "MalformedFrameError";
  }
}

/**
 * A {@link MalformedFrameError} for a frame that cannot be decoded at all
 * (not JSON), as opposed to one read whose values are missing or bad; the
 * connection counts the two as different reasons (`syntax`, `invalid`).
 */
export class FrameSyntaxError extends MalformedFrameError {
  /**
   * @param message what could not be decoded, quoting the start of it.
   * @param symbol the exchange symbol, when known.
   */
  constructor(message: string, symbol?: string) {
    super(message, symbol);
    this.name = "FrameSyntaxError";
  }
}

/**
 * Thrown by a parser when the connection's stream is no longer trustworthy
 * (a connection-wide sequence gap, a venue error that voids the books): the
 * connection actor counts a gap and reconnects, which resyncs every book.
 */
export class ResyncError extends Error {
  /** @param message the reason, naming the bad value. */
  constructor(message: string) {
    super(message);
    this.name = "ResyncError";
  }
}

/**
 * Thrown by a parser for a frame in which the venue reports an error of its
 * own (a rejected subscription: Kraken's `subscriptionStatus` with
 * `status: "error"`, Bybit's `success: false`, OKX's `event: "error"`). The
 * connection counts it and shows the venue's message at once in
 * `/api/v1/exchanges` instead of waiting for the sync timeout.
 */
export class VenueError extends Error {
  /**
   * @param message the venue's own message, verbatim where it has one.
   * @param symbol the exchange symbol the error concerns, when the venue names one.
   */
  constructor(message: string, readonly symbol?: string) {
    super(message);
    this.name = "VenueError";
  }
}

/** Instruments of one venue keyed by exchange symbol. */
export type InstrumentTable = ReadonlyMap<string, Instrument>;

/** A per-connection frame parser; may keep channel state, never does I/O. */
export interface Parser {
  /**
   * Parses one received frame.
   * @param frame the frame: text, or bytes for binary frames (gzip, protobuf).
   * @param recvTs local receive time, ms since epoch.
   * @returns normalized events, empty for acks, heartbeats and unfollowed channels.
   * @throws {MalformedFrameError} when the frame cannot be read.
   * @throws {ResyncError} when the whole connection must resync.
   * @throws {VenueError} when the frame is the venue's report of an error.
   */
  parse(frame: string | Uint8Array, recvTs: number): MarketEvent[];
  /**
   * Reads a book delta frame straight into typed arrays, without building
   * the event (the venue's frame scanner): the fast path the book keeper
   * tries before {@link Parser.parse}. It recognises only the frames whose
   * `parse` gives exactly one `book_delta` (or, for a venue that pushes
   * whole images, one `book_snapshot`: `image` true), and gives what that
   * event holds: the same instrument, times, sequence fields, checksum,
   * prices, sizes in base currency and level strings. Anything else (other
   * snapshots, trades, acks, frames with a level `parse` would refuse) is
   * null, and the frame goes to `parse`, which classifies it. It changes no
   * parser state, so a frame it read may still be handed to `parse` (a
   * parser may keep that frame's decoding, e.g. HTX's inflated text, for
   * the `parse` of the same frame that follows).
   * @param frame the frame as received.
   * @param recvTs local receive time, ms since epoch.
   * @returns the delta, valid until the next call (its arrays are
   *   reused), or null.
   * @throws {never} does not throw; anything it cannot read is null.
   */
  scanBook?(frame: string | Uint8Array, recvTs: number): ColumnarDelta | null;
  /**
   * Frames the parser wants sent in reply (e.g. HTX `{"pong": ts}` for a
   * server ping). The connection sends and empties it after every parse.
   */
  readonly outbox?: string[];
}

/**
 * A book delta as a venue scanner read it: the fields of the `book_delta`
 * event `Parser.parse` would give, with each side's levels as columns.
 * Reused by the parser from frame to frame.
 */
export interface ColumnarDelta {
  /** The instrument (from the parser's table). */
  inst: Instrument;
  /** Venue event time, ms since epoch (as the event's `exchangeTs`). */
  exchangeTs: number;
  /** Local receive time, ms since epoch. */
  localTs: number;
  /**
   * True when `bids` and `asks` are the venue's whole book, an image (as
   * HTX `depth.step0` pushes), which replaces the book's levels; the parse
   * path gives it as a `book_snapshot` whose `sequence` is `last` (`first`
   * and `prev` are then -1). False for changes.
   */
  image: boolean;
  /** First venue update id covered (see `BookDelta`). */
  first: number;
  /** Last venue update id covered. */
  last: number;
  /** The previous update's `last` where the venue sends it, otherwise -1. */
  prev: number;
  /** The venue's checksum of the book after this delta, when it sends one. */
  checksum: number | undefined;
  /** Bid levels: prices in quote currency, sizes in base, venue order. */
  bids: LevelColumns;
  /** Ask levels, as `bids`. */
  asks: LevelColumns;
}

/**
 * A {@link ColumnarDelta} for a parser to reuse over its scanner's two
 * sides; `inst` and the header fields are set for each frame it returns.
 * @param bids the bid levels' columns, as the scanner fills them.
 * @param asks the ask levels' columns.
 * @returns the delta, with a placeholder instrument until the first frame.
 */
export function reusedDelta(
  bids: LevelColumns,
  asks: LevelColumns,
): ColumnarDelta {
  return {
    inst: undefined as unknown as Instrument, // set before it is returned
    exchangeTs: 0,
    localTs: 0,
    image: false,
    first: 0,
    last: 0,
    prev: -1,
    checksum: undefined,
    bids,
    asks,
  };
}

/** What one venue looks like to coby. */
export interface Adapter {
  /** Exchange id, e.g. `binance`. */
  readonly id: string;
  /** Official API documentation the adapter follows. */
  readonly docs: string;
  /**
   * For a retired API version: the last day it was served, ms since epoch.
   * Absent on the current version. See `adapterFor`.
   */
  readonly until?: number;
  /**
   * Whether a recorded WebSocket connection speaks this API version, judged
   * from what the client asked for: the URL it opened (host, path) and the
   * frames it sent (channel or topic names). Set on venues whose versions
   * coexisted, so a replay picks the version its recording speaks, not the
   * one in force at its date (see `adapterForRecording`). Absent: the
   * recording cannot tell the versions apart and the date decides.
   * @param url the WebSocket URL as recorded.
   * @param sent the text frames the client sent on that URL, in order.
   * @returns true when this version speaks the connection.
   */
  speaks?(url: string, sent: readonly string[]): boolean;
  /** REST origin, e.g. `https://api.binance.com`. */
  readonly restOrigin: string;
  /** URLs of the REST instrument metadata, fetched before connecting. */
  readonly metadataUrls: readonly string[];
  /**
   * JSON bodies to POST to `metadataUrls`, index for index, for venues whose
   * metadata is POST-only (Hyperliquid `/info {"type":"meta"}`); a missing or
   * null entry means a plain GET. Absent: every metadata URL is a GET.
   */
  readonly metadataBodies?: readonly (string | null)[];
  /**
   * Reads instruments from the metadata responses.
   * @param bodies response bodies, in `metadataUrls` order.
   * @throws {MalformedFrameError} when a body cannot be read.
   */
  instruments(bodies: readonly string[]): Instrument[];
  /**
   * WebSocket URL for following `symbols` (exchange symbols) on connection
   * `group` (see `connectionGroup`; `""` by default). When the venue hands
   * out its endpoint over REST (`connect`), `endpoint` is that response's body.
   */
  url(symbols: readonly string[], endpoint?: string, group?: string): string;
  /**
   * A REST call made before every connection whose body names the WebSocket
   * endpoint (KuCoin's bullet token).
   */
  readonly connect?: { readonly method: "GET" | "POST"; readonly url: string };
  /**
   * Whether a received frame is only a heartbeat (Kraken `heartbeat`,
   * Bitfinex `[chanId, "hb"]`, Coinbase `heartbeats`, HTX `ping`). The
   * silence watchdog counts only other frames as life, so a feed that sends
   * nothing but heartbeats is found stale and reconnected. A cheap test on
   * the raw frame: it runs before parsing, on every frame.
   * @param frame the frame as received: text, or bytes for binary frames.
   * @returns true for a heartbeat frame.
   */
  isHeartbeat(frame: string | Uint8Array): boolean;
  /** Frames to send after the socket opens on connection `group`. */
  subscribe(symbols: readonly string[], group?: string): string[];
  /** An application-level ping the venue needs, and its period in ms. */
  readonly keepalive?: { readonly frame: string; readonly intervalMs: number };
  /**
   * Most symbols one connection may follow (the venue's subscription or
   * stream limit per connection); more are spread over further connections.
   * Absent: no limit.
   */
  readonly maxSymbolsPerConnection?: number;
  /** Reconnect before the venue drops a connection of this age, ms. */
  readonly maxConnectionAgeMs?: number;
  /**
   * Which connections a configured symbol belongs to, for venues that serve
   * symbols on different endpoints (HTX coin- vs USDT-margined swaps), or one
   * symbol's data on several (HTX liquidations come from a notification
   * endpoint). One connection actor runs per group. Absent: one connection
   * for all.
   */
  connectionGroup?(symbol: string): string | readonly string[];
  /**
   * Groups that carry no books (only trades or liquidations): their
   * connections keep no book state and report none.
   */
  readonly booklessGroups?: readonly string[];
  /** A new frame parser for one connection. */
  parser(instruments: InstrumentTable): Parser;
  /** How the venue's books are synchronised. */
  readonly book: BookSpec;
}

/** How a venue's books are synchronised and checked. */
export interface BookSpec {
  readonly sync: SyncRule;
  /** REST snapshot URL for an exchange symbol (`rest` sync only). */
  snapshotUrl?(symbol: string): string;
  /**
   * Reads a REST snapshot (`rest` sync only).
   * @throws {MalformedFrameError} when the body cannot be read.
   */
  parseSnapshot?(
    body: string,
    recvTs: number,
    instrument: Instrument,
  ): BookSnapshot;
  /**
   * Frames that ask for a snapshot over the socket instead of REST (HTX
   * `req` for `mbp` books; `rest` sync). The reply arrives as a
   * `book_snapshot` event and aligns with the buffered deltas.
   */
  requestSnapshot?(symbol: string): string[];
  /**
   * The venue's checksum of a book, compared with the `checksum` that
   * snapshots and deltas carry. The book keeps the venue's level strings.
   */
  checksum?(book: OrderBook): number;
  /**
   * Levels per side the venue keeps each book at (the subscribed depth), for
   * venues that send no delete for a level pushed out of scope by an insert
   * (Kraken `book` depth 1000: "after each update, truncate your book to the
   * subscribed depth"). The connection drops the levels past it after every
   * applied snapshot or delta. Absent: books are unbounded.
   */
  readonly maxDepth?: number;
  /**
   * Frames that make the venue send a fresh in-stream snapshot of one symbol
   * (unsubscribe + subscribe). Absent: a resync reconnects.
   */
  resubscribe?(symbol: string): string[];
}
