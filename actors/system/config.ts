/**
 * coby's configuration: defaults, an optional JSON config file and
 * environment variables, validated with zod. A bad value fails start-up with
 * an error naming the key.
 *
 * Precedence: environment > config file (`COBY_CONFIG`) > defaults.
 *
 * @module
 */

import { z } from "zod";
import { ADAPTERS } from "../adapters/mod.ts";

/**
 * Default: BTC and ETH against USDT and USD on every exchange; a venue that
 * lists only some of them follows those (the others are logged as unknown).
 * Hyperliquid's perpetuals settle in USDC, so it follows BTC-USDC and ETH-USDC.
 */
function defaultExchanges(): Record<string, { symbols: string[] }> {
  const pairs = ["BTC-USDT", "ETH-USDT", "BTC-USD", "ETH-USD"];
  return Object.fromEntries(
    [...ADAPTERS.keys()].map((id) => [
      id,
      { symbols: id === "hyperliquid" ? ["BTC-USDC", "ETH-USDC"] : pairs },
    ]),
  );
}

/** Schema of the whole configuration. */
export const Config = z.object({
  /** Exchanges to follow: exchange id → symbols and optional endpoint overrides. */
  exchanges: z.record(
    z.string(),
    z.object({
      symbols: z.array(z.string()).min(1),
      wsOrigin: z.string().url().optional(),
      restOrigin: z.string().url().optional(),
      /**
       * Speak the API version in force at this date (ms); default now. A
       * replay sets a date at which the version its capture's connections
       * speak is in force (`versionDate` in `actors/adapters/mod.ts`).
       */
      apiDate: z.number().optional(),
      /** Run only these connection groups (see `Adapter.connectionGroup`); default all. */
      groups: z.array(z.string()).optional(),
      /**
       * The event clock: `wall` (live: the local receive time) or
       * `recorded` (a capture replay: the simulator's clock frames).
       */
      clock: z.enum(["wall", "recorded"]).optional(),
    }).strict(),
  ).default(defaultExchanges),
  /** Heatmap tick, ms. */
  tickMs: z.number().int().positive().default(1000),
  /** Half-width of the heatmap price range around mid, fraction of mid. */
  range: z.number().positive().max(1).default(0.05),
  /**
   * A venue whose mid deviates from the consensus mid (the liquidity-weighted
   * median of the venues' mids) by more than this fraction of it is left out
   * of that tick's consolidated column and flagged.
   */
  outlierThreshold: z.number().positive().max(1).default(0.02),
  /** Bucket size (quote currency) by base asset or consolidation key. */
  buckets: z.record(z.string(), z.number().positive()).default({
    BTC: 10,
    ETH: 1,
  }),
  /** Quote currencies treated as the same when consolidating, e.g. `{"USDT": "USD"}`. */
  quoteAliases: z.record(z.string(), z.string()).default({}),
  /** Heatmap columns kept per symbol for new viewers. */
  history: z.number().int().positive().default(600),
  /**
   * Bytes the heatmap history may hold over every symbol: the columns and
   * their serialized SSE events; the oldest columns go first past it.
   */
  historyBytes: z.number().int().min(1 << 20).default(256 * 2 ** 20),
  /** The HTTP server: where it listens, whom it answers, how many streams. */
  http: z.object({
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(8080),
    /**
     * Host names (the `Host` header, port ignored) answered besides the
     * loopback names and the bind address, against DNS rebinding; `"*"`:
     * any.
     */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /** Origins allowed by CORS (`https://example.com`); empty: same-origin only. */
    corsOrigins: z.array(z.string().url()).default([]),
    /** Heatmap streams open at once; past it, 503 with `Retry-After`. */
    maxStreams: z.number().int().positive().default(2000),
    /**
     * Columns a live stream may fall behind before its oldest are dropped
     * (the viewer gets a `gap` event).
     */
    streamQueue: z.number().int().positive().default(60),
  }).strict().prefault({}),
  /** History: where the writer stores what coby receives (docs/history.md). */
  store: z.object({
    /** Run the writer; false keeps no history. */
    enabled: z.boolean().default(true),
    /**
     * PostgreSQL URL (`DATABASE_URL`); none: the embedded PGlite in
     * `dataDir`.
     */
    url: z.string().regex(
      /^postgres(ql)?:\/\//,
      "must be a postgres:// or postgresql:// URL",
    ).optional(),
    /** PGlite's data and the spool live here (`COBY_DATA_DIR`). */
    dataDir: z.string().min(1).default("data/coby"),
    /** History kept, ms. */
    retentionMs: z.number().positive().default(30 * 86_400_000),
    /** Form a write batch this often while none waits, ms (writer default). */
    flushMs: z.number().int().positive().optional(),
    /** Form a write batch as soon as this many rows are pending (writer default). */
    batchRows: z.number().int().positive().optional(),
    /** Rows queued in memory before batches go to the spool (writer default). */
    queueRows: z.number().int().positive().optional(),
  }).strict().prefault({}),
  /**
   * The fan-out bus (docs/history.md): Redis with `REDIS_URL`, else
   * BroadcastChannel and an in-process cache.
   */
  bus: z.object({
    /** Redis URL (`REDIS_URL`); none: in-process only. */
    url: z.string().regex(
      /^rediss?:\/\//,
      "must be a redis:// or rediss:// URL",
    ).optional(),
    /** Prefix of coby's stream and key names (`COBY_BUS_PREFIX`). */
    prefix: z.string().default("coby:"),
    /** Event batches kept in the `events` stream, about. */
    eventsMaxLen: z.number().int().positive().default(100_000),
  }).strict().prefault({}),
  /** Replay sessions (`/api/v1/replay`, the replay actor). */
  replay: z.object({
    /** Sessions running at once over every client; past it 429. */
    maxSessions: z.number().int().positive().default(16),
    /** Heatmap ticks a session keeps per symbol for its viewers. */
    history: z.number().int().positive().default(3600),
    /** Bytes one session's heatmap history may hold (columns and events). */
    historyBytes: z.number().int().positive().default(64 * 2 ** 20),
    /**
     * Directories whose files `POST /api/v1/replay` may open
     * (`COBY_REPLAY_DIRS`, comma list); a file elsewhere gets 403.
     */
    dirs: z.array(z.string().min(1)).default(["data"]),
  }).strict().prefault({}),
  /**
   * Access control (`http/auth.ts`, `http/rate_limit.ts`). With `keys`
   * (`COBY_API_KEYS`, a comma list) or `jwt` set, the control endpoints
   * (creating, changing and stopping replay sessions) need a credential: an
   * API key in `X-API-Key`, or a JWT in `Authorization: Bearer` (401
   * otherwise); a principal (a key, a token's `sub`) may hold at most
   * `sessionsPerKey` sessions (429 with `Retry-After` past it). Every client
   * is rate-limited (`rateLimit`).
   */
  api: z.object({
    keys: z.array(
      z.string().min(8, "an API key needs at least 8 characters")
        .refine((k) => !k.startsWith("jwt:"), {
          error: "an API key must not start with jwt: (a JWT principal)",
        }),
    ).default([]),
    sessionsPerKey: z.number().int().positive().default(4),
    /**
     * JWT verification: HS256 with `secret`, RS256/ES256 with the keys of
     * `jwks` (a JWKS file path, or an `http(s)://` URL fetched and cached);
     * `exp` and `sub` are required, `nbf` checked when present, `aud` and
     * `iss` when configured. Unset: no JWT is accepted.
     */
    jwt: z.object({
      /** Shared HS256 secret (`COBY_JWT_SECRET`), 32 characters at least. */
      secret: z.string().min(
        32,
        "an HS256 secret needs at least 32 characters",
      ).optional(),
      /** JWKS file path or URL for RS256/ES256 (`COBY_JWT_JWKS`). */
      jwks: z.string().min(1).optional(),
      /** Required `aud` (`COBY_JWT_AUDIENCE`). */
      audience: z.string().min(1).optional(),
      /** Required `iss` (`COBY_JWT_ISSUER`). */
      issuer: z.string().min(1).optional(),
    }).strict().refine((j) => j.secret !== undefined || j.jwks !== undefined, {
      error: "jwt needs a secret or a jwks",
    }).optional(),
    /** Require a credential on the `/api/v1` reads too (the viewer sends none). */
    protectReads: z.boolean().default(false),
    /**
     * Per-client token buckets: `perSecond` requests a second on average,
     * bursts of `burst`; a client is its principal, else its IP address.
     * Anonymous clients from an address in `exempt` are not limited.
     * Buckets live in Redis when `bus.url` is set, else in the process.
     */
    rateLimit: z.object({
      enabled: z.boolean().default(true),
      perSecond: z.number().positive().default(50),
      burst: z.number().int().positive().default(200),
      exempt: z.array(z.string().min(1)).default(["127.0.0.1", "::1"]),
    }).strict().prefault({}),
  }).strict().prefault({}),
  /**
   * Raw recording by the connection actors (`actors/connection/recorder.ts`):
   * tardis-format gzip files under `dir/<exchange>/`, replayable as
   * captures.
   */
  record: z.object({
    /** Where recordings go (`COBY_RECORD_DIR`). */
    dir: z.string().min(1).default("data/record"),
    /** Exchange ids recorded (`COBY_RECORD`); `["*"]`: all; empty: none. */
    exchanges: z.array(z.string()).default([]),
    /** Start a new file past this many bytes, uncompressed. */
    maxBytes: z.number().int().positive().default(256 * 2 ** 20),
    /** Start a new file past this age, ms. */
    maxAgeMs: z.number().positive().default(3_600_000),
  }).strict().prefault({}),
}).strict();
/** Parsed configuration. */
export type Config = z.infer<typeof Config>;

