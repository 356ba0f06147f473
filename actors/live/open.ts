/**
 * Opens the fan-out bus a configuration names: Redis with a URL, else the
 * in-process bus.
 *
 * @module
 */

import type { Bus } from "./bus.ts";
import { LocalBus } from "./local.ts";

/** Options for {@link openBus}. */
export interface OpenBusOptions {
  /** Redis URL; none: the in-process {@link LocalBus}. */
  url?: string;
  /**
   * Prefix of stream and key names.
   * @default "coby:"
   */
  prefix?: string;
  /** Log lines. */
  log?: (level: "debug" | "info" | "warn" | "error", msg: string) => void;
}

/**
 * Opens the bus.
 * @param options URL, prefix and log.
 * @returns the bus; close it when done.
 * @throws {Error} `Cannot connect to Redis at …` when Redis does not answer.
 * @example
 * ```ts
 * const bus = await openBus({ url: Deno.env.get("REDIS_URL") });
 * ```
 */
export async function openBus(options: OpenBusOptions = {}): Promise<Bus> {
  const prefix = options.prefix ?? "coby:";
  if (!options.url) return new LocalBus({ prefix });
  // node-redis loads only when a URL asks for it.
  const { openRedisBus } = await import("./redis.ts");
  return await openRedisBus(options.url, { prefix, log: options.log });
}
