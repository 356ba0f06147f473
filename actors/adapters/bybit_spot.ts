/**
 * Bybit v5 spot, a separate exchange id because spot and linear share
 * exchange symbols (see `bybit.ts`).
 * Docs: https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
 *
 * @module
 */

import type { Instrument } from "../market/events.ts";
import type { Adapter } from "./adapter.ts";
import {
  BYBIT_REST,
  bybitIsHeartbeat,
  bybitSubscribe,
  bybitV5Instruments,
  bybitV5Parser,
} from "./_bybit.ts";

/** 200 levels every 200 ms on spot. */
const BOOK = "orderbook.200";

/**
 * Bybit v5 spot adapter: 200-level books snapshotted in-stream and linked by
 * update id, and public trades.
 */
export const bybitSpotAdapter: Adapter = {
  id: "bybit-spot",
  docs: "https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook",
  restOrigin: BYBIT_REST,
  // Spot answers every instrument in one page (no limit/cursor).
  metadataUrls: [`${BYBIT_REST}/v5/market/instruments-info?category=spot`],
  instruments: (bodies: readonly string[]): Instrument[] =>
    bybitV5Instruments("bybit-spot", bodies),
  speaks: (url) => /^\/v5\/public\/spot\/?$/.test(new URL(url).pathname),
  url: () => "wss://stream.bybit.com/v5/public/spot",
  // Spot takes at most 10 topics per subscribe request.
  subscribe: (symbols) => bybitSubscribe(symbols, [BOOK, "publicTrade"]),
  keepalive: { frame: '{"op":"ping"}', intervalMs: 20_000 },
  // The pongs answering that ping are the only chatter.
  isHeartbeat: bybitIsHeartbeat,
  parser: (instruments) => bybitV5Parser("bybit-spot", instruments),
  book: {
    sync: { kind: "stream", link: "next" },
    resubscribe: (symbol) => [
      JSON.stringify({ op: "unsubscribe", args: [`${BOOK}.${symbol}`] }),
      JSON.stringify({ op: "subscribe", args: [`${BOOK}.${symbol}`] }),
    ],
  },
};