/** Thrown when configuration is invalid; the message names the key. */
export class ConfigError extends Error {
  /**
   * Makes the error.
   * @param message what is wrong, with the key path.
   */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Validates a raw configuration object.
 * @param raw the merged file and environment values.
 * @returns the configuration with defaults filled in.
 * @throws {ConfigError} naming the first bad key, e.g. `Invalid config at tickMs: …`.
 */
export function parseConfig(raw: unknown): Config {
  const r = Config.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue.path.join(".") || "(root)";
    throw new ConfigError(`Invalid config at ${key}: ${issue.message}`);
  }
  for (const id of r.data.record.exchanges) {
    if (id !== "*" && !ADAPTERS.has(id)) {
      throw new ConfigError(
        `Invalid config at record.exchanges: unknown exchange ${id}; known: *, ${
          [...ADAPTERS.keys()].join(", ")
        }`,
      );
    }
  }
  for (const id of Object.keys(r.data.exchanges)) {
    if (!ADAPTERS.has(id)) {
      throw new ConfigError(
        `Invalid config at exchanges.${id}: unknown exchange; known: ${
          [...ADAPTERS.keys()].join(", ")
        }`,
      );
    }
  }
  return r.data;
}

/** A symbol selector: `BASE-QUOTE`, `BASE-QUOTE-PERP` or `BASE-QUOTE-YYMMDD`. */
const SELECTOR = /^[A-Z0-9]+-[A-Z0-9]+(-(PERP|\d{6}))?$/;

