/**
 * The adapter registry: one line per venue API version. Validated at load so
 * a broken entry fails at start-up, not on the first frame.
 *
 * A venue whose API changed registers each version as its own adapter with
 * the same `id`; the older ones carry `until`, the last day they were served.
 * `adapterFor(id, at)` picks the version in force at `at` (the live date).
 * Versions that coexisted declare `speaks(url, sent)`, and
 * `adapterForRecording` picks for a replayed capture the version its
 * recorded connections speak, falling back to the recording date only when
 * the recording cannot tell. `versionDate` turns the chosen version back
 * into a date that `adapterFor` maps to it, which is how the choice travels
 * in config (`apiDate`).
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
    // Distinct `until`s make `adapterFor(id, v.until)` return `v` itself.
    if (
      a.until !== undefined &&
      versions.filter((v) => v.until === a.until).length > 1
    ) {
      throw new Error(
        `Adapter ${a.id} has two versions until ${
          new Date(a.until).toISOString()
        }`,
      );
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
  return pickByDate(adapterVersions(id), at);
}

/** One WebSocket connection of a recording: the URL opened and the frames the client sent on it. */
export interface RecordedConnection {
  /** The WebSocket URL as recorded. */
  readonly url: string;
  /** Text frames the client sent on it (subscriptions, pings), in order. */
  readonly sent: readonly string[];
}

/**
 * Picks the adapter version a recording speaks, from what its connections
 * asked for (see `Adapter.speaks`): the versions that speak every recorded
 * connection are the candidates (a version without `speaks` is always one),
 * and the recording date decides only among several candidates.
 * @param id exchange id, e.g. `bybit`.
 * @param connections the recorded WebSocket connections.
 * @param at the recording date, ms since epoch; the live date by default.
 * @returns the version.
 * @throws {Error} naming the id when no adapter has it, or naming the
 *   recorded URL(s) when no version speaks every connection.
 * @example
 * ```ts
 * const v5 = adapterForRecording("bybit", [{
 *   url: "wss://stream.bybit.com/v5/public/linear",
 *   sent: ['{"op":"subscribe","args":["publicTrade.BTCUSDT"]}'],
 * }], Date.UTC(2023, 4, 1)); // v5, although v2 was still served then
 * ```
 */
export function adapterForRecording(
  id: string,
  connections: readonly RecordedConnection[],
  at: number = Date.now(),
): Adapter {
  const versions = adapterVersions(id);
  const speaks = (v: Adapter, c: RecordedConnection): boolean => {
    if (!v.speaks) return true;
    try {
      return v.speaks(c.url, c.sent);
    } catch {
      return false; // an unparsable URL speaks nothing
    }
  };
  const candidates = versions.filter((v) =>
    connections.every((c) => speaks(v, c))
  );
  if (candidates.length === 0) {
    const alien = connections.filter((c) =>
      !versions.some((v) => speaks(v, c))
    );
    if (alien.length) {
      throw new Error(
        `No ${id} API version coby knows speaks the recorded connection ${
          alien.map((c) => c.url).join(", ")
        }`,
      );
    }
    throw new Error(
      `The recorded ${id} connections speak different API versions: ${
        connections.map((c) => c.url).join(", ")
      }`,
    );
  }
  return pickByDate(candidates, at);
}

/**
 * A date at which `adapterFor` picks exactly this version: its `until` for a
 * retired version; for the current one the day after the last retired
 * version of its id (`undefined` when it has none: any date picks it).
 * @param adapter a registered adapter version.
 * @returns the date, ms since epoch, or `undefined`.
 * @throws {Error} when the adapter is not registered.
 * @example
 * ```ts
 * const ad = adapterFor("bybit", Date.UTC(2021, 3, 17)); // v2
 * adapterFor("bybit", versionDate(ad)) === ad; // true
 * ```
 */
export function versionDate(adapter: Adapter): number | undefined {
  const versions = adapterVersions(adapter.id);
  if (!versions.includes(adapter)) {
    throw new Error(`Adapter version of ${adapter.id} is not registered`);
  }
  if (adapter.until !== undefined) return adapter.until;
  let last: number | undefined;
  for (const v of versions) {
    if (v.until !== undefined && (last === undefined || v.until > last)) {
      last = v.until;
    }
  }
  return last === undefined ? undefined : last + 1;
}

/** The registered versions of an exchange id, oldest first. */
function adapterVersions(id: string): readonly Adapter[] {
  const versions = ADAPTERS.get(id);
  if (!versions) {
    throw new Error(
      `Unknown exchange "${id}"; known: ${[...ADAPTERS.keys()].join(", ")}`,
    );
  }
  return versions;
}

/** The first of `versions` (oldest first) still served at `at`, else the newest. */
function pickByDate(versions: readonly Adapter[], at: number): Adapter {
  return versions.find((v) => v.until === undefined || at <= v.until) ??
    versions[versions.length - 1];
}

/**
 * Splits an exchange's symbols into its connections (see
 * `Adapter.connectionGroup`); one group `""` for most venues.
 * @param exchange exchange id.
 * @param symbols configured symbols.
 * @param apiDate the date whose API version applies.
 * @returns group name → its symbols.
 */
export function connectionGroups(
  exchange: string,
  symbols: readonly string[],
  apiDate?: number,
): Map<string, string[]> {
  const ad = adapterFor(exchange, apiDate);
  const groups = new Map<string, string[]>();
  for (const s of symbols) {
    const gs = ad.connectionGroup?.(s) ?? "";
    for (const g of typeof gs === "string" ? [gs] : gs) {
      const list = groups.get(g);
      if (list) list.push(s);
      else groups.set(g, [s]);
    }
  }
  return groups;
}
