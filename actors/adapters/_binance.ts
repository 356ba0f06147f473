/**
 * Frame parsing shared by Binance spot, Binance.US and Binance USD-M/COIN-M,
 * and the adapter shape shared by Binance spot and Binance.US.
 * Spot: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 * Binance.US: https://docs.binance.us/
 * USD-M: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
 * COIN-M: https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams
 *
 * @module
 */

import type {
  BookSnapshot,
  Instrument,
  MarketEvent,
} from "../market/events.ts";
import {
  type Adapter,
  type ColumnarDelta,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
  reusedDelta,
} from "./adapter.ts";
import {
  amountError,
  baseLevels,
  MAX_SIZE,
  noHeartbeats,
  parseJson,
  parseObject,
  priceValue,
  sequenceValue,
  sideValue,
  sizeValue,
  timeValue,
  toBase,
  venueError,
} from "./_common.ts";
import { toBaseSide } from "./_scan.ts";
import { BinanceDepthScanner } from "./binance_scan.ts";

/** Spread into events of inverse instruments. */
const INVERSE = { inverse: true } as const;

/**
 * A parser for Binance combined-stream frames (`{"stream","data"}`) or raw
 * stream frames: `depthUpdate`, `aggTrade`, `trade` and `forceOrder`. Other
 * events (bookTicker, kline) and subscription acks yield nothing. Contract
 * quantities are converted with the instrument's `contractSize` (inverse
 * instruments divide by the price as well).
 * @param exchange exchange id stamped on events.
 * @param instruments instruments keyed by upper-case exchange symbol.
 * @returns a parser for one connection.
 * @throws {never} building the parser does not throw; `parse` throws
 *   {@link MalformedFrameError} for unreadable frames and {@link VenueError}
 *   for the venue's error replies.
 * @example
 * ```ts
 * const p = binanceParser("binance", new Map([["BTCUSDT", btcusdt]]));
 * p.parse(frame, Date.now());
 * ```
 */
