/**
 * Binance spot.
 * Docs: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 * Book sync: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly
 *
 * @module
 */

import type { Instrument } from "../../runtime/events.ts";
import type { Adapter } from "./adapter.ts";
import {
  binanceParser,
  binanceSnapshot,
  binanceStreamUrl,
  parseJson,
} from "./_binance.ts";

const REST = "https://api.binance.com";

/** Binance spot adapter: 100 ms depth diffs synced to the REST snapshot, and aggTrades. */
export const binanceAdapter: Adapter = {
  id: "binance",
  docs:
    "https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams",
  restOrigin: REST,
  metadataUrls: [`${REST}/api/v3/exchangeInfo`],
  instruments(bodies: readonly string[]): Instrument[] {
    const info = parseJson<ExchangeInfo>(bodies[0], "exchangeInfo");
    return info.symbols.map((s) => ({
      exchange: "binance",
      exchangeSymbol: s.symbol,
      symbol: `${s.baseAsset}-${s.quoteAsset}`,
      base: s.baseAsset,
      quote: s.quoteAsset,
      market: "spot",
      contractSize: 1,
    }));
  },
  url: (symbols) =>
    binanceStreamUrl("wss://stream.binance.com:9443", [
      "depth@100ms",
      "aggTrade",
    ], symbols),
  // Streams are named in the URL; nothing to send.
  subscribe: () => [],
  // Binance closes every connection after 24 h.
  maxConnectionAgeMs: 23 * 3600_000,
  parser: (instruments) => binanceParser("binance", instruments),
  book: {
    // First diff: U <= lastUpdateId + 1 <= u; then U == previous u + 1.
    sync: { kind: "rest", link: "next", align: 1 },
    snapshotUrl: (symbol) => `${REST}/api/v3/depth?symbol=${symbol}&limit=1000`,
    parseSnapshot: (body, recvTs, inst) =>
      binanceSnapshot("binance", body, recvTs, inst),
  },
};

// ---- raw frame types ----

interface ExchangeInfo {
  symbols: { symbol: string; baseAsset: string; quoteAsset: string }[];
}
