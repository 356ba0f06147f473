/**
 * Binance COIN-M futures (inverse perpetuals and quarterly futures).
 * Docs: https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams
 * Book sync: https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly
 *
 * @module
 */

import type { Instrument } from "../market/events.ts";
import { type Adapter, MalformedFrameError } from "./adapter.ts";
import {
  binanceParser,
  binanceSnapshot,
  binanceStreamUrl,
} from "./_binance.ts";
import { noHeartbeats, parseJson } from "./_common.ts";

const REST = "https://dapi.binance.com";

/**
 * Binance COIN-M adapter: depth diffs synced under the futures rule, aggTrades
 * and `forceOrder` liquidations. Quantities are contracts worth
 * `contractSize` USD each (100 for BTC, 10 for the others), converted to base
 * as contracts × contractSize / price; `rawSize` keeps the contracts.
 */
export const binanceDeliveryAdapter: Adapter = {
  id: "binance-delivery",
  docs:
    "https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams",
  restOrigin: REST,
  metadataUrls: [`${REST}/dapi/v1/exchangeInfo`],
  instruments(bodies: readonly string[]): Instrument[] {
    const info = parseJson<ExchangeInfo>(bodies[0], "exchangeInfo");
    if (!Array.isArray(info?.symbols)) {
      throw new MalformedFrameError(
        `exchangeInfo without symbols: ${bodies[0].slice(0, 80)}`,
      );
    }
    const out: Instrument[] = [];
    for (const s of info.symbols) {
      // Every COIN-M contract is inverse: a fixed USD value per contract.
      if (!(s.contractSize > 0)) {
        throw new MalformedFrameError(
          `Bad contractSize ${s.contractSize} for ${s.symbol}`,
        );
      }
      // BTCUSD_PERP is PERPETUAL; BTCUSD_231229 is CURRENT_QUARTER or
      // NEXT_QUARTER (…_DELIVERING while it settles) with its deliveryDate.
      const perpetual = s.contractType === "PERPETUAL";
      out.push({
        exchange: "binance-delivery",
        exchangeSymbol: s.symbol,
        symbol: `${s.baseAsset}-${s.quoteAsset}`,
        base: s.baseAsset,
        quote: s.quoteAsset,
        market: perpetual ? "perpetual" : "future",
        contractSize: s.contractSize,
        inverse: true,
        ...(perpetual ? {} : { expiry: s.deliveryDate }),
      });
    }
    return out;
  },
  url: (symbols) =>
    binanceStreamUrl(
      "wss://dstream.binance.com",
      ["depth@100ms", "aggTrade", "forceOrder"],
      symbols,
    ),
  // Streams are named in the URL; nothing to send.
  subscribe: () => [],
  // Binance pings with WebSocket control frames: no heartbeat frames.
  isHeartbeat: noHeartbeats,
  // Binance closes every connection after 24 h.
  maxConnectionAgeMs: 23 * 3600_000,
  // At most 200 streams per connection; three per symbol.
  maxSymbolsPerConnection: 66,
  parser: (instruments) => binanceParser("binance-delivery", instruments),
  book: {
    // As USD-M: first diff U <= lastUpdateId <= u, or pu == lastUpdateId;
    // then pu == previous u.
    sync: { kind: "rest", link: "prev", align: 0 },
    snapshotUrl: (symbol) =>
      `${REST}/dapi/v1/depth?symbol=${symbol}&limit=1000`,
    parseSnapshot: (body, recvTs, inst) =>
      binanceSnapshot("binance-delivery", body, recvTs, inst),
  },
};

// ---- raw frame types ----

interface ExchangeInfo {
  symbols: {
    symbol: string;
    pair: string;
    /** PERPETUAL, CURRENT_QUARTER, NEXT_QUARTER (…_DELIVERING while settling). */
    contractType: string;
    deliveryDate: number;
    baseAsset: string;
    quoteAsset: string;
    marginAsset: string;
    /** USD per contract. */
    contractSize: number;
  }[];
}
