/**
 * The Redis {@link Bus}: streams are Redis Streams (`XADD … MAXLEN ~`, read
 * with `XREVRANGE` and `XREAD BLOCK`), keys are plain strings, every name
 * under a prefix. One connection carries the writes and reads of keys; each
 * follower has a connection of its own, so its blocking reads never hold up
 * a publish.
 *
 * Around node-redis 6.3.1 under Deno (checked against its source):
 * - Commands issued in one tick are written to the socket together (a
 *   `setImmediate` flush): `publish` issues its `XADD` without waiting, so a
 *   burst of publishes goes out as one pipeline.
 * - Commands issued while disconnected are queued without bound and sent
 *   after the reconnect, unless `disableOfflineQueue`: then they reject at
 *   once. The writing connection disables it (an outage costs counted
 *   failures, not memory); a follower's keeps it, so its next read simply
 *   waits for the reconnect.
 * - Every command has a 5 s timeout by default (`commandOptions.timeout`):
 *   `XREAD BLOCK` must block for less.
 * - An `error` event without a listener throws (EventEmitter), which would
 *   end the process on the first outage: every connection gets a listener.
 *   `createClient` returns an object inheriting from the client (its
 *   EventEmitter state included): removing its last listener gives the
 *   object event state of its own, deaf to the client's events from then on
 *   (see `openRedisBus`).
 * - The reconnect strategy decides for the first connection too, and the
 *   default one gives up on a socket timeout.
 * - The RESP encoder takes strings and `Buffer`s only, not a plain
 *   `Uint8Array`. Replies hold strings unless a type mapping says otherwise:
 *   stream reads map blob strings to `Buffer` (binary-safe) and RESP3 maps
 *   to arrays.
 *
 * @module
 */

import { createClient, RESP_TYPES } from "redis";
import { Buffer } from "node:buffer";
import type { Bus, BusStats, FollowOptions } from "./bus.ts";
import { processLog } from "../../runtime/log.ts";

/** A node-redis client as {@link openRedisBus} makes it. */
export type RedisClient = ReturnType<typeof createClient>;

/** A log sink: level and one-line message. */
export type BusLog = (
  level: "debug" | "info" | "warn" | "error",
  msg: string,
) => void;

/** Options of {@link openRedisBus} and {@link RedisBus}. */
export interface RedisBusOptions {
  /**
   * Prepended to every stream and key name.
   * @default "coby:"
   */
  prefix?: string;
  /**
   * Where outages, recoveries and failing followers are reported.
   * @default the process's logger (`runtime/log.ts`), as actor `bus`
   */
  log?: BusLog;
}

/** Milliseconds the first connection may take before {@link openRedisBus} gives up. */
const CONNECT_TIMEOUT_MS = 3000;
/** Reconnect delays double from 50 ms up to this (plus up to 200 ms of jitter). */
const BACKOFF_CAP_MS = 2000;
/** Milliseconds an `XREAD` blocks (under node-redis's 5 s command timeout). */
const BLOCK_MS = 2000;
/**
 * Milliseconds of silence after which a follower's connection is taken for
 * dead and reconnected: its `XREAD` answers at least every {@link BLOCK_MS}.
 */
const FOLLOW_SILENCE_MS = BLOCK_MS + 3000;
/** Milliseconds before a follower retries a read that failed while connected. */
const RETRY_MS = 1000;
/** Milliseconds {@link RedisBus.close} waits for pending writes. */
const CLOSE_TIMEOUT_MS = 2000;

/** Stream reads: binary-safe values, RESP3 maps as `[key, value, …]`. */
const BINARY = {
  [RESP_TYPES.BLOB_STRING]: Buffer,
  [RESP_TYPES.MAP]: Array,
} as const;

/** A stream entry as read with {@link BINARY}: id and `[field, value, …]`. */
type Entry = [id: Buffer, fields: Buffer[]];

