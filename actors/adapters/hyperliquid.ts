/**
 * Hyperliquid perpetuals and spot.
 * Docs: https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions
 * Metadata: https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/perpetuals
 *
 * No liquidations: the public `trades` feed does not mark them, and the
 * `liquidation` field exists only on a user's own fills (`userFills`).
 *
 * @module
 */

import type { Instrument, Levels, MarketEvent } from "../market/events.ts";
import {
  type Adapter,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
} from "./adapter.ts";
import {
  amountError,
  frameText,
  parseJson,
  parseObject,
  priceValue,
  sideValue,
  sizeValue,
  textStartsWith,
  timeValue,
  venueError,
} from "./_common.ts";

const REST = "https://api.hyperliquid.xyz";

/**
 * Hyperliquid adapter: `l2Book` (a full 20-level book in every message) and
 * `trades`, for perpetuals (coin `BTC`) and spot pairs (coin `PURR/USDC` or
 * `@107`).
 */
export const hyperliquidAdapter: Adapter = {
  id: "hyperliquid",
  docs:
    "https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions",
  restOrigin: REST,
  // The info endpoint is POST-only: perpetuals, then spot.
  metadataUrls: [`${REST}/info`, `${REST}/info`],
  metadataBodies: ['{"type":"meta"}', '{"type":"spotMeta"}'],
  instruments(bodies: readonly string[]): Instrument[] {
    const meta = parseJson<PerpMeta>(bodies[0], "meta");
    const spot = parseJson<SpotMeta>(bodies[1], "spotMeta");
    if (!Array.isArray(meta?.universe) || !Array.isArray(spot?.universe)) {
      throw new MalformedFrameError(
        `meta/spotMeta without universe: ${bodies[0].slice(0, 80)}`,
      );
    }
    const out: Instrument[] = [];
    for (const a of meta.universe) {
      if (a.isDelisted) continue;
      // Perpetuals are margined, priced and settled in USDC; sz is in coins.
      out.push({
        exchange: "hyperliquid",
        exchangeSymbol: a.name,
        symbol: `${a.name}-USDC`,
        base: a.name,
        quote: "USDC",
        market: "perpetual",
        contractSize: 1,
      });
    }
    const tokens = new Map<number, string>();
    for (const t of spot.tokens ?? []) tokens.set(t.index, t.name);
    for (const p of spot.universe) {
      const base = tokens.get(p.tokens[0]);
      const quote = tokens.get(p.tokens[1]);
      if (base === undefined || quote === undefined) continue;
      // A spot pair's coin is its name: "PURR/USDC" for the first ones,
      // "@<index>" for the rest.
      out.push({
        exchange: "hyperliquid",
        exchangeSymbol: p.name,
        symbol: `${base}-${quote}`,
        base,
        quote,
        market: "spot",
        contractSize: 1,
      });
    }
    return out;
  },
  url: () => "wss://api.hyperliquid.xyz/ws",
  subscribe(symbols) {
    const frames: string[] = [];
    for (const coin of symbols) {
      for (const type of ["l2Book", "trades"]) {
        frames.push(
          JSON.stringify({ method: "subscribe", subscription: { type, coin } }),
        );
      }
    }
    return frames;
  },
  // The server closes a connection it has heard nothing from for 60 s.
  keepalive: { frame: '{"method":"ping"}', intervalMs: 30_000 },
  // The answer to that ping, `{"channel":"pong"}`
  // (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket,
  // "Timeouts and heartbeats"), is the only chatter.
  isHeartbeat: (frame) => textStartsWith(frame, '{"channel":"pong"'),
  parser: (instruments) => hyperliquidParser(instruments),
  book: { sync: { kind: "snapshots" } },
};

