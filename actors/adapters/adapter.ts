/**
 * The contract every exchange adapter fulfils. Adapters are pure: frames in,
 * normalized events out. They open no sockets, fetch nothing, set no timers and
 * never read the clock; the receive time is passed in. Connection handling
 * lives in `actors/connection.ts`.
 *
 * @module
 */

import type {
  BookSnapshot,
  Instrument,
  MarketEvent,
} from "../../runtime/events.ts";
import type { SyncRule } from "../../runtime/book_sync.ts";

/** Thrown by a parser for a frame it cannot read; the frame is counted as malformed. */
export class MalformedFrameError extends Error {
  /** @param message what is wrong, naming the bad value. */
  constructor(message: string) {
    super(message);
    this.name = "MalformedFrameError";
  }
}

/** Instruments of one venue keyed by exchange symbol. */
export type InstrumentTable = ReadonlyMap<string, Instrument>;

/** A per-connection frame parser; may keep channel state, never does I/O. */
export interface Parser {
  /**
   * Parses one received frame.
   * @param frame the frame's text.
   * @param recvTs local receive time, ms since epoch.
   * @returns normalized events, empty for acks, heartbeats and unfollowed channels.
   * @throws {MalformedFrameError} when the frame cannot be read.
   */
  parse(frame: string, recvTs: number): MarketEvent[];
}

/** What one venue looks like to coby. */
export interface Adapter {
  /** Exchange id, e.g. `binance`. */
  readonly id: string;
  /** Official API documentation the adapter follows. */
  readonly docs: string;
  /** REST origin, e.g. `https://api.binance.com`. */
  readonly restOrigin: string;
  /** URLs of the REST instrument metadata, fetched before connecting. */
  readonly metadataUrls: readonly string[];
  /**
   * Reads instruments from the metadata responses.
   * @param bodies response bodies, in `metadataUrls` order.
   * @throws {MalformedFrameError} when a body cannot be read.
   */
  instruments(bodies: readonly string[]): Instrument[];
  /** WebSocket URL for following `symbols` (exchange symbols). */
  url(symbols: readonly string[]): string;
  /** Frames to send after the socket opens. */
  subscribe(symbols: readonly string[]): string[];
  /** Reconnect before the venue drops a connection of this age, ms. */
  readonly maxConnectionAgeMs?: number;
  /** A new frame parser for one connection. */
  parser(instruments: InstrumentTable): Parser;
  /** How the venue's books are synchronised. */
  readonly book: {
    readonly sync: SyncRule;
    /** REST snapshot URL for an exchange symbol. */
    snapshotUrl(symbol: string): string;
    /**
     * Reads a REST snapshot.
     * @throws {MalformedFrameError} when the body cannot be read.
     */
    parseSnapshot(
      body: string,
      recvTs: number,
      instrument: Instrument,
    ): BookSnapshot;
  };
}
