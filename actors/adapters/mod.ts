/**
 * The adapter registry: one line per venue API version. Validated at load so
 * a broken entry fails at start-up, not on the first frame.
 *
 * A venue whose API changed registers each version as its own adapter with
 * the same `id`; the older ones carry `until`, the last day they were served.
 * `adapterFor(id, at)` picks the version in force at `at` — the live date, or
 * the recording date of a replayed capture.
 *
 * @module
 */

import type { Adapter } from "./adapter.ts";
import { binanceAdapter } from "./binance.ts";
import { binanceDeliveryAdapter } from "./binance_delivery.ts";
import { binanceFuturesAdapter } from "./binance_futures.ts";
import { binanceUsAdapter } from "./binance_us.ts";
import { bitfinexAdapter } from "./bitfinex.ts";
import { bybitAdapter } from "./bybit.ts";
import { bybitSpotAdapter } from "./bybit_spot.ts";
import { bybitV2Adapter } from "./bybit_v2.ts";
import { coinbaseAdapter } from "./coinbase.ts";
import { coinbaseProAdapter } from "./coinbase_pro.ts";
import { huobiAdapter } from "./huobi.ts";
import { huobiStep0Adapter } from "./huobi_step0.ts";
import { huobiSwapAdapter } from "./huobi_swap.ts";
import { hyperliquidAdapter } from "./hyperliquid.ts";
import { krakenAdapter } from "./kraken.ts";
import { krakenV1Adapter } from "./kraken_v1.ts";
import { kucoinAdapter } from "./kucoin.ts";
import { mexcAdapter } from "./mexc.ts";
import { mexcFuturesAdapter } from "./mexc_futures.ts";
import { gateioAdapter } from "./gateio.ts";
import { okxAdapter } from "./okx.ts";
import { okxChecksumAdapter } from "./okx_checksum.ts";

/** Every adapter version, keyed by exchange id, oldest first. */
export const ADAPTERS: ReadonlyMap<string, readonly Adapter[]> = register([
  binanceAdapter,
  binanceDeliveryAdapter,
  binanceUsAdapter,
  bitfinexAdapter,
  bybitAdapter,
  bybitSpotAdapter,
  bybitV2Adapter,
  hyperliquidAdapter,
  mexcAdapter,
  mexcFuturesAdapter,
  binanceFuturesAdapter,
  coinbaseAdapter,
  coinbaseProAdapter,
  huobiAdapter,
  huobiStep0Adapter,
  huobiSwapAdapter,
  krakenAdapter,
  krakenV1Adapter,
  kucoinAdapter,
  gateioAdapter,
  okxAdapter,
  okxChecksumAdapter,
]);

function register(list: Adapter[]): Map<string, Adapter[]> {
  const map = new Map<string, Adapter[]>();
  for (const a of list) {
    if (!a.docs.startsWith("https://")) {
      throw new Error(`Adapter ${a.id} has no docs URL`);
    }
    const versions = map.get(a.id) ?? [];
    versions.push(a);
    versions.sort((x, y) => (x.until ?? Infinity) - (y.until ?? Infinity));
    if (versions.filter((v) => v.until === undefined).length > 1) {
      throw new Error(`Adapter ${a.id} has two current versions`);
    }
    map.set(a.id, versions);
  }
  return map;
}

/**
 * Looks up the adapter version in force at a date.
 * @param id exchange id, e.g. `binance`.
 * @param at ms since epoch; the live date by default.
 * @returns the first version whose `until` is not before `at`, else the current one.
 * @throws {Error} naming the id when no adapter has it.
 * @example
 * ```ts
 * adapterFor("coinbase", Date.UTC(2021, 3, 17)); // the 2021 Pro feed
 * ```
 */
export function adapterFor(id: string, at: number = Date.now()): Adapter {
  const versions = ADAPTERS.get(id);
  if (!versions) {
    throw new Error(
      `Unknown exchange "${id}"; known: ${[...ADAPTERS.keys()].join(", ")}`,
    );
  }
  return versions.find((v) => v.until === undefined || at <= v.until) ??
    versions[versions.length - 1];
}
