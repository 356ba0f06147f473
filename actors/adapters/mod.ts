/**
 * The adapter registry: one line per venue. Validated at load so a broken
 * entry fails at start-up, not on the first frame.
 *
 * @module
 */

import type { Adapter } from "./adapter.ts";
import { binanceAdapter } from "./binance.ts";
import { binanceFuturesAdapter } from "./binance_futures.ts";

/** Every adapter, keyed by exchange id. */
export const ADAPTERS: ReadonlyMap<string, Adapter> = register([
  binanceAdapter,
  binanceFuturesAdapter,
]);

function register(list: Adapter[]): Map<string, Adapter> {
  const map = new Map<string, Adapter>();
  for (const a of list) {
    if (map.has(a.id)) throw new Error(`Duplicate adapter id ${a.id}`);
    if (!a.docs.startsWith("https://")) {
      throw new Error(`Adapter ${a.id} has no docs URL`);
    }
    map.set(a.id, a);
  }
  return map;
}

/**
 * Looks up an adapter.
 * @param id exchange id, e.g. `binance`.
 * @throws {Error} naming the id when no adapter has it.
 */
export function adapterFor(id: string): Adapter {
  const a = ADAPTERS.get(id);
  if (!a) {
    throw new Error(
      `Unknown exchange "${id}"; known: ${[...ADAPTERS.keys()].join(", ")}`,
    );
  }
  return a;
}