/** The field each entry's bytes are stored under. */
const FIELD = "d";
const FIELD_BYTE = FIELD.charCodeAt(0);

/**
 * Redis reconnect delay: capped exponential backoff with jitter.
 * @param retries reconnect attempts so far.
 * @returns milliseconds to wait.
 */
export function redisBackoff(retries: number): number {
  return Math.min(50 * 2 ** retries, BACKOFF_CAP_MS) +
    Math.floor(Math.random() * 200);
}

/**
 * An error's message, or what names it when the message is empty (its
 * `code`, else its name); an `AggregateError`'s errors joined by `; `.
 * @param err what was thrown.
 * @returns one line for a log or an error message.
 */
export function errorReason(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map(errorReason).join("; ");
  }
  if (err instanceof Error) {
    return err.message || (err as { code?: string }).code || err.name;
  }
  return String(err);
}

/** The URL with its password masked, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = "***";
    return u.href;
  } catch {
    return url;
  }
}

/** The `d` field's bytes of an entry, as a plain `Uint8Array` view. */
function entryData(entry: Entry): Uint8Array | undefined {
  const fields = entry[1];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    if (name.length === 1 && name[0] === FIELD_BYTE) {
      const v = fields[i + 1];
      // A view, not the Buffer: Buffer#slice shares memory where
      // Uint8Array#slice copies, a trap for whoever keeps the bytes.
      return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    }
  }
  return undefined;
}

/** What a {@link Follower} needs of its bus. */
interface FollowerHooks {
  /** Counts an entry delivered. */
  readonly delivered: () => void;
  readonly log: BusLog;
  /** Called once, when stopped. */
  readonly stopped: (f: Follower) => void;
}

/**
 * One `follow`: reads the stream's head (the backfill, or just the last id)
 * then `XREAD`s after the last entry delivered, on a connection of its own,
 * until stopped.
 */
class Follower {
  readonly #stream: string;
  readonly #key: string;
  readonly #backfill: number;
  readonly #onEntry: (data: Uint8Array) => void;
  readonly #hooks: FollowerHooks;
  readonly #conn: RedisClient;
  /** The head read on the bus's connection; on failure, it is read again here. */
  #head: Promise<Entry[]> | undefined;
  /** The id to read after; undefined until the head is read. */
  #last: string | undefined;
  #stopped = false;
  /** Whether an interruption was logged and the recovery is not yet. */
  #failing = false;
  #threw = false;
  #wake = () => {};
  /** Settles when the loop has ended. */
  readonly done: Promise<void>;