/** Options for {@link loadConfig}. */
export interface LoadConfigOptions {
  /**
   * Receives warnings about values that are accepted but may be ignored
   * (a `COBY_SYMBOLS` entry that is no selector).
   * @default console.warn
   */
  warn?: (message: string) => void;
}

/**
 * Loads the configuration from `COBY_CONFIG` (a JSON file) and these
 * environment variables: `PORT`, `HOST`, `COBY_TICK_MS`, `COBY_EXCHANGES`
 * (comma list of exchange ids; default the file's or every exchange),
 * `COBY_SYMBOLS` (comma list followed on each of them; default the file's
 * symbols, else the default ones), `DATABASE_URL` (`store.url`) and
 * `COBY_DATA_DIR` (`store.dataDir`), `REDIS_URL` (`bus.url`) and
 * `COBY_BUS_PREFIX` (`bus.prefix`), `COBY_API_KEYS` (`api.keys`, comma list),
 * `COBY_JWT_SECRET`, `COBY_JWT_JWKS`, `COBY_JWT_AUDIENCE` and
 * `COBY_JWT_ISSUER` (`api.jwt`), `COBY_REPLAY_DIRS` (`replay.dirs`),
 * `COBY_RECORD` (`record.exchanges`, comma list, `*` for all) and
 * `COBY_RECORD_DIR` (`record.dir`); an empty one counts as unset. An
 * exchange the file configures keeps its endpoint overrides.
 *
 * Symbols are resolved against each venue's metadata only when its
 * connection starts. A `COBY_SYMBOLS` entry that is no selector can only be
 * some venue's own name (`BTCUSDT`, `XBT/USD`), which every other exchange
 * listed ignores, so it is reported through `options.warn`.
 * @param env environment lookup.
 * @param options where warnings go.
 * @returns the validated configuration.
 * @throws {ConfigError} for an unreadable file or a bad value.
 * @example
 * ```ts
 * const cfg = await loadConfig((k) => Deno.env.get(k));
 * ```
 */
