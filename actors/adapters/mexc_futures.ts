/**
 * MEXC futures (USDT- and USDC-margined perpetual swaps, JSON WebSocket).
 * Docs: https://www.mexc.com/api-docs/futures/websocket-api
 * Book sync: https://www.mexc.com/api-docs/futures/websocket-api/incremental-order-book-maintenance-mechanism
 * REST: https://www.mexc.com/api-docs/futures/market-endpoints
 *
 * @module
 */

import { gunzipSync } from "node:zlib";
import type {
  BookSnapshot,
  Instrument,
  Levels,
  MarketEvent,
} from "../market/events.ts";
import {
  type Adapter,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
} from "./adapter.ts";
import {
  amountError,
  MAX_SIZE,
  parseJson,
  parseObject,
  priceValue,
  sequenceValue,
  sideValue,
  sizeValue,
  textStartsWith,
  timeValue,
  venueError,
} from "./_common.ts";

const REST = "https://contract.mexc.com";
const UTF8 = new TextDecoder();

/**
 * MEXC futures adapter: incremental depth (`sub.depth`, numbered by
 * `version`) synced to the REST snapshot, and deals. Sizes are contracts of
 * `contractSize` base units each (0.0001 BTC for BTC_USDT), converted to
 * base; `rawSize` keeps the contracts.
 */
export const mexcFuturesAdapter: Adapter = {
  id: "mexc-futures",
  docs: "https://www.mexc.com/api-docs/futures/websocket-api",
  restOrigin: REST,
  metadataUrls: [`${REST}/api/v1/contract/detail`],
  instruments(bodies: readonly string[]): Instrument[] {
    const info = parseJson<ContractDetail>(bodies[0], "Contract detail");
    if (!Array.isArray(info?.data)) {
      throw new MalformedFrameError(
        `Contract detail without data: ${bodies[0].slice(0, 80)}`,
      );
    }
    const out: Instrument[] = [];
    for (const c of info.data) {
      // Coin-margined contracts (settled in the base coin) are left out: the
      // docs do not say in which unit their contractSize is, and a wrong
      // guess would misstate every size. Every other contract is linear.
      if (c.settleCoin === c.baseCoin) continue;
      // futureType 1 is a perpetual swap, the only kind MEXC lists.
      if (c.futureType !== undefined && c.futureType !== 1) continue;
      if (!(c.contractSize > 0)) {
        throw new MalformedFrameError(
          `Bad contractSize ${c.contractSize} for ${c.symbol}`,
        );
      }
      out.push({
        exchange: "mexc-futures",
        exchangeSymbol: c.symbol,
        symbol: `${c.baseCoin}-${c.quoteCoin}`,
        base: c.baseCoin,
        quote: c.quoteCoin,
        market: "perpetual",
        contractSize: c.contractSize,
      });
    }
    return out;
  },
  url: () => "wss://contract.mexc.com/edge",
  subscribe(symbols) {
    const out: string[] = [];
    for (const symbol of symbols) {
      // compress: consecutive versions may be merged into one push that
      // names its range with begin..end (see the parser). gzip: false asks
      // for plain-text pushes instead of gzip binary frames.
      out.push(
        JSON.stringify({
          method: "sub.depth",
          param: { symbol, compress: true },
          gzip: false,
        }),
        JSON.stringify({ method: "sub.deal", param: { symbol }, gzip: false }),
      );
    }
    return out;
  },
  // The server closes a connection that sends no ping for a minute; the docs
  // ask for one every 10-20 s.
  keepalive: { frame: `{"method":"ping"}`, intervalMs: 15_000 },
  // The answer to that ping, `{"channel":"pong","data":1587453241453}`
  // (https://www.mexc.com/api-docs/futures/websocket-api), is the only
  // chatter. It comes as text (we subscribe with gzip: false).
  isHeartbeat: (frame) => textStartsWith(frame, '{"channel":"pong"'),
  parser: (instruments) => mexcFuturesParser(instruments),
  book: {
    // Discard pushes up to the snapshot's version V; the first applied one
    // must cover V + 1; then each push starts at the previous end + 1.
    sync: { kind: "rest", link: "next", align: 1 },
    snapshotUrl: (symbol) =>
      `${REST}/api/v1/contract/depth/${symbol}?limit=1000`,
    parseSnapshot(body, recvTs, inst): BookSnapshot {
      const r = parseJson<RestDepth>(body, "Depth snapshot");
      const d = r?.data;
      const sequence = sequenceValue(d?.version);
      if (sequence !== sequence) {
        throw new MalformedFrameError(
          `Snapshot of ${inst.exchangeSymbol} without data.version: ${
            body.slice(0, 80)
          }`,
          inst.exchangeSymbol,
        );
      }
      return {
        type: "book_snapshot",
        exchange: "mexc-futures",
        exchangeSymbol: inst.exchangeSymbol,
        symbol: inst.symbol,
        market: inst.market,
        exchangeTs: timeValue(d!.timestamp, recvTs),
        localTs: recvTs,
        sequence,
        bids: contractLevels(d!.bids, inst),
        asks: contractLevels(d!.asks, inst),
        contractSize: inst.contractSize,
      };
    },
  },
};