  constructor(
    bus: RedisClient,
    stream: string,
    key: string,
    backfill: number,
    onEntry: (data: Uint8Array) => void,
    hooks: FollowerHooks,
  ) {
    this.#stream = stream;
    this.#key = key;
    this.#backfill = backfill;
    this.#onEntry = onEntry;
    this.#hooks = hooks;
    // Read now on the bus's connection, so ordered before every later
    // publish of the bus: none of them is missed.
    this.#head = bus.withTypeMapping(BINARY).sendCommand(
      this.#range(),
    ) as unknown as Promise<Entry[]>;
    this.#head.catch(() => {}); // Handled by the loop, maybe a tick later.
    this.#conn = bus.duplicate({
      // Commands wait for the reconnect instead of failing at once.
      disableOfflineQueue: false,
      commandOptions: { typeMapping: BINARY },
      socket: {
        reconnectStrategy: redisBackoff,
        // XREAD answers at least every BLOCK_MS: silence means a dead link.
        socketTimeout: FOLLOW_SILENCE_MS,
      },
    }) as unknown as RedisClient;
    this.#conn.on("error", () => {}); // Reported by the loop, once per outage.
    this.#conn.connect().catch(() => {}); // Rejects only when destroyed.
    this.done = this.#run();
  }

  /** Stops: no entry is delivered after this returns. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#wake();
    this.#conn.destroy(); // Rejects the read in flight.
    this.#hooks.stopped(this);
  }

  #range(): string[] {
    const count = String(Math.max(this.#backfill, 1));
    return ["XREVRANGE", this.#key, "+", "-", "COUNT", count];
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (this.#last === undefined) await this.#readHead();
        else await this.#readNext();
        if (this.#failing) {
          this.#failing = false;
          this.#hooks.log(
            "info",
            `Following ${this.#stream} again after ${this.#last}`,
          );
        }
      } catch (err) {
        this.#head = undefined;
        if (this.#stopped) break;
        if (!this.#failing) {
          this.#failing = true;
          this.#hooks.log(
            "warn",
            `Following ${this.#stream} interrupted (${
              errorReason(err)
            }); retrying`,
          );
        }
        // A pause, for errors that are not the connection's (the next read
        // would wait for a reconnect anyway).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RETRY_MS);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  /** Delivers the backfill, oldest first, and notes the last id. */
  async #readHead(): Promise<void> {
    const entries = await (this.#head ??
      this.#conn.sendCommand(this.#range()) as unknown as Promise<Entry[]>);
    // An empty stream: every entry to come is new.
    this.#last = entries.length > 0 ? entries[0][0].toString() : "0-0";
    for (let i = Math.min(this.#backfill, entries.length) - 1; i >= 0; i--) {
      this.#deliver(entries[i]);
    }
  }

  /** Waits up to BLOCK_MS for entries after the last, and delivers them. */
  async #readNext(): Promise<void> {
    const reply = await this.#conn.sendCommand([
      "XREAD",
      "BLOCK",
      String(BLOCK_MS),
      "STREAMS",
      this.#key,
      this.#last!,
    ]) as unknown as [key: Buffer, entries: Entry[]] | null;
    const entries = reply?.[1] ?? [];
    for (let i = 0; i < entries.length; i++) {
      this.#last = entries[i][0].toString();
      this.#deliver(entries[i]);
    }
  }

  #deliver(entry: Entry): void {
    const data = entryData(entry);
    if (data === undefined || this.#stopped) return;
    this.#hooks.delivered();
    try {
      this.#onEntry(data);
    } catch (err) {
      if (this.#threw) return;
      this.#threw = true;
      this.#hooks.log(
        "error",
        `Follower of ${this.#stream} threw (${
          errorReason(err)
        }); further throws not logged`,
      );
    }
  }
}

/**
 * The fan-out bus over Redis: capped Redis Streams and string keys, shared
 * by every process on the same Redis. Survives outages: writes made while
 * Redis is down are counted in `failed` (and logged once per outage),
 * followers resume after the last entry they delivered.
 *
 * @example Publish and follow
 * ```ts
 * import { openRedisBus } from "./redis.ts";
 * import { STREAMS } from "./bus.ts";
 *
 * const bus = await openRedisBus("redis://127.0.0.1:6379");
 * const stop = bus.follow(STREAMS.events, (data) => console.log(data.length));
 * bus.publish(STREAMS.events, '{"type":"trade"}\n', 10_000);
 * stop();
 * await bus.close();
 * ```
 */
