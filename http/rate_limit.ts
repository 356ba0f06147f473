/**
 * Per-client token-bucket rate limits (`api.rateLimit`). Each client has a
 * bucket of `burst` tokens refilled at `perSecond` tokens a second; a
 * request takes one, and a request that finds less than one gets 429
 * `rate_limited` with `Retry-After` (whole seconds until a token is back).
 *
 * A client is the request's principal (`http/auth.ts`: an API key or a
 * JWT's `sub`), else the IP address of its connection. An anonymous client
 * whose address is in `exempt` (loopback by default: the operator, or a
 * reverse proxy in front, whose clients are all one address) is not
 * limited, nor is a request that reached the app without a connection (an
 * in-process `app.request`).
 *
 * Buckets live in a {@link RateLimitStore}: this process's memory
 * ({@link MemoryRateLimitStore}), or Redis ({@link RedisRateLimitStore},
 * with `REDIS_URL`), where one Lua script takes a token atomically on the
 * server's clock, so that every serving process shares one limit per client.
 * While Redis cannot answer, the Redis store takes from its own process's
 * buckets, and says so once per outage.
 *
 * @module
 */

import { createMiddleware } from "hono/factory";
import type { Context, MiddlewareHandler } from "hono";
import { createClient, defineScript } from "redis";
import type { CommandParser } from "redis";
import type { AuthVariables } from "./auth.ts";
import { httpError } from "./errors.ts";
import { errorReason, redisBackoff } from "../actors/live/redis.ts";

/** A bucket's shape. */
export interface BucketLimit {
  /** Tokens added a second (requests a second, sustained). */
  perSecond: number;
  /** Tokens a bucket holds at most (requests in a burst). */
  burst: number;
}

/** The answer of {@link RateLimitStore.take}. */
export interface Taken {
  /** Whether a token was taken: the request may go on. */
  allowed: boolean;
  /** Refused: milliseconds until a token is back; else 0. */
  retryAfterMs: number;
  /** Whole tokens left after this one. */
  remaining: number;
}

/** Where the buckets live. */
export interface RateLimitStore {
  /**
   * Takes one token from a client's bucket (a new client's is full).
   * @param client the client's id (a principal or an address).
   * @param limit the bucket's shape.
   * @returns whether it was taken, else how long until one is back.
   */
  take(client: string, limit: BucketLimit): Promise<Taken>;
  /** Lets go of the store's connections. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryStoreOptions {
  /**
   * The clock, ms (monotonic).
   * @default performance.now
   */
  now?: () => number;
  /**
   * Buckets kept at most. Reaching it, buckets that are full again are
   * dropped (they equal a new one), then the oldest, down to 90 % of it (so
   * a flood of new clients costs one sweep per tenth of it).
   * @default 100_000
   */
  maxClients?: number;
}