/** A parser for one MEXC futures connection. */
function mexcFuturesParser(instruments: InstrumentTable): Parser {
  return {
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      // Pushes are gzip binary frames unless subscribed with gzip: false.
      let text: string;
      if (typeof frame === "string") text = frame;
      else {
        try {
          text = UTF8.decode(
            frame[0] === 0x1f && frame[1] === 0x8b ? gunzipSync(frame) : frame,
          );
        } catch (e) {
          throw new MalformedFrameError(
            `Binary frame is not gzip: ${(e as Error).message}`,
          );
        }
      }
      const msg = parseObject<FuturesFrame>(text);
      // A refused subscription: `{"channel":"rs.error","data":"Contract
      // doesn't exist!","ts":…}` (https://www.mexc.com/api-docs/futures/websocket-api,
      // "subscribe failed response").
      if (msg.channel === "rs.error") {
        throw venueError(text, { message: msg.data });
      }
      // pong, rs.sub.* acks, tickers and other channels: nothing.
      if (msg.channel !== "push.depth" && msg.channel !== "push.deal") {
        return [];
      }
      const inst = msg.symbol === undefined
        ? undefined
        : instruments.get(msg.symbol);
      if (inst === undefined) return [];
      const cs = inst.contractSize;
      if (msg.channel === "push.depth") {
        const d = msg.data as DepthData;
        // A compressed push covers versions begin..end (version == end); a
        // plain one covers just its version.
        const last = sequenceValue(d?.end ?? d?.version);
        const first = d?.begin === undefined ? last : sequenceValue(d.begin);
        if (!(first <= last)) {
          throw new MalformedFrameError(
            `Bad version in push.depth of ${msg.symbol}: ${text.slice(0, 80)}`,
            msg.symbol,
          );
        }
        return [{
          type: "book_delta",
          exchange: "mexc-futures",
          exchangeSymbol: inst.exchangeSymbol,
          symbol: inst.symbol,
          market: inst.market,
          exchangeTs: timeValue(msg.ts, recvTs),
          localTs: recvTs,
          first,
          last,
          prev: -1,
          bids: contractLevels(d.bids, inst),
          asks: contractLevels(d.asks, inst),
          contractSize: cs,
        }];
      }
      // Deals come as one object, or (newer pushes) as a list of them.
      const data = msg.data as Deal | Deal[];
      const deals = Array.isArray(data) ? data : [data];
      const out: MarketEvent[] = new Array(deals.length);
      for (let i = 0; i < deals.length; i++) {
        const t = deals[i];
        // JSON numbers: contracts `v` at price `p`.
        const raw = typeof t?.v === "number" ? sizeValue(t.v) : NaN;
        const price = typeof t?.p === "number" ? priceValue(t.p) : NaN;
        const size = raw * cs;
        if (price !== price || !(size <= MAX_SIZE)) {
          throw amountError("deal", t?.p, t?.v, { symbol: msg.symbol, inst });
        }
        // T is the taker's side: 1 buy, 2 sell.
        const side = sideValue(t.T, { buy: 1, sell: 2 });
        if (side === undefined) {
          throw new MalformedFrameError(
            `Bad deal side T ${JSON.stringify(t.T)} of ${msg.symbol}`,
          );
        }
        out[i] = {
          type: "trade",
          exchange: "mexc-futures",
          exchangeSymbol: inst.exchangeSymbol,
          symbol: inst.symbol,
          market: inst.market,
          exchangeTs: timeValue(t.t, timeValue(msg.ts, recvTs)),
          localTs: recvTs,
          id: t.i === undefined ? "" : String(t.i),
          price,
          size,
          rawSize: raw,
          side,
        };
      }
      return out;
    },
  };
}

