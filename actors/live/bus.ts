/**
 * The fan-out bus between coby's producers (the writer actor) and its
 * readers (the HTTP layer of this process, or of a `deno task serve`
 * process on another host): append-only streams capped at about a length,
 * and keys holding the latest state.
 *
 * Two implementations with one contract:
 * - {@link RedisBus} (`REDIS_URL`): Redis Streams (`XADD … MAXLEN ~`) and
 *   plain keys, shared by every process on the same Redis;
 * - {@link LocalBus} (no Redis): BroadcastChannel between the workers and the
 *   main thread of one process, and an in-process map for keys.
 *
 * Stream and key names are coby's (see {@link STREAMS}), under a prefix
 * (`coby:` by default) that keeps deployments and tests apart.
 *
 * @module
 */

/**
 * The streams coby publishes (names without the bus prefix). The writer
 * also keeps latest-value keys: `book:<exchange>:<symbol>` (JSON `BookView`,
 * top 50 levels a side), `bbo:<exchange>:<symbol>` (JSON `{ts, bid, ask,
 * mid}`), `bars:<exchange>:<symbol>` (JSON, the newest bar per frame
 * timeframe) and `column:<key>` (JSON, the newest consolidated column).
 */
export const STREAMS = {
  /** Every tick's column batch (`encodeBatch`, `actors/live/codec.ts`). */
  columns: "columns",
  /** Every connection's event batch (`encodeBatch`): the normalized events. */
  events: "events",
  /** The closed 1 s bars of each write, as a JSON array of `Bar`. */
  bars: "bars",
  /** Each feed health event, as JSON `HealthEvent`. */
  health: "health",
} as const;

/** What a bus has done, for metrics and logs (cumulative counts). */
export interface BusStats {
  /** Entries and keys written. */
  published: number;
  /** Entries and keys that could not be written (the bus was down). */
  failed: number;
  /** Entries delivered to followers. */
  delivered: number;
  /** True while the bus is connected (always true for a local bus). */
  up: boolean;
}

/** Options of {@link Bus.follow}. */
export interface FollowOptions {
  /**
   * Deliver up to this many of the newest entries already in the stream
   * first, oldest first (a local bus keeps none: nothing is delivered).
   * @default 0
   */
  backfill?: number;
}

/** A fan-out bus: capped streams and latest-value keys. */
export interface Bus {
  /** `redis` or `local`. */
  readonly kind: "redis" | "local";
  /**
   * Appends an entry to a stream, keeping about `maxLen` newest entries.
   * Never blocks or throws: writes are pipelined, and a write the bus
   * cannot make is counted in {@link BusStats.failed} and logged, so a
   * fan-out outage never stops storage.
   * @param stream stream name (see {@link STREAMS}).
   * @param data the entry; a string is sent as its UTF-8 bytes.
   * @param maxLen entries kept, about (Redis trims whole macro nodes).
   */
  publish(stream: string, data: Uint8Array | string, maxLen: number): void;
  /**
   * Sets a key to its latest value (same failure handling as `publish`).
   * @param key key name.
   * @param value the value.
   */
  set(key: string, value: string): void;
  /**
   * Reads a key.
   * @param key key name.
   * @returns its latest value, or null when absent.
   * @throws {Error} when the bus is down.
   */
  get(key: string): Promise<string | null>;
  /**
   * Follows a stream: the backfill first, then each new entry in order.
   * Survives reconnects, resuming after the last entry delivered.
   * @param stream stream name.
   * @param onEntry receives each entry's bytes (never modify).
   * @param options backfill.
   * @returns a function that stops following.
   */
  follow(
    stream: string,
    onEntry: (data: Uint8Array) => void,
    options?: FollowOptions,
  ): () => void;
  /** Counters. */
  stats(): BusStats;
  /**
   * Writes what is pending (up to a short timeout), stops every follower
   * and closes the connection. Closing twice is harmless.
   */
  close(): Promise<void>;
}
