/**
 * Binance USD-M futures.
 * Docs: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
 * Book sync: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly
 *
 * @module
 */

import type { Instrument } from "../market/events.ts";
import type { Adapter } from "./adapter.ts";
import {
  binanceParser,
  binanceSnapshot,
  binanceStreamUrl,
} from "./_binance.ts";
import { noHeartbeats, parseJson } from "./_common.ts";

const REST = "https://fapi.binance.com";

/**
 * Binance USD-M adapter: depth diffs synced under the futures rule, aggTrades
 * and `forceOrder` liquidations. Sizes are in base currency already.
 */
export const binanceFuturesAdapter: Adapter = {
  id: "binance-futures",
  docs:
    "https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams",
  restOrigin: REST,
  metadataUrls: [`${REST}/fapi/v1/exchangeInfo`],
  instruments(bodies: readonly string[]): Instrument[] {
    const info = parseJson<ExchangeInfo>(bodies[0], "exchangeInfo");
    return info.symbols.map((s) => {
      const perpetual = s.contractType === "PERPETUAL" || s.contractType === "";
      return {
        exchange: "binance-futures",
        exchangeSymbol: s.symbol,
        symbol: `${s.baseAsset}-${s.quoteAsset}`,
        base: s.baseAsset,
        quote: s.quoteAsset,
        market: perpetual ? "perpetual" : "future",
        contractSize: 1,
        ...(perpetual ? {} : { expiry: s.deliveryDate }),
      };
    });
  },
  url: (symbols) =>
    binanceStreamUrl(
      "wss://fstream.binance.com",
      ["depth@100ms", "aggTrade", "forceOrder"],
      symbols,
    ),
  subscribe: () => [],
  // Binance pings with WebSocket control frames: no heartbeat frames.
  isHeartbeat: noHeartbeats,
  maxConnectionAgeMs: 23 * 3600_000,
  // At most 200 streams per connection; three per symbol.
  maxSymbolsPerConnection: 66,
  parser: (instruments) => binanceParser("binance-futures", instruments),
  book: {
    // First diff: U <= lastUpdateId <= u, or pu == lastUpdateId (the diff
    // right after the snapshot's last update); then pu == previous u.
    sync: { kind: "rest", link: "prev", align: 0 },
    snapshotUrl: (symbol) =>
      `${REST}/fapi/v1/depth?symbol=${symbol}&limit=1000`,
    parseSnapshot: (body, recvTs, inst) =>
      binanceSnapshot("binance-futures", body, recvTs, inst),
  },
};

// ---- raw frame types ----

interface ExchangeInfo {
  symbols: {
    symbol: string;
    baseAsset: string;
    quoteAsset: string;
    contractType: string;
    deliveryDate: number;
  }[];
}
