/**
 * The local {@link Bus}, for one process without Redis: each stream is a
 * `BroadcastChannel` named `<prefix><stream>`, which reaches every worker
 * and the main thread of the process (a writer worker's publishes reach the
 * main thread's followers, and the other way round). Nothing is kept: a
 * follower sees only what is published after it started, so `backfill`
 * delivers nothing, and `maxLen` is moot.
 *
 * Keys live in a map per bus instance, kept current across the process by
 * one channel, `<prefix>keys`, that `set` posts every change to. A bus
 * created after a `set` does not see that value until it is set again.
 *
 * @module
 */

import type { Bus, BusStats, FollowOptions } from "./bus.ts";

/** Options of {@link LocalBus}. */
export interface LocalBusOptions {
  /**
   * Prepended to every channel name.
   * @default "coby:"
   */
  prefix?: string;
}

/** A key change as posted on the keys channel. */
interface KeyChange {
  readonly key: string;
  readonly value: string;
}

const encoder = new TextEncoder();

/**
 * The in-process fan-out bus: streams over `BroadcastChannel`, keys in a
 * map every instance of the process keeps current. Publishes never fail
 * while the bus is open (`up` is always true); after {@link close} they
 * are counted in `failed`.
 *
 * @example A publish reaching a follower
 * ```ts
 * import { LocalBus } from "./local.ts";
 *
 * const bus = new LocalBus();
 * const stop = bus.follow("events", (data) => console.log(new TextDecoder().decode(data)));
 * bus.publish("events", "hello", 1000);
 * stop();
 * await bus.close();
 * ```
 */
export class LocalBus implements Bus {
  /** Always `local`. */
  readonly kind = "local";
  readonly #prefix: string;
  /** Publishing channels by stream name. */
  readonly #channels = new Map<string, BroadcastChannel>();
  /** Followers' channels. */
  readonly #followers = new Set<BroadcastChannel>();
  readonly #keys = new Map<string, string>();
  readonly #keysChannel: BroadcastChannel;
  #published = 0;
  #failed = 0;
  #delivered = 0;
  #closed = false;

  /**
   * Opens the bus: starts listening for key changes.
   * @param options name prefix.
   * @example
   * ```ts
   * const bus = new LocalBus({ prefix: "test:" });
   * ```
   */
  constructor(options: LocalBusOptions = {}) {
    this.#prefix = options.prefix ?? "coby:";
    this.#keysChannel = new BroadcastChannel(this.#prefix + "keys");
    this.#keysChannel.onmessage = (e: MessageEvent<KeyChange>) => {
      this.#keys.set(e.data.key, e.data.value);
    };
  }

  /**
   * Posts `data` to channel `<prefix><stream>`; followers anywhere in the
   * process receive it in order. `maxLen` is ignored: nothing is kept.
   * @param stream stream name (see `STREAMS`).
   * @param data the entry; a string is sent as its UTF-8 bytes. Copied.
   * @param _maxLen ignored.
   * @example
   * ```ts
   * bus.publish("columns", new Uint8Array([1, 2, 3]), 1000);
   * ```
   */
  publish(stream: string, data: Uint8Array | string, _maxLen: number): void {
    if (this.#closed) {
      this.#failed++;
      return;
    }
    let channel = this.#channels.get(stream);
    if (!channel) {
      channel = new BroadcastChannel(this.#prefix + stream);
      this.#channels.set(stream, channel);
    }
    let bytes = typeof data === "string" ? encoder.encode(data) : data;
    // Cloning a view clones its whole buffer: send only the bytes.
    if (bytes.byteLength !== bytes.buffer.byteLength) bytes = bytes.slice();
    channel.postMessage(bytes);
    this.#published++;
  }

  /**
   * Sets a key in this bus's map and in every other bus of the process.
   * @param key key name.
   * @param value the value.
   * @example
   * ```ts
   * bus.set("live:BTC-USD", "{}");
   * ```
   */
  set(key: string, value: string): void {
    if (this.#closed) {
      this.#failed++;
      return;
    }
    this.#keys.set(key, value);
    this.#keysChannel.postMessage({ key, value } satisfies KeyChange);
    this.#published++;
  }

  /**
   * Reads a key from this bus's map.
   * @param key key name.
   * @returns its latest value, or null when absent.
   * @throws {Error} when the bus is closed, naming the key.
   * @example
   * ```ts
   * const frame = await bus.get("live:BTC-USD");
   * ```
   */
  get(key: string): Promise<string | null> {
    if (this.#closed) {
      return Promise.reject(
        new Error(`Cannot get ${key}: the local bus is closed`),
      );
    }
    return Promise.resolve(this.#keys.get(key) ?? null);
  }

  /**
   * Follows channel `<prefix><stream>`: every entry published after this
   * call, by any bus of the process (this one included), in order per
   * publisher. `backfill` delivers nothing: a local bus keeps no entries.
   * After {@link close}, nothing is followed.
   * @param stream stream name.
   * @param onEntry receives each entry's bytes (never modify).
   * @param _options ignored (no backfill).
   * @returns a function that stops following: no entry is delivered after
   *   it returns.
   * @example
   * ```ts
   * const stop = bus.follow("events", (d) => console.log(d.length));
   * stop();
   * ```
   */
  follow(
    stream: string,
    onEntry: (data: Uint8Array) => void,
    _options?: FollowOptions,
  ): () => void {
    if (this.#closed) return () => {};
    const channel = new BroadcastChannel(this.#prefix + stream);
    channel.onmessage = (e: MessageEvent<Uint8Array>) => {
      this.#delivered++;
      onEntry(e.data);
    };
    this.#followers.add(channel);
    return () => {
      if (this.#followers.delete(channel)) channel.close();
    };
  }

  /**
   * The counters; `up` is always true.
   * @returns a snapshot.
   * @example
   * ```ts
   * const { published, delivered } = bus.stats();
   * ```
   */
  stats(): BusStats {
    return {
      published: this.#published,
      failed: this.#failed,
      delivered: this.#delivered,
      up: true,
    };
  }

  /**
   * Closes every channel (posts are sent synchronously, so nothing is
   * pending). Closing twice is harmless.
   * @returns when closed.
   * @example
   * ```ts
   * await bus.close();
   * ```
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const c of this.#channels.values()) c.close();
    for (const c of this.#followers) c.close();
    this.#channels.clear();
    this.#followers.clear();
    this.#keysChannel.close();
    return Promise.resolve();
  }
}