/** A parser for `l2Book` and `trades` frames; acks and pongs yield nothing. */
function hyperliquidParser(instruments: InstrumentTable): Parser {
  /** Coins whose first `trades` message (the recent-trades backlog) has passed. */
  const live = new Set<string>();
  return {
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      const text = frameText(frame);
      // The server greets every connection with this plain-text line (the
      // python SDK's websocket_manager skips it too).
      if (text === "Websocket connection established.") return [];
      const msg = parseObject<HlFrame>(text);
      switch (msg.channel) {
        case "l2Book":
          return book(msg.data as HlBook, text, recvTs);
        case "trades":
          return trades(msg.data as HlTrade[], text, recvTs);
        case "error":
          // A refused request: `{"channel":"error","data":"Invalid
          // subscription …"}`, the reason as a string (the docs show no
          // error frame; tardis-node's realtime feed reads this one).
          throw venueError(text, { message: msg.data });
        default:
          return []; // subscriptionResponse, pong, bbo, activeAssetCtx, …
      }
    },
  };

  function book(d: HlBook, text: string, recvTs: number): MarketEvent[] {
    const inst = d && instruments.get(d.coin);
    if (!inst) return [];
    const sym = inst.exchangeSymbol;
    if (!Array.isArray(d.levels) || d.levels.length !== 2) {
      throw new MalformedFrameError(
        `Bad l2Book levels of ${sym}: ${text.slice(0, 80)}`,
        sym,
      );
    }
    return [{
      type: "book_snapshot",
      exchange: "hyperliquid",
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs: timeValue(d.time, recvTs),
      localTs: recvTs,
      // Nothing numbers the books: each message is the whole book.
      sequence: -1,
      bids: levels(d.levels[0], sym),
      asks: levels(d.levels[1], sym),
      contractSize: 1,
    }];
  }

  function trades(
    data: HlTrade[],
    text: string,
    recvTs: number,
  ): MarketEvent[] {
    if (!Array.isArray(data)) {
      throw new MalformedFrameError(
        `trades without data: ${text.slice(0, 80)}`,
      );
    }
    if (data.length === 0) return [];
    // Subscribing first replays the coin's recent trades; tardis-node skips
    // that message too. Live trades follow.
    const coin = data[0]?.coin;
    if (!live.has(coin)) {
      live.add(coin);
      return [];
    }
    const out: MarketEvent[] = [];
    for (let i = 0; i < data.length; i++) {
      const t = data[i];
      const inst = t && instruments.get(t.coin);
      if (!inst) continue;
      const price = priceValue(t.px);
      const size = sizeValue(t.sz);
      if (price !== price || size !== size) {
        throw amountError("trade", t.px, t.sz, { symbol: t.coin });
      }
      // side is the aggressor's: B(id) buys, A(sk) sells.
      const side = sideValue(t.side, { buy: "B", sell: "A" });
      if (side === undefined) {
        throw new MalformedFrameError(
          `Bad trade side ${JSON.stringify(t.side)} of ${t.coin}`,
        );
      }
      out.push({
        type: "trade",
        exchange: "hyperliquid",
        exchangeSymbol: inst.exchangeSymbol,
        symbol: inst.symbol,
        market: inst.market,
        exchangeTs: timeValue(t.time, recvTs),
        localTs: recvTs,
        id: String(t.tid),
        price,
        size,
        rawSize: size,
        side,
      });
    }
    return out;
  }
}

/**
 * `[{px, sz, n}, …]` of `sym` → flat `[price, size, …]`.
 * @throws {MalformedFrameError} carrying `sym` for a level that is not an
 *   object with a price and a size.
 */
function levels(raw: HlLevel[], sym: string): Levels {
  if (!Array.isArray(raw)) {
    throw new MalformedFrameError(
      `Levels of ${sym} are not an array: ${raw}`,
      sym,
    );
  }
  const out: Levels = new Array(raw.length * 2);
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i];
    if (l === null || typeof l !== "object") {
      throw new MalformedFrameError(
        `Bad level ${l} at index ${i} of ${sym}`,
        sym,
      );
    }
    const p = priceValue(l.px);
    const s = sizeValue(l.sz);
    if (p !== p || s !== s) {
      throw amountError("level", l.px, l.sz, {
        symbol: sym,
        book: true,
        at: i,
      });
    }
    out[2 * i] = p;
    out[2 * i + 1] = s;
  }
  return out;
}

// ---- raw frame types ----

interface HlFrame {
  channel: string;
  data: unknown;
}

interface HlLevel {
  px: string;
  sz: string;
  n: number;
}

interface HlBook {
  coin: string;
  time: number;
  levels: [HlLevel[], HlLevel[]];
}

interface HlTrade {
  coin: string;
  side: "A" | "B";
  px: string;
  sz: string;
  hash: string;
  time: number;
  tid: number;
  users?: [string, string];
}

interface PerpMeta {
  universe: {
    name: string;
    szDecimals: number;
    maxLeverage?: number;
    isDelisted?: boolean;
  }[];
}

interface SpotMeta {
  universe: {
    name: string;
    tokens: [number, number];
    index: number;
    isCanonical?: boolean;
  }[];
  tokens: { name: string; index: number; szDecimals: number }[];
}