/** A bucket in memory: tokens at `at` (ms). */
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Buckets in this process's memory: one process's limits.
 * @example
 * ```ts
 * const store = new MemoryRateLimitStore();
 * await store.take("ip:203.0.113.7", { perSecond: 50, burst: 200 }); // {allowed: true, …}
 * ```
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  readonly #max: number;

  /**
   * Makes an empty store.
   * @param options the clock and the most buckets kept.
   */
  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#max = options.maxClients ?? 100_000;
  }

  /** Buckets kept now. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token from a client's bucket.
   * @param client the client's id.
   * @param limit the bucket's shape.
   * @returns whether it was taken, else how long until one is back.
   */
  take(client: string, limit: BucketLimit): Promise<Taken> {
    const now = this.#now();
    let b = this.#buckets.get(client);
    if (!b) {
      if (this.#buckets.size >= this.#max) this.#evict(now, limit);
      b = { tokens: limit.burst, at: now };
      this.#buckets.set(client, b);
    } else if (now > b.at) {
      b.tokens = Math.min(
        limit.burst,
        b.tokens + (now - b.at) * limit.perSecond / 1000,
      );
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return Promise.resolve({
        allowed: true,
        retryAfterMs: 0,
        remaining: Math.floor(b.tokens),
      });
    }
    return Promise.resolve({
      allowed: false,
      retryAfterMs: Math.ceil((1 - b.tokens) * 1000 / limit.perSecond),
      remaining: 0,
    });
  }

  /** Drops the buckets full again, then the oldest, down to 90 % of the most. */
  #evict(now: number, limit: BucketLimit): void {
    const target = Math.floor(this.#max * 0.9);
    for (const [k, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * limit.perSecond / 1000 >= limit.burst) {
        this.#buckets.delete(k);
      }
    }
    for (const k of this.#buckets.keys()) {
      if (this.#buckets.size <= target) break;
      // Still full of active clients: the oldest inserted goes (a flood of
      // addresses costs their buckets a refill, not memory).
      this.#buckets.delete(k);
    }
  }

  /** Nothing to let go of. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Takes one token, atomically, on the Redis server's clock. KEYS[1]: the
 * bucket (a hash of `t` tokens and `at` ms); ARGV: perSecond, burst.
 * Returns `{allowed (0|1), retryAfterMs, remaining}`. The bucket expires
 * once it would be full again, so idle clients cost nothing.
 */
const TAKE_LUA = `
local rate = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
elseif now > at then
  tokens = math.min(burst, tokens + (now - at) * rate)
  at = now
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
return {allowed, wait, math.floor(tokens)}
`;

/** The script as a node-redis command: `client.rateTake(key, perSecond, burst)`. */
const RATE_TAKE = defineScript({
  SCRIPT: TAKE_LUA,
  NUMBER_OF_KEYS: 1,
  parseCommand(
    parser: CommandParser,
    key: string,
    perSecond: number,
    burst: number,
  ) {
    parser.pushKey(key);
    parser.push(String(perSecond), String(burst));
  },
  transformReply: (reply: unknown) => reply as [number, number, number],
});

/** Milliseconds the first connection attempt may take before requests fall back. */
const CONNECT_TIMEOUT_MS = 3000;
/** Milliseconds a take may wait for Redis before it falls back. */
const COMMAND_TIMEOUT_MS = 500;

/** The first 16 bytes of a string's SHA-256, in hex. */
async function hashed(s: string): Promise<string> {
  const d = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)),
  );
  let hex = "";
  for (let i = 0; i < 16; i++) hex += d[i].toString(16).padStart(2, "0");
  return hex;
}

/** Options of {@link RedisRateLimitStore}. */
export interface RedisStoreOptions {
  /**
   * Prefix of the bucket keys: `<prefix>ratelimit:<sha-256 of the client>`
   * (no key names an address, a key or a subject).
   * @default "coby:"
   */
  prefix?: string;
  /**
   * Where an outage (taking from this process's buckets meanwhile) and the
   * recovery are reported, one line each.
   * @default console.warn
   */
  log?: (message: string) => void;
}

/**
 * Buckets in Redis, shared by every process on the same Redis and prefix.
 * Connects at once; a take waits for the first connection attempt (3 s at
 * most), and while Redis cannot answer takes from this process's buckets.
 * @example
 * ```ts
 * const store = new RedisRateLimitStore("redis://127.0.0.1:6379", { prefix: "coby:" });
 * await store.take("ip:203.0.113.7", { perSecond: 50, burst: 200 });
 * await store.close();
 * ```
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #client;
  readonly #prefix: string;
  readonly #log: (message: string) => void;
  readonly #fallback = new MemoryRateLimitStore();
  /** Settles once the first connection is made or given up. */
  #connecting: Promise<void> | null;
  #failing = false;
  #closed = false;

  /**
   * Makes the store and starts connecting.
   * @param url `redis://[[user]:password@]host[:port][/db]` (or `rediss://`).
   * @param options key prefix and log.
   */
  constructor(url: string, options: RedisStoreOptions = {}) {
    this.#prefix = `${options.prefix ?? "coby:"}ratelimit:`;
    this.#log = options.log ?? ((m) => console.warn(m));
    this.#client = createClient({
      url,
      scripts: { rateTake: RATE_TAKE },
      // Refused at once while disconnected: a request never waits for a
      // reconnect, it takes from this process's buckets.
      disableOfflineQueue: true,
      commandOptions: { timeout: COMMAND_TIMEOUT_MS },
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: redisBackoff,
      },
    });
    // The first attempt settles `#connecting`, whether it succeeds or not;
    // reconnects go on in the background. Errors are reported by `take`,
    // once per outage; without a listener they would throw.
    this.#connecting = new Promise<void>((resolve) => {
      this.#client.once("ready", () => resolve());
      this.#client.on("error", () => resolve());
    });
    this.#client.connect().catch(() => {}); // Rejects only when closed.
  }

  /**
   * Takes one token from a client's bucket in Redis, else (Redis down) from
   * this process's.
   * @param client the client's id.
   * @param limit the bucket's shape.
   * @returns whether it was taken, else how long until one is back.
   */
  async take(client: string, limit: BucketLimit): Promise<Taken> {
    if (this.#connecting) {
      await this.#connecting;
      this.#connecting = null;
    }
    try {
      const [allowed, wait, remaining] = await this.#client.rateTake(
        this.#prefix + await hashed(client),
        limit.perSecond,
        limit.burst,
      );
      if (this.#failing) {
        this.#failing = false;
        this.#log("rate limits: Redis answers again; buckets are shared");
      }
      return {
        allowed: Number(allowed) === 1,
        retryAfterMs: Number(wait),
        remaining: Number(remaining),
      };
    } catch (e) {
      if (!this.#failing) {
        this.#failing = true;
        this.#log(
          `rate limits: Redis cannot answer (${
            errorReason(e)
          }); this process's own buckets apply until it does`,
        );
      }
      return await this.#fallback.take(client, limit);
    }
  }

  /** Closes the connection (at once when it is down). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#connecting;
    this.#connecting = null;
    if (this.#client.isReady) await this.#client.close();
    else if (this.#client.isOpen) this.#client.destroy();
  }
}

/**
 * The store for a configuration: Redis with `bus.url`, else memory.
 * @param bus `bus.url` and `bus.prefix`; absent: memory.
 * @returns the store; close it when done.
 * @example
 * ```ts
 * const store = openRateLimitStore(config.bus);
 * ```
 */
