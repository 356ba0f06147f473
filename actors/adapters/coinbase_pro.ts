/**
 * Coinbase Pro, the retired feed (`wss://ws-feed.pro.coinbase.com`) spoken by
 * the 2021 cryptofeed capture: `level2` snapshot + `l2update`, `matches`
 * trades. The same protocol lives on as the Coinbase Exchange feed.
 * Docs: https://docs.cdp.coinbase.com/exchange/websocket-feed/channels
 * (formerly https://docs.pro.coinbase.com/#websocket-feed).
 *
 * @module
 */

import type { Instrument, Levels, MarketEvent } from "../market/events.ts";
import {
  type Adapter,
  type ColumnarDelta,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
  reusedDelta,
} from "./adapter.ts";
import { isoMs, jsonFrame, takerSide } from "./_coinbase.ts";
import { CoinbaseL2Scanner } from "./coinbase_scan.ts";
import {
  amountError,
  parseJson,
  priceValue,
  sizeValue,
  textStartsWith,
  venueError,
} from "./_common.ts";

const REST = "https://api.pro.coinbase.com";
const EXCHANGE = "coinbase";

/**
 * Coinbase Pro adapter (retired API): `level2` books synced from the snapshot
 * the venue sends on subscribing, and `matches` trades.
 */
export const coinbaseProAdapter: Adapter = {
  id: EXCHANGE,
  docs: "https://docs.cdp.coinbase.com/exchange/websocket-feed/channels",
  // The last day read as Pro: 2022-12-31 (UTC, end of day). Coinbase wound
  // the Pro platform down in the second half of 2022, moving its users to
  // Advanced Trade, whose own WebSocket (coinbase.ts) was serving by early
  // 2023 (the oldest examples in Coinbase's and ccxt's docs date from
  // 2023-02). The 2021-04-17 capture falls well inside.
  until: Date.UTC(2023, 0, 1) - 1,
  restOrigin: REST,
  metadataUrls: [`${REST}/products`],
  instruments(bodies: readonly string[]): Instrument[] {
    const products = parseJson<ProProduct[]>(bodies[0], "Products body");
    if (!Array.isArray(products)) {
      throw new MalformedFrameError(
        `Products body is not an array: ${bodies[0].slice(0, 80)}`,
      );
    }
    const out: Instrument[] = [];
    for (const p of products) {
      out.push({
        exchange: EXCHANGE,
        exchangeSymbol: p.id,
        symbol: `${p.base_currency}-${p.quote_currency}`,
        base: p.base_currency,
        quote: p.quote_currency,
        market: "spot",
        contractSize: 1,
      });
    }
    return out;
  },
  // The Pro feed, still served as Coinbase Exchange on ws-feed.exchange.
  speaks: (url) =>
    /^ws-feed\.(pro|exchange)\.coinbase\.com$/.test(new URL(url).hostname),
  url: () => "wss://ws-feed.pro.coinbase.com",
  // `heartbeat` sends one frame per product per second, so quiet books do not
  // trip the silence watchdog.
  subscribe: (symbols) => [
    JSON.stringify({
      type: "subscribe",
      product_ids: symbols,
      channels: ["level2", "matches", "heartbeat"],
    }),
  ],
  // The `heartbeat` channel: `{"type":"heartbeat","sequence":…,
  // "last_trade_id":…,"product_id":…,"time":…}` per product per second
  // (https://docs.cdp.coinbase.com/exchange/websocket-feed/channels, "Heartbeat
  // Channel").
  // Not life: it keeps coming while level2 and matches are silent.
  isHeartbeat: (frame) => textStartsWith(frame, '{"type":"heartbeat"'),
  parser: (instruments) => proParser(instruments),
  book: {
    // Subscribing to `level2` sends a snapshot, then `l2update`s that carry
    // no sequence number: nothing to link (the ticker's and matches'
    // `sequence` are per product and skip over book changes).
    sync: { kind: "stream", link: "none" },
    // Re-subscribing to `level2` alone makes the venue send a fresh snapshot.
    resubscribe: (symbol) => [
      JSON.stringify({
        type: "unsubscribe",
        product_ids: [symbol],
        channels: ["level2"],
      }),
      JSON.stringify({
        type: "subscribe",
        product_ids: [symbol],
        channels: ["level2"],
      }),
    ],
  },
};

/**
 * A parser for Pro frames: `snapshot`, `l2update`, `match`; `scanBook`
 * reads `l2update`s with {@link CoinbaseL2Scanner}.
 */
