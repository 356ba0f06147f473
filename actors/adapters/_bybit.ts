/**
 * Frame parsing shared by the Bybit v5 adapters (`bybit` derivatives and
 * `bybit-spot`), and the linear/inverse split the v2 adapter also uses.
 * Order book: https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
 * Trades: https://bybit-exchange.github.io/docs/v5/websocket/public/trade
 * Liquidations: https://bybit-exchange.github.io/docs/v5/websocket/public/all-liquidation
 * Instruments: https://bybit-exchange.github.io/docs/v5/market/instrument
 *
 * @module
 */

import type { Instrument, MarketEvent } from "../market/events.ts";
import {
  type ColumnarDelta,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
  reusedDelta,
} from "./adapter.ts";
import {
  amountError,
  baseLevels,
  frameText,
  MAX_SIZE,
  parseJson,
  parseObject,
  priceValue,
  sequenceValue,
  shortTextIncludes,
  sideValue,
  sizeValue,
  timeValue,
  toBase,
  venueError,
} from "./_common.ts";
import { toBaseSide } from "./_scan.ts";
import { BybitBookScanner } from "./bybit_scan.ts";

/** Bybit v5 REST origin. */
export const BYBIT_REST = "https://api.bybit.com";

/** Bybit caps one `subscribe` request at 10 topics on spot; we chunk everywhere. */
const ARGS_PER_FRAME = 10;

/**
 * Which Bybit derivatives endpoint serves a symbol. Inverse contracts are the
 * ones quoted in USD (`BTCUSD`, `BTCUSDH25`, selector `BTC-USD…`); everything
 * else (USDT and USDC perpetuals and futures: `BTCUSDT`, `BTCPERP`,
 * `BTC-27JUN25`) is linear. Works on both configured selectors and exchange
 * symbols, so the connection group chosen before the instruments are known
 * and the URL chosen after agree.
 * @param symbol a configured selector (`BTC-USD-PERP`) or an exchange symbol (`BTCUSD`).
 * @returns `inverse` or `linear`.
 * @example
 * ```ts
 * bybitCategory("BTC-USD-PERP"); // "inverse"
 * bybitCategory("BTCUSDT"); // "linear"
 * ```
 */
export function bybitCategory(symbol: string): "linear" | "inverse" {
  const s = symbol.toUpperCase();
  const dash = s.indexOf("-");
  if (dash > 0) {
    // Selector BASE-QUOTE[-PERP|-YYMMDD]; Bybit's own dashed names
    // (BTC-27JUN25, BTCUSDT-27JUN25) are linear and never have quote USD.
    const rest = s.slice(dash + 1);
    const end = rest.indexOf("-");
    return (end < 0 ? rest : rest.slice(0, end)) === "USD"
      ? "inverse"
      : "linear";
  }
  // Inverse perpetual BTCUSD or inverse future BTCUSD + month code + year.
  return /USD([FGHJKMNQUVXZ]\d\d)?$/.test(s) ? "inverse" : "linear";
}

/**
 * `{"op":"subscribe"}` frames for `topics` of every symbol, at most 10
 * topics per frame.
 * @param symbols exchange symbols.
 * @param channels topic prefixes, e.g. `["orderbook.200", "publicTrade"]`.
 * @returns the frames to send.
 * @example
 * ```ts
 * bybitSubscribe(["BTCUSDT"], ["publicTrade"]); // ['{"op":"subscribe","args":["publicTrade.BTCUSDT"]}']
 * ```
 */
export function bybitSubscribe(
  symbols: readonly string[],
  channels: readonly string[],
): string[] {
  const args: string[] = [];
  for (const s of symbols) for (const c of channels) args.push(`${c}.${s}`);
  const frames: string[] = [];
  for (let i = 0; i < args.length; i += ARGS_PER_FRAME) {
    frames.push(
      JSON.stringify({
        op: "subscribe",
        args: args.slice(i, i + ARGS_PER_FRAME),
      }),
    );
  }
  return frames;
}

