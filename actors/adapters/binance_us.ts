/**
 * Binance.US spot.
 * Docs: https://docs.binance.us/ (WebSocket Streams; "How to manage a local
 * order book correctly": the Binance spot rule).
 *
 * Binance.US runs Binance's spot engine and API under its own hosts: the
 * frames, the `/api/v3` REST shapes and the book rule are Binance spot's, so
 * the adapter is the shared spot adapter with Binance.US origins.
 *
 * @module
 */

import type { Adapter } from "./adapter.ts";
import { binanceSpotAdapter } from "./_binance.ts";

/** Binance.US adapter: 100 ms depth diffs synced to the REST snapshot, and aggTrades. */
export const binanceUsAdapter: Adapter = binanceSpotAdapter({
  id: "binance-us",
  docs: "https://docs.binance.us/",
  rest: "https://api.binance.us",
  ws: "wss://stream.binance.us:9443",
});