export async function loadConfig(
  env: (key: string) => string | undefined,
  options: LoadConfigOptions = {},
): Promise<Config> {
  const warn = options.warn ?? ((m: string) => console.warn(m));
  let raw: Record<string, unknown> = {};
  const file = env("COBY_CONFIG");
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await Deno.readTextFile(file));
    } catch (e) {
      throw new ConfigError(
        `Cannot read COBY_CONFIG ${file}: ${(e as Error).message}`,
      );
    }
    if (
      typeof parsed !== "object" || parsed === null || Array.isArray(parsed)
    ) {
      throw new ConfigError(`Invalid COBY_CONFIG ${file}: not a JSON object`);
    }
    raw = parsed as Record<string, unknown>;
  }
  const num = (key: string, v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n)) {
      throw new ConfigError(`Invalid ${key}: "${v}" is not a number`);
    }
    return n;
  };
  const http = { ...(raw.http as object ?? {}) } as Record<string, unknown>;
  const port = env("PORT");
  if (port !== undefined) http.port = num("PORT", port);
  const host = env("HOST");
  if (host !== undefined) http.host = host;
  if (port !== undefined || host !== undefined) raw.http = http;
  const dbUrl = env("DATABASE_URL");
  const dataDir = env("COBY_DATA_DIR");
  if (dbUrl || dataDir) {
    const store = { ...(raw.store as object ?? {}) } as Record<string, unknown>;
    if (dbUrl) store.url = dbUrl;
    if (dataDir) store.dataDir = dataDir;
    raw.store = store;
  }
  const redisUrl = env("REDIS_URL");
  const busPrefix = env("COBY_BUS_PREFIX");
  if (redisUrl || busPrefix) {
    const bus = { ...(raw.bus as object ?? {}) } as Record<string, unknown>;
    if (redisUrl) bus.url = redisUrl;
    if (busPrefix) bus.prefix = busPrefix;
    raw.bus = bus;
  }
  const dirs = env("COBY_REPLAY_DIRS");
  if (dirs) {
    raw.replay = {
      ...(raw.replay as object ?? {}),
      dirs: dirs.split(",").map((d) => d.trim()).filter((d) => d !== ""),
    };
  }
  const keys = env("COBY_API_KEYS");
  if (keys) {
    raw.api = {
      ...(raw.api as object ?? {}),
      keys: keys.split(",").map((k) => k.trim()).filter((k) => k !== ""),
    };
  }
  const jwtEnv = {
    secret: env("COBY_JWT_SECRET"),
    jwks: env("COBY_JWT_JWKS"),
    audience: env("COBY_JWT_AUDIENCE"),
    issuer: env("COBY_JWT_ISSUER"),
  };
  if (Object.values(jwtEnv).some((v) => v)) {
    const api = { ...(raw.api as object ?? {}) } as Record<string, unknown>;
    const jwt = { ...(api.jwt as object ?? {}) } as Record<string, unknown>;
    for (const [k, v] of Object.entries(jwtEnv)) if (v) jwt[k] = v;
    raw.api = { ...api, jwt };
  }
  const recordList = env("COBY_RECORD");
  const recordDir = env("COBY_RECORD_DIR");
  if (recordList || recordDir) {
    const record = { ...(raw.record as object ?? {}) } as Record<
      string,
      unknown
    >;
    if (recordList) record.exchanges = list("COBY_RECORD", recordList);
    if (recordDir) record.dir = recordDir;
    raw.record = record;
  }
  const tick = env("COBY_TICK_MS");
  if (tick !== undefined) raw.tickMs = num("COBY_TICK_MS", tick);
  const exchanges = env("COBY_EXCHANGES");
  const symbols = env("COBY_SYMBOLS");
  if (exchanges !== undefined || symbols !== undefined) {
    const fromFile = (raw.exchanges ?? {}) as Record<string, unknown>;
    const defaults = defaultExchanges();
    const ids = exchanges !== undefined
      ? list("COBY_EXCHANGES", exchanges)
      : Object.keys(raw.exchanges ? fromFile : defaults);
    const wanted = symbols === undefined
      ? undefined
      : list("COBY_SYMBOLS", symbols);
    raw.exchanges = Object.fromEntries(ids.map((id) => {
      const file = fromFile[id];
      const entry = typeof file === "object" && file !== null
        ? file as Record<string, unknown>
        : {};
      return [id, {
        ...entry,
        symbols: wanted ?? entry.symbols ?? defaults[id]?.symbols ??
          ["BTC-USDT", "ETH-USDT"],
      }];
    }));
    const own = wanted?.filter((s) => !SELECTOR.test(s)) ?? [];
    if (own.length) {
      const names = own.map((s) => `"${s}"`).join(", ");
      const many = own.length > 1;
      warn(
        `COBY_SYMBOLS ${names} ${
          many ? "are not selectors" : "is not a selector"
        } (BASE-QUOTE, BASE-QUOTE-PERP or BASE-QUOTE-YYMMDD), so taken as an exchange's own symbol name, ignored by any of ${
          ids.join(", ")
        } that does not list ${many ? "them" : "it"}`,
      );
    }
  }
  return parseConfig(raw);
}

/** Splits a comma list from the environment, refusing empty entries. */
function list(key: string, value: string): string[] {
  const items = value.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    throw new ConfigError(`Invalid ${key}: "${value}" has an empty entry`);
  }
  return items;
}
