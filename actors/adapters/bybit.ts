/**
 * Bybit v5 derivatives: USDT and USDC perpetuals and futures (linear) and
 * inverse perpetuals and futures.
 * Docs: https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
 * Endpoints: https://bybit-exchange.github.io/docs/v5/ws/connect
 *
 * Why spot is a separate exchange id (`bybit-spot`, as tardis-node does):
 * v5 spot and linear share exchange symbols (`BTCUSDT` is both), while
 * instrument tables, followed books and `url(symbols)` are keyed by exchange
 * symbol alone. Keeping `bybit` to derivatives also makes `BTC-USDT` mean
 * the perpetual here, as it did on the v2 API the captures speak.
 *
 * @module
 */

import type { Instrument } from "../market/events.ts";
import type { Adapter } from "./adapter.ts";
import {
  BYBIT_REST,
  bybitCategory,
  bybitIsHeartbeat,
  bybitSubscribe,
  bybitV5Instruments,
  bybitV5Parser,
} from "./_bybit.ts";

const WS = "wss://stream.bybit.com/v5/public";
/** 200 levels every 100 ms on linear and inverse. */
const BOOK = "orderbook.200";

/**
 * Bybit v5 derivatives adapter: 200-level books snapshotted in-stream and
 * linked by update id, public trades and all liquidations. Linear and
 * inverse contracts live on different endpoints, so each gets its own
 * connection (`connectionGroup`).
 */
export const bybitAdapter: Adapter = {
  id: "bybit",
  docs: "https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook",
  restOrigin: BYBIT_REST,
  // One page of up to 1000 instruments per category; the cursor is not
  // followed (linear lists well under 1000 today).
  metadataUrls: [
    `${BYBIT_REST}/v5/market/instruments-info?category=linear&limit=1000`,
    `${BYBIT_REST}/v5/market/instruments-info?category=inverse&limit=1000`,
  ],
  instruments: (bodies: readonly string[]): Instrument[] =>
    bybitV5Instruments("bybit", bodies),
  connectionGroup: (symbol) => bybitCategory(symbol),
  // v5 derivatives are served on /v5/public/linear and /v5/public/inverse
  // (v2 used /realtime and /realtime_public: bybit_v2.ts).
  speaks: (url) =>
    /^\/v5\/public\/(linear|inverse)\/?$/.test(new URL(url).pathname),
  url(symbols) {
    // Every symbol of a connection is of one category (see connectionGroup).
    return `${WS}/${bybitCategory(symbols[0] ?? "")}`;
  },
  subscribe: (symbols) =>
    bybitSubscribe(symbols, [BOOK, "publicTrade", "allLiquidation"]),
  // Bybit drops a connection without a ping for a while; it asks for one every 20 s.
  keepalive: { frame: '{"op":"ping"}', intervalMs: 20_000 },
  // The pongs answering that ping are the only chatter.
  isHeartbeat: bybitIsHeartbeat,
  parser: (instruments) => bybitV5Parser("bybit", instruments),
  book: {
    // The snapshot comes in-stream after subscribing; each delta's u is the
    // previous u + 1. Levels leaving the subscribed depth get an explicit
    // size-0 delete, so no maxDepth truncation is needed.
    sync: { kind: "stream", link: "next" },
    // Re-subscribing makes Bybit send a fresh snapshot of that book.
    resubscribe: (symbol) => [
      JSON.stringify({ op: "unsubscribe", args: [`${BOOK}.${symbol}`] }),
      JSON.stringify({ op: "subscribe", args: [`${BOOK}.${symbol}`] }),
    ],
  },
};