function proParser(instruments: InstrumentTable): Parser {
  const scanner = new CoinbaseL2Scanner();
  const delta = reusedDelta(scanner.bids, scanner.asks);
  // l2updates carry no sequence (see `book.sync`).
  delta.first = delta.last = -1;
  return {
    // The `l2update` case of `parse`, read by the scanner: the same
    // instrument lookup, time and levels (sizes as sent: Pro is spot).
    scanBook(frame: string | Uint8Array, recvTs: number): ColumnarDelta | null {
      if (typeof frame !== "string" || !scanner.scan(frame)) return null;
      const inst = instruments.get(scanner.productId);
      if (inst === undefined) return null;
      delta.inst = inst;
      // `isoMs`'s rule: an absent, unreadable or non-positive time falls
      // back to the receive time.
      const t = scanner.time;
      delta.exchangeTs = t > 0 ? t : recvTs;
      delta.localTs = recvTs;
      return delta;
    },
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      const msg = jsonFrame<ProFrame>(frame);
      switch (msg.type) {
        case "snapshot":
        case "l2update":
        case "match":
          break;
        case "error":
          // A rejected request: `{"type":"error","message":"Failed to
          // subscribe","reason":"X-Y is not a valid product"}`
          // (https://docs.cdp.coinbase.com/exchange/websocket-feed, "Protocol"):
          // the reason says what was wrong.
          throw venueError(frame as string, {
            message: msg.reason ? `${msg.message}: ${msg.reason}` : msg.message,
          });
        // `last_match` is the product's latest trade from before we
        // subscribed, re-sent on every (re)connect: emitting it would count
        // an old trade again. `subscriptions`, `heartbeat` and `ticker`
        // carry nothing we normalize.
        default:
          return [];
      }
      const inst = instruments.get(msg.product_id!);
      if (inst === undefined) return [];
      const base = {
        exchange: EXCHANGE,
        exchangeSymbol: inst.exchangeSymbol,
        symbol: inst.symbol,
        market: inst.market,
      };
      if (msg.type === "snapshot") {
        return [{
          type: "book_snapshot",
          ...base,
          // 2021 snapshots carry no time.
          exchangeTs: isoMs(msg.time, recvTs),
          localTs: recvTs,
          sequence: -1,
          bids: snapshotLevels(msg.bids, inst.exchangeSymbol),
          asks: snapshotLevels(msg.asks, inst.exchangeSymbol),
          contractSize: 1,
        }];
      }
      if (msg.type === "l2update") {
        const changes = msg.changes;
        const sym = inst.exchangeSymbol;
        if (!Array.isArray(changes)) {
          throw new MalformedFrameError(
            `Missing changes in l2update of ${sym}: ${
              (frame as string).slice(0, 80)
            }`,
            sym,
          );
        }
        let nb = 0;
        for (let i = 0; i < changes.length; i++) {
          const c = changes[i];
          if (!Array.isArray(c)) {
            throw new MalformedFrameError(
              `Bad l2update change ${c} at index ${i} of ${sym}`,
              sym,
            );
          }
          if (c[0] === "buy") nb++;
        }
        const bids: Levels = new Array(2 * nb);
        const asks: Levels = new Array(2 * (changes.length - nb));
        let b = 0;
        let a = 0;
        for (let i = 0; i < changes.length; i++) {
          const c = changes[i];
          const price = priceValue(c[1]);
          const size = sizeValue(c[2]);
          if (price !== price || size !== size) {
            throw amountError("level", c[1], c[2], {
              symbol: sym,
              book: true,
              at: i,
            });
          }
          if (c[0] === "buy") {
            bids[b++] = price;
            bids[b++] = size;
          } else if (c[0] === "sell") {
            asks[a++] = price;
            asks[a++] = size;
          } else {
            throw new MalformedFrameError(
              `Bad l2update side ${JSON.stringify(c[0])} of ${sym}`,
              sym,
            );
          }
        }
        return [{
          type: "book_delta",
          ...base,
          exchangeTs: isoMs(msg.time, recvTs),
          localTs: recvTs,
          first: -1,
          last: -1,
          prev: -1,
          bids,
          asks,
          contractSize: 1,
        }];
      }
      const price = priceValue(msg.price);
      const size = sizeValue(msg.size);
      if (price !== price || size !== size) {
        throw amountError("trade", msg.price, msg.size, {
          symbol: inst.exchangeSymbol,
        });
      }
      return [{
        type: "trade",
        ...base,
        exchangeTs: isoMs(msg.time, recvTs),
        localTs: recvTs,
        id: String(msg.trade_id),
        price,
        size,
        rawSize: size,
        // `side` is the maker order's side.
        side: takerSide(msg.side),
      }];
    },
  };
}

/**
 * Converts snapshot `[["price","size"], …]` (best first) to flat levels,
 * worst first so the book appends each level (it stores the best last).
 * A level whose size is not a size ({@link sizeValue}) is dropped, the one
 * exception to rejecting the frame: tardis-node found sizes like
 * `"0.-10000"` in recorded snapshots and drops them too, and a snapshot is
 * the whole book, so the level is simply absent (no real level is deleted).
 * A bad price still rejects the snapshot.
 */
function snapshotLevels(raw: unknown, sym: string): Levels {
  if (!Array.isArray(raw)) {
    throw new MalformedFrameError(
      `Snapshot side of ${sym} is not an array: ${raw}`,
      sym,
    );
  }
  const out: Levels = [];
  for (let i = raw.length - 1; i >= 0; i--) {
    const l = raw[i];
    const price = Array.isArray(l) ? priceValue(l[0]) : NaN;
    if (price !== price) {
      throw amountError("level", Array.isArray(l) ? l[0] : l, 0, {
        symbol: sym,
        book: true,
        at: i,
      });
    }
    const size = sizeValue(l[1]);
    if (size !== size) continue;
    out.push(price, size);
  }
  return out;
}

// ---- raw frame types ----

interface ProProduct {
  id: string;
  base_currency: string;
  quote_currency: string;
}

/** Every Pro frame we read; `type` discriminates. */
interface ProFrame {
  type: string;
  product_id?: string;
  /** RFC 3339 event time (l2update, match; absent on 2021 snapshots). */
  time?: string;
  /** snapshot: `[price, size]`, best first. */
  bids?: [string, string][];
  asks?: [string, string][];
  /** l2update: `[side, price, new size]`, side `buy` (bid) or `sell` (ask). */
  changes?: ["buy" | "sell", string, string][];
  /** match: the maker order's side. */
  side?: string;
  trade_id?: number;
  price?: string;
  size?: string;
  /** error */
  message?: string;
  reason?: string;
}