export class RedisBus implements Bus {
  /** Always `redis`. */
  readonly kind = "redis";
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #log: BusLog;
  readonly #followers = new Set<Follower>();
  readonly #hooks: FollowerHooks = {
    delivered: () => this.#delivered++,
    log: (level, msg) => this.#log(level, msg),
    stopped: (f) => this.#followers.delete(f),
  };
  #published = 0;
  #failed = 0;
  #delivered = 0;
  /** Failed writes since the last one that succeeded, when not 0. */
  #failing = 0;
  /** Whether the connection's loss was logged and its return is not yet. */
  #down = false;
  #pending = 0;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Wraps a connected node-redis client; {@link openRedisBus} makes one. The
   * bus owns the client from now on: it listens to its events and closes it
   * in {@link close}. The client must not queue commands while offline
   * (`disableOfflineQueue: true`) and should reconnect forever.
   * @param client a connected client.
   * @param options name prefix and log.
   * @throws {TypeError} when the client is not connected.
   * @example
   * ```ts
   * import { createClient } from "redis";
   * const client = createClient({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true });
   * client.on("error", () => {});
   * const bus = new RedisBus(await client.connect(), { prefix: "demo:" });
   * ```
   */
  constructor(client: RedisClient, options: RedisBusOptions = {}) {
    if (!client.isOpen) {
      throw new TypeError(
        "RedisBus needs a connected client, got a closed one",
      );
    }
    this.#client = client;
    this.#prefix = options.prefix ?? "coby:";
    this.#log = options.log ??
      ((level, msg) => processLog().log(level, msg, { actor: "bus" }));
    client.on("error", (err) => {
      if (this.#down || this.#closing) return;
      this.#down = true;
      this.#log(
        "warn",
        `Redis connection lost (${errorReason(err)}); reconnecting`,
      );
    });
    client.on("ready", () => {
      if (!this.#down) return;
      this.#down = false;
      this.#log("info", "Redis connection back");
    });
  }

  /**
   * Appends `data` to stream `<prefix><stream>` as field `d`, keeping about
   * `maxLen` newest entries (`XADD key MAXLEN ~ maxLen * d data`). Returns
   * at once; the write goes out with the others of this tick. A failed
   * write (Redis down, a bad `maxLen`) is counted in `failed`, the first
   * of a run logged.
   * @param stream stream name (see `STREAMS`).
   * @param data the entry; a string is sent as its UTF-8 bytes. Copied.
   * @param maxLen entries kept, about (Redis trims whole macro nodes).
   * @example
   * ```ts
   * bus.publish("columns", new Uint8Array([0, 1, 2]), 1000);
   * ```
   */
  publish(stream: string, data: Uint8Array | string, maxLen: number): void {
    // A copy: the caller may reuse its array before the tick's flush.
    const bytes = typeof data === "string" ? data : Buffer.from(data);
    this.#write(
      [
        "XADD",
        this.#prefix + stream,
        "MAXLEN",
        "~",
        String(maxLen),
        "*",
        FIELD,
        bytes,
      ],
      `Publishing to ${stream}`,
    );
  }

  /**
   * Sets key `<prefix><key>` to `value` (`SET`), failing like
   * {@link publish}.
   * @param key key name.
   * @param value the value.
   * @example
   * ```ts
   * bus.set("live:BTC-USD", JSON.stringify({ bid: 1 }));
   * ```
   */
  set(key: string, value: string): void {
    this.#write(["SET", this.#prefix + key, value], `Setting ${key}`);
  }

  /**
   * Reads key `<prefix><key>` (`GET`).
   * @param key key name.
   * @returns its value, or null when absent.
   * @throws {Error} when Redis is down or the bus closed, naming the key.
   * @example
   * ```ts
   * const frame = await bus.get("live:BTC-USD");
   * ```
   */
  async get(key: string): Promise<string | null> {
    try {
      return await this.#client.get(this.#prefix + key);
    } catch (err) {
      throw new Error(`Cannot get ${key} from Redis: ${errorReason(err)}`, {
        cause: err,
      });
    }
  }

  /**
   * Follows stream `<prefix><stream>` on a connection of its own: the
   * newest `backfill` entries first, oldest first, then every later entry
   * in order, without gap or duplicate. The stream's position is read on
   * the writing connection before anything published after this call, so
   * no later publish of this bus is missed. Across an outage it reconnects
   * and resumes after the last entry delivered (entries trimmed meanwhile
   * are lost). An `onEntry` that throws is logged once and skipped over.
   * After {@link close}, nothing is followed.
   * @param stream stream name.
   * @param onEntry receives each entry's bytes (a view: never modify).
   * @param options backfill.
   * @returns a function that stops following: no entry is delivered after
   *   it returns, and the connection closes.
   * @example
   * ```ts
   * const stop = bus.follow("events", (d) => console.log(d.length), { backfill: 100 });
   * stop();
   * ```
   */
  follow(
    stream: string,
    onEntry: (data: Uint8Array) => void,
    options: FollowOptions = {},
  ): () => void {
    if (this.#closing) return () => {};
    const f = new Follower(
      this.#client,
      stream,
      this.#prefix + stream,
      options.backfill ?? 0,
      onEntry,
      this.#hooks,
    );
    this.#followers.add(f);
    return () => f.stop();
  }

  /**
   * The counters, and whether the writing connection is up now.
   * @returns a snapshot.
   * @example
   * ```ts
   * const { published, failed, up } = bus.stats();
   * ```
   */
  stats(): BusStats {
    return {
      published: this.#published,
      failed: this.#failed,
      delivered: this.#delivered,
      up: this.#client.isReady && this.#closing === undefined,
    };
  }

  /**
   * Stops every follower, waits up to 2 s for the pending writes (those
   * left are counted failed) and closes the connections. Closing twice is
   * harmless; writes after closing are counted failed.
   * @returns when closed.
   * @example
   * ```ts
   * await bus.close();
   * ```
   */
  close(): Promise<void> {
    return this.#closing ??= this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    const loops = [...this.#followers].map((f) => {
      f.stop();
      return f.done;
    });
    if (this.#pending > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      });
      clearTimeout(timer);
    }
    this.#client.destroy();
    await Promise.all(loops);
  }

  /** Sends a write without waiting, and counts how it went. */
  #write(args: Array<string | Buffer>, what: string): void {
    this.#pending++;
    this.#client.sendCommand(args).then(
      () => {
        this.#published++;
        if (this.#failing > 0) {
          this.#log(
            "info",
            `Bus writes succeed again after ${this.#failing} failed`,
          );
          this.#failing = 0;
        }
        this.#settled();
      },
      (err) => {
        this.#failed++;
        if (this.#failing++ === 0) {
          this.#log(
            "warn",
            `${what} failed (${
              errorReason(err)
            }); further failures counted, not logged, until a write succeeds`,
          );
        }
        this.#settled();
      },
    );
  }

  #settled(): void {
    if (--this.#pending === 0) this.#drained?.();
  }
}

