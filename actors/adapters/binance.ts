/**
 * Binance spot.
 * Docs: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 * Book sync: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly
 *
 * @module
 */

import type { Adapter } from "./adapter.ts";
import { binanceSpotAdapter } from "./_binance.ts";

/** Binance spot adapter: 100 ms depth diffs synced to the REST snapshot, and aggTrades. */
export const binanceAdapter: Adapter = binanceSpotAdapter({
  id: "binance",
  docs:
    "https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams",
  rest: "https://api.binance.com",
  ws: "wss://stream.binance.com:9443",
});
