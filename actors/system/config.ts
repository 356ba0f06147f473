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
      /** Speak the API version in force at this date (ms); replay sets the capture's date. */
      apiDate: z.number().optional(),
      /** Run only these connection groups (see `Adapter.connectionGroup`); default all. */
      groups: z.array(z.string()).optional(),
    }).strict(),
  ).default(defaultExchanges),
  /** Heatmap tick, ms. */
  tickMs: z.number().int().positive().default(1000),
  /** Half-width of the heatmap price range around mid, fraction of mid. */
  range: z.number().positive().max(1).default(0.05),
  /** Bucket size (quote currency) by base asset or consolidation key. */
  buckets: z.record(z.string(), z.number().positive()).default({
    BTC: 10,
    ETH: 1,
  }),
  /** Quote currencies treated as the same when consolidating, e.g. `{"USDT": "USD"}`. */
  quoteAliases: z.record(z.string(), z.string()).default({}),
  /** Heatmap columns kept per symbol for new viewers. */
  history: z.number().int().positive().default(600),
  http: z.object({
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(8080),
  }).strict().default({ host: "127.0.0.1", port: 8080 }),
}).strict();
/** Parsed configuration. */
export type Config = z.infer<typeof Config>;

/** Thrown when configuration is invalid; the message names the key. */
export class ConfigError extends Error {
  /** @param message what is wrong, with the key path. */
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

/**
 * Loads the configuration from `COBY_CONFIG` (a JSON file) and these
 * environment variables: `PORT`, `HOST`, `COBY_TICK_MS`, `COBY_EXCHANGES`
 * (comma list of exchange ids) with `COBY_SYMBOLS` (comma list, for each of them).
 * @param env environment lookup.
 * @throws {ConfigError} for an unreadable file or a bad value.
 * @example
 * ```ts
 * const cfg = await loadConfig((k) => Deno.env.get(k));
 * ```
 */
export async function loadConfig(
  env: (key: string) => string | undefined,
): Promise<Config> {
  let raw: Record<string, unknown> = {};
  const file = env("COBY_CONFIG");
  if (file) {
    try {
      raw = JSON.parse(await Deno.readTextFile(file));
    } catch (e) {
      throw new ConfigError(
        `Cannot read COBY_CONFIG ${file}: ${(e as Error).message}`,
      );
    }
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
  const tick = env("COBY_TICK_MS");
  if (tick !== undefined) raw.tickMs = num("COBY_TICK_MS", tick);
  const exchanges = env("COBY_EXCHANGES");
  if (exchanges !== undefined) {
    const symbols = (env("COBY_SYMBOLS") ?? "BTC-USDT,ETH-USDT").split(",").map(
      (s) => s.trim(),
    );
    raw.exchanges = Object.fromEntries(
      exchanges.split(",").map((e) => [e.trim(), { symbols }]),
    );
  }
  return parseConfig(raw);
}