/**
 * Connects to Redis and returns the bus over it. The first connection is
 * retried for up to 3 s; after it, lost connections are retried forever
 * (backoff doubling from 50 ms up to 2 s).
 * @param url `redis://[[user]:password@]host[:port][/db]` (or `rediss://`).
 * @param options name prefix and log.
 * @returns the connected bus.
 * @throws {Error} `Cannot connect to Redis at <url>: <reason>` (password
 *   masked) when the URL is invalid or no connection could be made in 3 s.
 * @example Connect and close
 * ```ts
 * const bus = await openRedisBus("redis://127.0.0.1:6379", { prefix: "coby:" });
 * await bus.close();
 * ```
 */
export async function openRedisBus(
  url: string,
  options: RedisBusOptions = {},
): Promise<RedisBus> {
  const deadline = performance.now() + CONNECT_TIMEOUT_MS;
  let ready = false;
  let client: RedisClient | undefined;
  try {
    client = createClient({
      url,
      RESP: 3,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries) =>
          ready || performance.now() < deadline ? redisBackoff(retries) : false,
      },
    });
    // Errors of the first connection make the rejection below; the bus
    // listens once connected. This listener stays: removed, it would be the
    // last, and the bus's listeners would go deaf (see the module doc).
    client.on("error", () => {});
    await client.connect();
    ready = true;
  } catch (err) {
    client?.destroy();
    throw new Error(
      `Cannot connect to Redis at ${redact(url)}: ${errorReason(err)}`,
      {
        cause: err,
      },
    );
  }
  return new RedisBus(client, options);
}
