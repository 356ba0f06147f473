/**
 * Frame parsing shared by Binance spot, Binance.US and Binance USD-M/COIN-M.
 * Spot: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 * USD-M: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
 *
 * @module
 */

import type {
  BookSnapshot,
  Instrument,
  Levels,
  MarketEvent,
} from "../../runtime/events.ts";
import {
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
} from "./adapter.ts";

/**
 * Converts Binance `[["price","qty"], …]` levels to flat numbers.
 * @param raw the venue's level array.
 * @param contractSize base units per contract (1 for spot and USD-M).
 * @throws {MalformedFrameError} when `raw` is not an array of pairs.
 */
export function binanceLevels(raw: unknown, contractSize: number): Levels {
  if (!Array.isArray(raw)) {
    throw new MalformedFrameError(`Levels are not an array: ${raw}`);
  }
  const out: Levels = new Array(raw.length * 2);
  for (let i = 0; i < raw.length; i++) {
    const p = +raw[i][0];
    const s = +raw[i][1] * contractSize;
    if (p !== p || s !== s) {
      throw new MalformedFrameError(`Bad level ${raw[i]}`);
    }
    out[2 * i] = p;
    out[2 * i + 1] = s;
  }
  return out;
}

/**
 * A parser for Binance combined-stream frames (`{"stream","data"}`) or raw
 * stream frames: `depthUpdate`, `aggTrade`, `trade` and `forceOrder`. Other
 * events (bookTicker, kline) and subscription acks yield nothing.
 * @param exchange exchange id stamped on events.
 * @param instruments instruments keyed by upper-case exchange symbol.
 */
export function binanceParser(
  exchange: string,
  instruments: InstrumentTable,
): Parser {
  return {
    parse(frame: string, recvTs: number): MarketEvent[] {
      let msg: BinanceFrame;
      try {
        msg = JSON.parse(frame);
      } catch {
        throw new MalformedFrameError(
          `Frame is not JSON: ${frame.slice(0, 80)}`,
        );
      }
      if (msg === null || typeof msg !== "object") {
        throw new MalformedFrameError(
          `Frame is not an object: ${frame.slice(0, 80)}`,
        );
      }
      const d = (msg.data ?? msg) as BinanceEvent;
      if (typeof d.e !== "string") return []; // subscription ack {"result":null,"id":1}
      const sym = d.e === "forceOrder" ? d.o?.s : d.s;
      const inst = sym === undefined ? undefined : instruments.get(sym);
      if (inst === undefined) return [];
      const base = {
        exchange,
        exchangeSymbol: inst.exchangeSymbol,
        symbol: inst.symbol,
        market: inst.market,
      };
      const cs = inst.contractSize;
      switch (d.e) {
        case "depthUpdate":
          if (typeof d.U !== "number" || typeof d.u !== "number") {
            throw new MalformedFrameError(
              `depthUpdate without U/u: ${frame.slice(0, 80)}`,
            );
          }
          return [{
            type: "book_delta",
            ...base,
            exchangeTs: d.T ?? d.E,
            localTs: recvTs,
            first: d.U,
            last: d.u,
            prev: d.pu ?? -1,
            bids: binanceLevels(d.b, cs),
            asks: binanceLevels(d.a, cs),
            contractSize: cs,
          }];
        case "aggTrade":
        case "trade": {
          const raw = +d.q!;
          const price = +d.p!;
          if (raw !== raw || price !== price) {
            throw new MalformedFrameError(
              `Bad trade price/qty: ${frame.slice(0, 80)}`,
            );
          }
          return [{
            type: "trade",
            ...base,
            exchangeTs: d.T ?? d.E,
            localTs: recvTs,
            id: String(d.e === "aggTrade" ? d.a : d.t),
            price,
            size: raw * cs,
            rawSize: raw,
            // m: the buyer is the maker, so the taker sold.
            side: d.m ? "sell" : "buy",
          }];
        }
        case "forceOrder": {
          const o = d.o!;
          // Liquidation size is the filled quantity `z` at average price `ap`.
          const raw = +(o.z ?? o.q);
          const price = +(o.ap ?? o.p);
          return [{
            type: "liquidation",
            ...base,
            exchangeTs: o.T ?? d.E,
            localTs: recvTs,
            price,
            size: raw * cs,
            rawSize: raw,
            side: o.S === "BUY" ? "buy" : "sell",
          }];
        }
        default:
          return [];
      }
    },
  };
}

/**
 * Reads a REST depth snapshot (`GET /api/v3/depth`, `/fapi/v1/depth`).
 * @param exchange exchange id.
 * @param body response body `{lastUpdateId, bids, asks, E?, T?}`.
 * @param recvTs local receive time, ms.
 * @param inst the instrument.
 * @throws {MalformedFrameError} when the body has no lastUpdateId.
 */
export function binanceSnapshot(
  exchange: string,
  body: string,
  recvTs: number,
  inst: Instrument,
): BookSnapshot {
  let s: BinanceDepth;
  try {
    s = JSON.parse(body);
  } catch {
    throw new MalformedFrameError(`Snapshot is not JSON: ${body.slice(0, 80)}`);
  }
  if (typeof s?.lastUpdateId !== "number") {
    throw new MalformedFrameError(
      `Snapshot without lastUpdateId: ${body.slice(0, 80)}`,
    );
  }
  return {
    type: "book_snapshot",
    exchange,
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    exchangeTs: s.T ?? s.E ?? recvTs,
    localTs: recvTs,
    sequence: s.lastUpdateId,
    bids: binanceLevels(s.bids, inst.contractSize),
    asks: binanceLevels(s.asks, inst.contractSize),
    contractSize: inst.contractSize,
  };
}

/**
 * Builds a combined-stream URL.
 * @param origin e.g. `wss://stream.binance.com:9443`.
 * @param streams per-symbol stream suffixes, e.g. `["depth@100ms", "aggTrade"]`.
 * @param symbols exchange symbols.
 */
export function binanceStreamUrl(
  origin: string,
  streams: readonly string[],
  symbols: readonly string[],
): string {
  const names: string[] = [];
  for (const s of symbols) {
    for (const st of streams) names.push(`${s.toLowerCase()}@${st}`);
  }
  return `${origin}/stream?streams=${names.join("/")}`;
}

/** Parses a JSON metadata body or throws {@link MalformedFrameError}. */
export function parseJson<T>(body: string, what: string): T {
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new MalformedFrameError(`${what} is not JSON: ${body.slice(0, 80)}`);
  }
}

// ---- raw frame types ----

interface BinanceFrame {
  stream?: string;
  data?: unknown;
}

interface BinanceEvent {
  e?: string;
  E: number;
  T?: number;
  s?: string;
  U?: number;
  u?: number;
  pu?: number;
  b?: [string, string][];
  a?: [string, string][] | number;
  p?: string;
  q?: string;
  t?: number;
  m?: boolean;
  o?: {
    s: string;
    S: "BUY" | "SELL";
    q: string;
    p: string;
    ap?: string;
    z?: string;
    T?: number;
  };
}

interface BinanceDepth {
  lastUpdateId: number;
  E?: number;
  T?: number;
  bids: [string, string][];
  asks: [string, string][];
}