/**
 * Reads `GET /v5/market/instruments-info` bodies (any category). Linear
 * contracts are sized in base (contract size 1); inverse contracts in USD, 1
 * USD each; spot in base.
 * @param exchange exchange id stamped on the instruments.
 * @param bodies response bodies.
 * @returns the instruments.
 * @throws {MalformedFrameError} when a body is not JSON or has no `result.list`.
 * @example
 * ```ts
 * bybitV5Instruments("bybit", [body]); // [{ exchangeSymbol: "BTCUSDT", market: "perpetual", … }]
 * ```
 */
export function bybitV5Instruments(
  exchange: string,
  bodies: readonly string[],
): Instrument[] {
  const out: Instrument[] = [];
  for (const body of bodies) {
    const r = parseJson<V5InstrumentsResponse>(body, "instruments-info");
    const list = r?.result?.list;
    if (!Array.isArray(list)) {
      throw new MalformedFrameError(
        `instruments-info without result.list: ${body.slice(0, 80)}`,
      );
    }
    for (const s of list) {
      // Spot entries carry no contractType.
      const ct = s.contractType ?? "";
      const future = ct.endsWith("Futures");
      out.push({
        exchange,
        exchangeSymbol: s.symbol,
        symbol: `${s.baseCoin}-${s.quoteCoin}`,
        base: s.baseCoin,
        quote: s.quoteCoin,
        market: ct === "" ? "spot" : future ? "future" : "perpetual",
        contractSize: 1,
        ...(ct.startsWith("Inverse") ? { inverse: true } : {}),
        ...(future ? { expiry: +s.deliveryTime! } : {}),
      });
    }
  }
  return out;
}

/**
 * A parser for Bybit v5 public frames: `orderbook.{depth}.{symbol}`
 * snapshots and deltas, `publicTrade.{symbol}`, `allLiquidation.{symbol}` and
 * the older `liquidation.{symbol}`. Subscription acks, pongs and other topics
 * (tickers, kline) yield nothing.
 * @param exchange exchange id stamped on events.
 * @param instruments instruments keyed by exchange symbol.
 * @returns the parser.
 * @throws {never} building the parser does not throw; `parse` throws
 *   {@link MalformedFrameError} for unreadable frames and {@link VenueError}
 *   for rejected requests.
 * @example
 * ```ts
 * const p = bybitV5Parser("bybit", table);
 * p.parse('{"topic":"publicTrade.BTCUSDT","data":[…]}', Date.now());
 * ```
 */