export function openRateLimitStore(
  bus?: { url?: string; prefix: string },
): RateLimitStore {
  return bus?.url
    ? new RedisRateLimitStore(bus.url, { prefix: bus.prefix })
    : new MemoryRateLimitStore();
}

/** Options of {@link rateLimit}. */
export interface RateLimitOptions extends BucketLimit {
  /**
   * Addresses whose anonymous requests are not limited.
   * @default []
   */
  exempt?: readonly string[];
}

/**
 * The connection's remote address: Deno.serve's `info.remoteAddr`, which
 * `app.fetch(req, info)` receives as the environment; null without one.
 * An IPv4-mapped IPv6 address is given as IPv4.
 */
function remoteAddress(c: Context): string | null {
  const env = c.env as { remoteAddr?: { hostname?: unknown } } | undefined;
  const host = env?.remoteAddr?.hostname;
  if (typeof host !== "string" || host === "") return null;
  return host.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
}

/**
 * Middleware limiting each client to a token bucket. Put it after
 * `identify` (`http/auth.ts`), so a client with a credential is its
 * principal wherever it connects from.
 * @param store where the buckets live.
 * @param options the bucket's shape and the exempt addresses.
 * @returns hono middleware.
 * @throws {HTTPException} 429 `rate_limited` with `Retry-After` (seconds,
 * at least 1) over the limit; rendered by the app.
 * @example
 * ```ts
 * app.use("*", rateLimit(new MemoryRateLimitStore(), { perSecond: 50, burst: 200 }));
 * ```
 */
export function rateLimit(
  store: RateLimitStore,
  options: RateLimitOptions,
): MiddlewareHandler<{ Variables: Partial<AuthVariables> }> {
  const exempt = new Set(options.exempt ?? []);
  const limit = { perSecond: options.perSecond, burst: options.burst };
  return createMiddleware<{ Variables: Partial<AuthVariables> }>(
    async (c, next) => {
      const principal = c.get("principal") ?? null;
      let client: string;
      if (principal !== null) {
        client = `p:${principal}`;
      } else {
        const ip = remoteAddress(c);
        if (ip === null || exempt.has(ip)) return await next();
        client = `ip:${ip}`;
      }
      const t = await store.take(client, limit);
      if (!t.allowed) {
        throw httpError(
          429,
          "rate_limited",
          `Too many requests: ${limit.perSecond} a second, bursts of ${limit.burst} (api.rateLimit); retry later`,
          { retryAfter: Math.max(1, Math.ceil(t.retryAfterMs / 1000)) },
        );
      }
      await next();
    },
  );
}