export function binanceParser(
  exchange: string,
  instruments: InstrumentTable,
): Parser {
  const scanner = new BinanceDepthScanner();
  const delta = reusedDelta(scanner.bids, scanner.asks);
  return {
    // The `depthUpdate` case of `parse`, read by the scanner: the same
    // instrument lookup, times, ids and levels (see `baseLevels`).
    scanBook(frame: string | Uint8Array, recvTs: number): ColumnarDelta | null {
      if (typeof frame !== "string" || !scanner.scan(frame)) return null;
      const inst = instruments.get(scanner.symbol);
      if (inst === undefined) return null;
      // The scanner read prices and quantities as `priceValue` and
      // `sizeValue` do; contracts still need converting to base.
      if (
        (inst.contractSize !== 1 || inst.inverse === true) &&
        !(toBaseSide(scanner.bids, inst) && toBaseSide(scanner.asks, inst))
      ) return null;
      delta.inst = inst;
      delta.exchangeTs = timeValue(
        scanner.transactionTime,
        timeValue(scanner.eventTime, recvTs),
      );
      delta.localTs = recvTs;
      delta.first = scanner.first;
      delta.last = scanner.last;
      delta.prev = scanner.prev === scanner.prev ? scanner.prev : -1;
      return delta;
    },
    parse(frame: string, recvTs: number): MarketEvent[] {
      const msg = parseObject<BinanceFrame>(frame);
      const d = (msg.data ?? msg) as BinanceEvent;
      if (typeof d.e !== "string") {
        // A request the venue refused: `{"error":{"code":2,"msg":…},"id":1}`
        // on the wire, `{"code":2,"msg":…}` as the docs' "Error Messages"
        // table writes it (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#error-messages,
        // the same table on the USD-M and COIN-M "Live Subscribing" pages).
        const err = msg.error ?? msg;
        if (err !== null && typeof err === "object" && "msg" in err) {
          throw venueError(frame, { message: err.msg });
        }
        return []; // subscription ack {"result":null,"id":1}
      }
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
      const inv = inst.inverse === true;
      // Event time: the transaction time T (futures), else the event time E.
      const exchangeTs = timeValue(d.T, timeValue(d.E, recvTs));
      switch (d.e) {
        case "depthUpdate": {
          const first = sequenceValue(d.U);
          const last = sequenceValue(d.u);
          // pu: USD-M and COIN-M only.
          const prev = d.pu === undefined ? -1 : sequenceValue(d.pu);
          if (!(first <= last) || prev !== prev) {
            throw new MalformedFrameError(
              `Bad depthUpdate ids U/u/pu ${d.U}/${d.u}/${d.pu} of ${sym}`,
              sym,
            );
          }
          return [{
            type: "book_delta",
            ...base,
            exchangeTs,
            localTs: recvTs,
            first,
            last,
            prev,
            bids: baseLevels(d.b, inst),
            asks: baseLevels(d.a, inst),
            contractSize: cs,
            ...(inv ? INVERSE : undefined),
          }];
        }
        case "aggTrade":
        case "trade": {
          // Futures `trade` events also report off-book fills (auto-deleverage,
          // insurance fund) with X != "MARKET": they did not cross the book.
          if (d.X === "ADL" || d.X === "INSURANCE_FUND") return [];
          const raw = sizeValue(d.q);
          const price = priceValue(d.p);
          const size = toBase(raw, price, inst);
          if (!(size <= MAX_SIZE) || price !== price) {
            throw amountError(d.e, d.p, d.q, { symbol: sym, inst });
          }
          // m: the buyer is the maker, so the taker sold.
          const side = sideValue(d.m, { buy: false, sell: true });
          if (side === undefined) {
            throw new MalformedFrameError(
              `Bad ${d.e} m ${JSON.stringify(d.m)} of ${sym}`,
            );
          }
          // aggTrade ids are `a`, trade ids `t`: numbers. A frame without one
          // is unreadable, not a trade with id "undefined".
          const id = d.e === "aggTrade" ? d.a : d.t;
          if (typeof id !== "number") {
            throw new MalformedFrameError(
              `Bad trade id ${
                d.e === "aggTrade" ? "a" : "t"
              } of ${d.e} ${sym}: ${JSON.stringify(id)}`,
            );
          }
          return [{
            type: "trade",
            ...base,
            exchangeTs,
            localTs: recvTs,
            id: String(id),
            price,
            size,
            rawSize: raw,
            side,
          }];
        }
        case "forceOrder": {
          const o = d.o!;
          // Liquidation size is the filled quantity `z` at average price `ap`.
          const q = o.z ?? o.q;
          const p = o.ap ?? o.p;
          const raw = sizeValue(q);
          const price = priceValue(p);
          const size = toBase(raw, price, inst);
          if (!(size <= MAX_SIZE) || price !== price) {
            throw amountError("forceOrder", p, q, { symbol: sym, inst });
          }
          const side = sideValue(o.S, { buy: "BUY", sell: "SELL" });
          if (side === undefined) {
            throw new MalformedFrameError(
              `Bad forceOrder side ${JSON.stringify(o.S)} of ${sym}`,
            );
          }
          return [{
            type: "liquidation",
            ...base,
            exchangeTs: timeValue(o.T, timeValue(d.E, recvTs)),
            localTs: recvTs,
            price,
            size,
            rawSize: raw,
            side,
          }];
        }
        default:
          return [];
      }
    },
  };
}

/**
 * Reads a REST depth snapshot (`GET /api/v3/depth`, `/fapi/v1/depth`,
 * `/dapi/v1/depth`).
 * @param exchange exchange id.
 * @param body response body `{lastUpdateId, bids, asks, E?, T?}`.
 * @param recvTs local receive time, ms.
 * @param inst the instrument.
 * @returns the snapshot at `lastUpdateId`, sizes in base.
 * @throws {MalformedFrameError} when the body has no lastUpdateId.
 * @example
 * ```ts
 * binanceSnapshot("binance", body, Date.now(), btcusdt).sequence;
 * ```
 */
export function binanceSnapshot(
  exchange: string,
  body: string,
  recvTs: number,
  inst: Instrument,
): BookSnapshot {
  const s = parseJson<BinanceDepth>(body, "Snapshot");
  const sequence = sequenceValue(s?.lastUpdateId);
  if (sequence !== sequence) {
    throw new MalformedFrameError(
      `Snapshot of ${inst.exchangeSymbol} without lastUpdateId: ${
        body.slice(0, 80)
      }`,
      inst.exchangeSymbol,
    );
  }
  return {
    type: "book_snapshot",
    exchange,
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    exchangeTs: timeValue(s.T, timeValue(s.E, recvTs)),
    localTs: recvTs,
    sequence,
    bids: baseLevels(s.bids, inst),
    asks: baseLevels(s.asks, inst),
    contractSize: inst.contractSize,
    ...(inst.inverse ? INVERSE : undefined),
  };
}