export function bybitV5Parser(
  exchange: string,
  instruments: InstrumentTable,
): Parser {
  const scanner = new BybitBookScanner();
  const delta = reusedDelta(scanner.bids, scanner.asks);
  return {
    // The delta case of `book`, read by the scanner: the same instrument
    // lookup, times, update id and levels (see `baseLevels`). Snapshots, and
    // deltas with u = 1 (full books), go to `parse`.
    scanBook(frame: string | Uint8Array, recvTs: number): ColumnarDelta | null {
      if (
        typeof frame !== "string" || !scanner.scan(frame) ||
        scanner.snapshot || scanner.update === 1
      ) return null;
      const inst = instruments.get(scanner.symbol);
      if (inst === undefined) return null;
      if (
        (inst.contractSize !== 1 || inst.inverse === true) &&
        !(toBaseSide(scanner.bids, inst) && toBaseSide(scanner.asks, inst))
      ) return null;
      delta.inst = inst;
      delta.exchangeTs = timeValue(scanner.cts, timeValue(scanner.ts, recvTs));
      delta.localTs = recvTs;
      delta.first = delta.last = scanner.update;
      return delta;
    },
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      const text = frameText(frame);
      const msg = parseObject<V5Frame>(text);
      const topic = msg.topic;
      if (typeof topic !== "string") {
        // Op replies: {"success":true,"op":"subscribe"}, the public pong
        // {"success":true,"ret_msg":"pong","op":"ping"}, the private-style
        // pong {"op":"pong"}. A rejected request is `success: false` with
        // the reason in `ret_msg`
        // (https://bybit-exchange.github.io/docs/v5/ws/connect, "Understanding
        // the Subscription Response"); it names no topic.
        if (msg.success === false) {
          throw venueError(text, { message: msg.ret_msg });
        }
        return [];
      }
      const channel = topic.slice(0, topic.indexOf("."));
      switch (channel) {
        case "orderbook":
          return book(msg as V5BookFrame, text, recvTs);
        case "publicTrade":
          return trades(msg as V5TradeFrame, recvTs);
        case "allLiquidation":
          return allLiquidations(msg as V5AllLiquidationFrame, recvTs);
        case "liquidation":
          return liquidation(msg as V5LiquidationFrame, recvTs);
        default:
          return []; // tickers, kline, …
      }
    },
  };

  function book(msg: V5BookFrame, text: string, recvTs: number): MarketEvent[] {
    const d = msg.data;
    const inst = d && instruments.get(d.s);
    if (!inst) return [];
    const u = sequenceValue(d.u);
    if (u !== u) {
      throw new MalformedFrameError(
        `Book of ${d.s} with bad u ${d.u}: ${text.slice(0, 80)}`,
        d.s,
      );
    }
    const base = {
      exchange,
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      // cts is the matching engine's time (comparable with trades' T); ts
      // the time the feed generated the message.
      exchangeTs: timeValue(msg.cts, timeValue(msg.ts, recvTs)),
      localTs: recvTs,
      bids: baseLevels(d.b, inst),
      asks: baseLevels(d.a, inst),
      contractSize: inst.contractSize,
      ...(inst.inverse ? { inverse: true } : {}),
    };
    if (msg.type !== "snapshot" && msg.type !== "delta") {
      throw new MalformedFrameError(
        `Bad book type ${JSON.stringify(msg.type)} of ${d.s}`,
        d.s,
      );
    }
    // u = 1 means the book service restarted: the message is a full book,
    // whatever its type says, and overwrites the local one.
    if (msg.type === "snapshot" || u === 1) {
      return [{ type: "book_snapshot", ...base, sequence: u }];
    }
    // Deltas number each message: u is the previous message's u + 1.
    return [{ type: "book_delta", ...base, first: u, last: u, prev: -1 }];
  }

  function trades(msg: V5TradeFrame, recvTs: number): MarketEvent[] {
    const data = msg.data;
    if (!Array.isArray(data)) {
      throw new MalformedFrameError(`publicTrade without data: ${msg.topic}`);
    }
    const out: MarketEvent[] = [];
    for (let i = 0; i < data.length; i++) {
      const t = data[i];
      const inst = t && instruments.get(t.s);
      if (!inst) continue;
      const price = priceValue(t.p);
      const raw = sizeValue(t.v);
      const size = toBase(raw, price, inst);
      if (!(size <= MAX_SIZE) || price !== price) {
        throw amountError("trade", t.p, t.v, { symbol: t.s, inst });
      }
      // S is the taker's side.
      const side = sideValue(t.S, { buy: "Buy", sell: "Sell" });
      if (side === undefined) {
        throw new MalformedFrameError(
          `Bad trade side ${JSON.stringify(t.S)} of ${t.s}`,
        );
      }
      out.push({
        type: "trade",
        exchange,
        exchangeSymbol: inst.exchangeSymbol,
        symbol: inst.symbol,
        market: inst.market,
        exchangeTs: timeValue(t.T, recvTs),
        localTs: recvTs,
        id: String(t.i),
        price,
        size,
        rawSize: raw,
        side,
      });
    }
    return out;
  }

  function allLiquidations(
    msg: V5AllLiquidationFrame,
    recvTs: number,
  ): MarketEvent[] {
    const data = msg.data;
    if (!Array.isArray(data)) {
      throw new MalformedFrameError(
        `allLiquidation without data: ${msg.topic}`,
      );
    }
    const out: MarketEvent[] = [];
    for (let i = 0; i < data.length; i++) {
      const l = data[i];
      if (l === null || typeof l !== "object") {
        throw new MalformedFrameError(`Bad allLiquidation entry ${l}`);
      }
      const ev = liq(l.s, l.S, l.p, l.v, l.T, recvTs);
      if (ev) out.push(ev);
    }
    return out;
  }

  // The `liquidation` topic, replaced by allLiquidation in February 2025.
  function liquidation(msg: V5LiquidationFrame, recvTs: number): MarketEvent[] {
    const d = msg.data;
    if (!d || typeof d !== "object") {
      throw new MalformedFrameError(`liquidation without data: ${msg.topic}`);
    }
    const ev = liq(d.symbol, d.side, d.price, d.size, d.updatedTime, recvTs);
    return ev ? [ev] : [];
  }

  function liq(
    symbol: string,
    positionSide: string,
    p: string,
    v: string,
    ts: number,
    recvTs: number,
  ): MarketEvent | null {
    const inst = instruments.get(symbol);
    if (!inst) return null;
    const price = priceValue(p);
    const raw = sizeValue(v);
    const size = toBase(raw, price, inst);
    if (!(size <= MAX_SIZE) || price !== price) {
      throw amountError("liquidation", p, v, { symbol, inst });
    }
    // Bybit names the liquidated position: "Buy" means a long was
    // liquidated, i.e. the liquidation order sells.
    const side = sideValue(positionSide, { buy: "Sell", sell: "Buy" });
    if (side === undefined) {
      throw new MalformedFrameError(
        `Bad liquidation side ${JSON.stringify(positionSide)} of ${symbol}`,
      );
    }
    return {
      type: "liquidation",
      exchange,
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs: timeValue(ts, recvTs),
      localTs: recvTs,
      price,
      size,
      rawSize: raw,
      side,
    };
  }
}