/**
 * Depth levels `[[price, contracts, orderCount], …]` as flat `[price, size]`
 * in base. The docs: "[411.8, 10, 1]: 411.8 is the price, 10 the number of
 * contracts at this price, 1 the number of orders". 0 contracts removes the
 * level.
 */
function contractLevels(raw: unknown, inst: Instrument): Levels {
  const sym = inst.exchangeSymbol;
  if (raw == null) return [];
  if (!Array.isArray(raw)) {
    throw new MalformedFrameError(
      `Levels of ${sym} are not an array: ${raw}`,
      sym,
    );
  }
  const cs = inst.contractSize;
  const out: Levels = new Array(raw.length * 2);
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i];
    // JSON numbers only, as the venue sends them.
    const p = Array.isArray(l) && typeof l[0] === "number"
      ? priceValue(l[0])
      : NaN;
    const v = Array.isArray(l) && typeof l[1] === "number"
      ? sizeValue(l[1])
      : NaN;
    const s = v * cs;
    if (p !== p || !(s <= MAX_SIZE)) {
      throw Array.isArray(l)
        ? amountError("level", l[0], l[1], {
          symbol: sym,
          book: true,
          at: i,
          inst,
        })
        : new MalformedFrameError(
          `Bad level ${JSON.stringify(l)} at index ${i} of ${sym}`,
          sym,
        );
    }
    out[2 * i] = p;
    out[2 * i + 1] = s;
  }
  return out;
}

// ---- raw frame types ----

interface FuturesFrame {
  /** push.depth, push.deal, push.ticker, pong, rs.sub.depth, rs.error, … */
  channel?: string;
  symbol?: string;
  /** Push time, ms. */
  ts?: number;
  data?: unknown;
}

interface DepthData {
  /** `[price, contracts, orderCount]`. */
  asks?: [number, number, number][];
  bids?: [number, number, number][];
  version: number;
  /** First and last version a compressed push covers. */
  begin?: number;
  end?: number;
}

interface Deal {
  p: number;
  /** Contracts. */
  v: number;
  /** Taker side: 1 buy, 2 sell. */
  T: number;
  /** Opens a position: 1 yes, 2 no (3 in newer pushes). */
  O?: number;
  /** Self-trade: 1 yes, 2 no. */
  M?: number;
  /** Trade time, ms. */
  t?: number;
  /** Trade id (newer pushes). */
  i?: string;
}

interface ContractDetail {
  success?: boolean;
  data: {
    symbol: string;
    baseCoin: string;
    quoteCoin: string;
    settleCoin: string;
    /** Base units per contract. */
    contractSize: number;
    /** 1: perpetual. */
    futureType?: number;
    /** 0 enabled, 1 delivery, 2 completed, 3 offline, 4 pause. */
    state?: number;
  }[];
}

interface RestDepth {
  success?: boolean;
  data?: {
    asks: [number, number, number][];
    bids: [number, number, number][];
    version: number;
    timestamp?: number;
  };
}