/**
 * Builds a combined-stream URL.
 * @param origin e.g. `wss://stream.binance.com:9443`.
 * @param streams per-symbol stream suffixes, e.g. `["depth@100ms", "aggTrade"]`.
 * @param symbols exchange symbols.
 * @returns `origin/stream?streams=sym@stream/…`.
 * @throws {never} does not throw.
 * @example
 * ```ts
 * binanceStreamUrl("wss://stream.binance.com:9443", ["aggTrade"], ["BTCUSDT"]);
 * // "wss://stream.binance.com:9443/stream?streams=btcusdt@aggTrade"
 * ```
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

/** Options for {@link binanceSpotAdapter}. */
export interface BinanceSpotOptions {
  /** Exchange id, e.g. `binance`, `binance-us`. */
  readonly id: string;
  /** Official API documentation. */
  readonly docs: string;
  /** REST origin, e.g. `https://api.binance.com`. */
  readonly rest: string;
  /** WebSocket origin, e.g. `wss://stream.binance.com:9443`. */
  readonly ws: string;
}

/**
 * A Binance spot-style adapter (Binance spot, Binance.US): `/api/v3`
 * exchangeInfo and depth, 100 ms depth diffs synced to the REST snapshot under
 * the spot rule, and aggTrades, over one combined-stream URL.
 * @param options the venue's id, docs and origins.
 * @returns the adapter.
 * @throws {never} does not throw.
 * @example
 * ```ts
 * const a = binanceSpotAdapter({
 *   id: "binance-us",
 *   docs: "https://docs.binance.us/",
 *   rest: "https://api.binance.us",
 *   ws: "wss://stream.binance.us:9443",
 * });
 * ```
 */
export function binanceSpotAdapter(options: BinanceSpotOptions): Adapter {
  const { id, docs, rest, ws } = options;
  return {
    id,
    docs,
    restOrigin: rest,
    metadataUrls: [`${rest}/api/v3/exchangeInfo`],
    instruments(bodies: readonly string[]): Instrument[] {
      const info = parseJson<SpotExchangeInfo>(bodies[0], "exchangeInfo");
      return info.symbols.map((s) => ({
        exchange: id,
        exchangeSymbol: s.symbol,
        symbol: `${s.baseAsset}-${s.quoteAsset}`,
        base: s.baseAsset,
        quote: s.quoteAsset,
        market: "spot",
        contractSize: 1,
      }));
    },
    url: (symbols) =>
      binanceStreamUrl(ws, ["depth@100ms", "aggTrade"], symbols),
    // Streams are named in the URL; nothing to send.
    subscribe: () => [],
    // Binance pings with WebSocket control frames: no heartbeat frames.
    isHeartbeat: noHeartbeats,
    // Binance closes every connection after 24 h.
    maxConnectionAgeMs: 23 * 3600_000,
    // At most 1024 streams per connection; two per symbol. Fewer keep the
    // combined-stream URL short.
    maxSymbolsPerConnection: 200,
    parser: (instruments) => binanceParser(id, instruments),
    book: {
      // First diff: U <= lastUpdateId + 1 <= u; then U == previous u + 1.
      sync: { kind: "rest", link: "next", align: 1 },
      snapshotUrl: (symbol) =>
        `${rest}/api/v3/depth?symbol=${symbol}&limit=1000`,
      parseSnapshot: (body, recvTs, inst) =>
        binanceSnapshot(id, body, recvTs, inst),
    },
  };
}

// ---- raw frame types ----

interface BinanceFrame {
  stream?: string;
  data?: unknown;
  /** A refused request (wire form). */
  error?: { code?: number; msg?: string } | null;
  /** A refused request (as the docs' error table writes it). */
  code?: number;
  msg?: string;
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
  /** Trade type on futures `trade` events: MARKET, ADL, INSURANCE_FUND, NA. */
  X?: string;
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

interface SpotExchangeInfo {
  symbols: { symbol: string; baseAsset: string; quoteAsset: string }[];
}

interface BinanceDepth {
  lastUpdateId: number;
  E?: number;
  T?: number;
  bids: [string, string][];
  asks: [string, string][];
}