/**
 * Whether a Bybit frame is a pong: the public reply
 * `{"success":true,"ret_msg":"pong","conn_id":…,"req_id":"","op":"ping"}`
 * (v5, https://bybit-exchange.github.io/docs/v5/ws/connect "How to Send the
 * Heartbeat Packet"; v2 has `"request":{"op":"ping"}` instead of `op`), or
 * the private-style `{"req_id":…,"op":"pong","args":[…],"conn_id":…}`.
 * Bybit sends nothing else unasked between data frames.
 * @param frame a received frame.
 * @returns true for a pong.
 * @example
 * ```ts
 * bybitIsHeartbeat('{"success":true,"ret_msg":"pong","conn_id":"x","req_id":"","op":"ping"}'); // true
 * ```
 */
export function bybitIsHeartbeat(frame: string | Uint8Array): boolean {
  return shortTextIncludes(frame, '"ret_msg":"pong"') ||
    shortTextIncludes(frame, '"op":"pong"');
}

// ---- raw frame types ----

interface V5Frame {
  topic?: string;
  type?: "snapshot" | "delta";
  ts?: number;
  op?: string;
  success?: boolean;
  ret_msg?: string;
}

interface V5BookFrame extends V5Frame {
  cts?: number;
  data: {
    s: string;
    b: [string, string][];
    a: [string, string][];
    u: number;
    seq: number;
  };
}

interface V5TradeFrame extends V5Frame {
  data: {
    T: number;
    s: string;
    S: "Buy" | "Sell";
    v: string;
    p: string;
    i: string;
    BT?: boolean;
  }[];
}

interface V5AllLiquidationFrame extends V5Frame {
  data: { T: number; s: string; S: "Buy" | "Sell"; v: string; p: string }[];
}

interface V5LiquidationFrame extends V5Frame {
  data: {
    updatedTime: number;
    symbol: string;
    side: "Buy" | "Sell";
    size: string;
    price: string;
  };
}

interface V5InstrumentsResponse {
  retCode: number;
  result: {
    category: string;
    list: {
      symbol: string;
      contractType?: string;
      status: string;
      baseCoin: string;
      quoteCoin: string;
      deliveryTime?: string;
    }[];
    nextPageCursor?: string;
  };
}
